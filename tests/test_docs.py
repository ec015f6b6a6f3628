"""The documentation a user of the repository reads stays true to the code.

- README's CLI table is the `stockline` parser: every command it shows exists with the
  options it shows, and every command of the parser is in it; any `stockline ...` command
  named in README.md or docs/*.md exists.
- README's HTTP API tables are the app's OpenAPI document: every route they list exists,
  every route is listed, each under the heading of the audience its sign-in dependency
  admits; any `METHOD /api/...` named in the docs exists.
- Every repository path, `stockline.*` module or attribute, and `stockline_*()` SQL function
  that README.md and docs/*.md name exists.

Nothing here needs a database: the app is built, never started.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

import stockline
from stockline.app import create_app
from stockline.auth import dependencies as auth
from stockline.cli import build_parser
from stockline.config import Settings

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md"))]
DOC_IDS = [str(path.relative_to(REPO)) for path in DOCUMENTS]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


# --- reading markdown ------------------------------------------------------------------------

def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def code_spans(text: str) -> list[str]:
    """Inline code spans outside fenced blocks (a span may wrap onto the next line)."""
    return [span.replace("\n", " ") for span in CODE_SPAN.findall(FENCE.sub("", text))]


def code_texts(text: str) -> list[str]:
    """Every piece of code a document shows: inline spans, and each line of its fenced blocks."""
    return code_spans(text) + [line for block in fenced_blocks(text) for line in block.splitlines()]


def section(text: str, title: str, level: int = 2) -> str:
    """The body of the heading `title` (at `level`), up to the next heading of that level or above."""
    match = re.search(rf"^{'#' * level} {re.escape(title)}\s*$", text, re.MULTILINE)
    assert match, f"README has no {'#' * level} {title} heading"
    end = re.search(rf"^#{{1,{level}}} ", text[match.end():], re.MULTILINE)
    return text[match.end(): match.end() + end.start() if end else len(text)]


def subsections(text: str) -> dict[str, str]:
    parts = re.split(r"^### (.+?)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def first_cells(text: str) -> list[str]:
    """The first cell of every body row of the markdown tables in `text`."""
    cells, in_body = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_body = False
        elif re.match(r"^\|\s*:?-{3,}", line):
            in_body = True
        elif in_body:
            cells.append(line.split("|")[1])
    return cells


# --- the CLI -----------------------------------------------------------------------------------

def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    children = subcommands(parser)
    if not children:
        yield path
    for name, child in children.items():
        yield from leaf_commands(child, (*path, name))


def walk(words: list[str]) -> tuple[tuple[str, ...], argparse.ArgumentParser]:
    """Follow command words from the top parser; stop at a command that takes no subcommand.
    A word that is not a subcommand where one is expected fails the test."""
    parser, path = build_parser(), ()
    for word in words:
        children = subcommands(parser)
        if not children:
            break
        assert word in children, f"`stockline {' '.join((*path, word))}`: no such command " \
                                 f"(choices: {', '.join(children)})"
        parser, path = children[word], (*path, word)
    return path, parser


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


COMMAND = re.compile(r"(?<![\w.-])stockline((?:[ \t]+[a-z][a-z-]*(?![\w/.]))+)")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
COMMAND_END = re.compile(r"#|&&|\|\||;|\||\)")


def commands_named(code: str) -> Iterator[tuple[list[str], list[str]]]:
    """(command words, options) of every `stockline <command>` in a piece of code."""
    for match in COMMAND.finditer(code):
        rest = COMMAND_END.split(code[match.end():], maxsplit=1)[0]
        yield match.group(1).split(), OPTION.findall(match.group(1) + rest)


def cli_table_rows() -> list[list[str]]:
    rows = [[span for span in code_spans(cell) if span.startswith("stockline ")]
            for cell in first_cells(section(text_of(README), "CLI"))]
    assert rows, "README's CLI section has no command table"
    return rows


def command_words(span: str) -> list[str]:
    """`stockline db restore FILE [--force]` -> ["db", "restore"]."""
    return re.match(r"stockline((?: [a-z][a-z-]*)*)", span).group(1).split()


def test_every_command_in_the_readme_cli_table_exists_with_its_options() -> None:
    for row in cli_table_rows():
        assert row, "a row of README's CLI table names no `stockline ...` command"
        for span in row:
            parser = walk(command_words(span))[1]
            assert not subcommands(parser), f"`{span}` names a group, not a command"
            assert set(OPTION.findall(span)) <= options_of(parser), \
                f"`{span}`: no option {set(OPTION.findall(span)) - options_of(parser)}"


def test_every_cli_command_is_in_the_readme_cli_table() -> None:
    listed = set()
    for row in cli_table_rows():
        for span in row:
            listed.add(walk(command_words(span))[0])
    commands = set(leaf_commands(build_parser()))
    assert commands - listed == set(), "commands missing from README's CLI table: " + ", ".join(
        "stockline " + " ".join(path) for path in sorted(commands - listed))


def test_every_cli_command_has_an_example_in_its_help() -> None:
    """README: "every subcommand has `--help` with an example"."""
    for path in leaf_commands(build_parser()):
        parser = walk(list(path))[1]
        assert "example:" in (parser.description or ""), f"`stockline {' '.join(path)} --help` has no example"


@pytest.mark.parametrize("document", DOCUMENTS, ids=DOC_IDS)
def test_every_stockline_command_the_docs_name_exists(document: Path) -> None:
    for code in code_texts(text_of(document)):
        for words, options in commands_named(code):
            path, parser = walk(words)
            assert path, f"{document.name}: `{code}` names no command"
            assert set(options) <= options_of(parser), \
                f"{document.name}: `{code}`: `stockline {' '.join(path)}` has no {set(options) - options_of(parser)}"


# --- the HTTP API ------------------------------------------------------------------------------

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTE = re.compile(rf"^((?:{'|'.join(HTTP_METHODS)})(?:/(?:{'|'.join(HTTP_METHODS)}))*) (/[^\s?\[]*)")
# README's headings in the HTTP API section -> the audience a route's sign-in dependency admits
AUDIENCES = {"Anyone": "anyone", "Any signed-in user": "signed in", "Customers' users": "customers",
             "Staff and admins": "staff", "Admins only": "admins"}


def dependency_of(alias: Any) -> Any:
    """The function behind an audience type such as `auth.StaffUser` (Annotated[..., Depends(f)])."""
    return next(arg.dependency for arg in get_args(alias)[1:] if hasattr(arg, "dependency"))


# narrowest first: CustomerUser, StaffUser and AdminUser each depend on AnyUser's function
DEPENDENCY_AUDIENCES = ((dependency_of(auth.AdminUser), "admins"), (dependency_of(auth.StaffUser), "staff"),
                        (dependency_of(auth.CustomerUser), "customers"), (dependency_of(auth.AnyUser), "signed in"),
                        (dependency_of(auth.OptionalUser), "anyone"))

Route = tuple[str, str]


def routes_in(span: str) -> set[Route]:
    match = ROUTE.match(span)
    return {(method, match.group(2)) for method in match.group(1).split("/")} if match else set()


@cache
def api_routes() -> frozenset[Route]:
    """(method, path) of every operation in the app's OpenAPI document."""
    app = create_app(Settings(env="test", secret_key="docs-test-secret-key-long-enough-for-hs256"))
    return frozenset((method.upper(), path) for path, operations in app.openapi()["paths"].items()
                     for method in operations if method.upper() in HTTP_METHODS)


