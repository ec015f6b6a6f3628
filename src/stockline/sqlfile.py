"""Named SQL blocks from `.sql` files.

A file holds queries under headers like

    -- name: ledger_mismatches
    -- Batches whose quantity_on_hand differs from the sum of their movements.
    SELECT ...

Parameters are psycopg named placeholders (`%(sku_id)s`). Each block can be pasted into
psql and EXPLAINed as it is. Files are parsed once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_HEADER = re.compile(r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    sql: str


class QueryFile(dict[str, Query]):
    """The queries of one file, by name; a missing name is a KeyError naming the file."""

    def __init__(self, path: Path, queries: dict[str, Query]) -> None:
        super().__init__(queries)
        self.path = path

    def __missing__(self, name: str) -> Query:
        raise KeyError(f"no query named {name!r} in {self.path}")


def parse(text: str, path: Path) -> QueryFile:
    queries: dict[str, Query] = {}
    headers = list(_HEADER.finditer(text))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body_lines = text[header.end():end].strip().splitlines()
        description_lines = []
        while body_lines and body_lines[0].startswith("--"):
            description_lines.append(body_lines.pop(0).lstrip("-").strip())
        sql = "\n".join(body_lines).strip().rstrip(";").strip()
        name = header.group("name")
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in {path}")
        if not sql:
            raise ValueError(f"query {name!r} in {path} has no SQL")
        queries[name] = Query(name, " ".join(description_lines), sql)
    return QueryFile(path, queries)


@cache
def load(path: Path) -> QueryFile:
    return parse(path.read_text(encoding="utf-8"), path)


def queries_beside(module_file: str, filename: str = "queries.sql") -> QueryFile:
    """The query file next to a module: `queries_beside(__file__)`."""
    return load(Path(module_file).with_name(filename))