def _dependency_calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependency_calls(sub)


@cache
def route_audiences() -> dict[Route, str]:
    """The audience of every API route, from the sign-in dependency it declares (none:
    anyone). Found in the routers of every stockline module."""
    audiences: dict[Route, str] = {}
    for module_info in pkgutil.walk_packages(stockline.__path__, "stockline."):
        module = importlib.import_module(module_info.name)
        for router in (value for value in vars(module).values() if isinstance(value, APIRouter)):
            for route in router.routes:
                if not isinstance(route, APIRoute):
                    continue
                calls = set(_dependency_calls(route.dependant))
                audience = next((name for dependency, name in DEPENDENCY_AUDIENCES if dependency in calls),
                                "anyone")
                for method in route.methods:
                    audiences[(method, route.path)] = audience
    return audiences


def readme_route_table() -> dict[str, list[Route]]:
    """{audience heading: the routes its tables list, in order}."""
    tables = subsections(section(text_of(README), "HTTP API"))
    assert tables, "README's HTTP API section has no audience headings"
    listed: dict[str, list[Route]] = {}
    for heading, body in tables.items():
        assert heading in AUDIENCES, f"README's HTTP API heading {heading!r} is not one of {list(AUDIENCES)}"
        listed[heading] = []
        for cell in first_cells(body):
            routes = [route for span in code_spans(cell) for route in sorted(routes_in(span))]
            assert routes, f"a row under {heading!r} names no route: {cell.strip()}"
            listed[heading] += routes
    return listed


def test_every_route_in_the_readme_exists() -> None:
    listed = [route for routes in readme_route_table().values() for route in routes]
    missing = sorted(set(listed) - api_routes())
    assert not missing, f"README lists routes the app does not serve: {missing}"
    twice = sorted({route for route in listed if listed.count(route) > 1})
    assert not twice, f"README lists these routes more than once: {twice}"


def test_every_api_route_is_in_the_readme() -> None:
    listed = {route for routes in readme_route_table().values() for route in routes}
    unlisted = sorted(api_routes() - listed)
    assert not unlisted, f"routes missing from README's HTTP API tables: {unlisted}"


def test_each_route_is_listed_under_its_audience() -> None:
    audiences = route_audiences()
    assert api_routes() <= audiences.keys(), sorted(api_routes() - audiences.keys())
    wrong = [f"{method} {path}: listed under {heading!r}, but its dependency admits {audiences[(method, path)]}"
             for heading, routes in readme_route_table().items() for method, path in routes
             if (method, path) in audiences and audiences[(method, path)] != AUDIENCES[heading]]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("document", DOCUMENTS, ids=DOC_IDS)
def test_every_api_route_the_docs_name_exists(document: Path) -> None:
    named = {route for span in code_spans(text_of(document)) for route in routes_in(span)
             if route[1].startswith("/api/") or route[1] in ("/health", "/ready", "/metrics")}
    assert not named - api_routes(), f"{document.name} names routes the app does not serve: " \
                                     f"{sorted(named - api_routes())}"


# --- paths, modules and SQL functions ----------------------------------------------------------

# a repository path: it starts with a tracked top-level folder (`stockline/...` is short for
# src/stockline/...); one followed by a placeholder (`bench/results/<timestamp>/`) is skipped
REPO_PATH = re.compile(r"(?<![\w./$-])((?:\.ci|bench|db|docs|scripts|src|tests|stockline)/[\w./*-]*+)(?![<${])")
MODULE = re.compile(r"^stockline(?:\.\w+)+$")
SQL_FUNCTION = re.compile(r"^(stockline_\w+)\(\)$")


def repository_paths(text: str) -> set[str]:
    return {match.rstrip(".") for code in code_texts(text) for match in REPO_PATH.findall(code)}


def exists(path: str) -> bool:
    if path.startswith("stockline/"):
        path = "src/" + path
    return any(REPO.glob(path)) if "*" in path else (REPO / path).exists()


def resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            value = importlib.import_module(name)
            for attribute in parts[cut:]:
                if not hasattr(value, attribute):
                    return False
                value = getattr(value, attribute)
            return True
    return False


@pytest.mark.parametrize("document", DOCUMENTS, ids=DOC_IDS)
def test_every_repository_path_the_docs_name_exists(document: Path) -> None:
    text = text_of(document)
    paths = repository_paths(text)
    assert document != README or paths, "README names no repository path: is the pattern broken?"
    missing = sorted(path for path in paths if not exists(path))
    links = [link.split("#")[0] for link in LINK.findall(text)
             if not re.match(r"^[a-z]+:|^#", link)]
    missing += [link for link in links if not (document.parent / link).exists()]
    assert not missing, f"{document.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=DOC_IDS)
def test_every_module_and_sql_function_the_docs_name_exists(document: Path) -> None:
    spans = code_spans(text_of(document))
    modules = [span for span in spans if MODULE.match(span)]
    assert not [name for name in modules if not resolves(name)], \
        f"{document.name} names modules or attributes that do not exist: " \
        f"{[name for name in modules if not resolves(name)]}"
    schema = text_of(REPO / "db" / "schema.sql")
    functions = {match.group(1) for span in spans if (match := SQL_FUNCTION.match(span))}
    undefined = sorted(name for name in functions if f"FUNCTION {name}(" not in schema)
    assert not undefined, f"{document.name} names SQL functions db/schema.sql does not define: {undefined}"
