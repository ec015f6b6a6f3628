"""`stockline db backup` / `stockline db restore`: pg_dump / pg_restore (custom format) of
the database in use.

Which binaries: a system pg_dump / pg_restore (on PATH or in /usr/lib/postgresql/*/bin)
whose major version is at least the one needed, the lowest such (closest to the server, so
the SQL it sends is SQL the server speaks); otherwise the ones shipped with the embedded
server (the pgserver wheel). pg_dump needs major >= the server's; pg_restore needs major >=
the server's and >= the pg_dump that wrote the archive (older pg_restore cannot read a
newer archive's header).

A backup is written next to its final name and renamed into place only when pg_dump
succeeded, so a failed backup never replaces a good one. A restore is one transaction
(`--single-transaction --exit-on-error`): it happens whole or not at all. It refuses a
database that already holds Stockline rows unless forced; afterwards db/schema.sql is
applied (it is idempotent, and brings an older backup up to the current schema) and the
tables analysed.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockline import db
from stockline.errors import StocklineError

SYSTEM_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_DUMPED_BY = re.compile(r"Dumped by pg_dump version:\s*(\d+)")
_DUMPED_FROM = re.compile(r"Dumped from database version:\s*(\d+)")


class RestoreRefused(StocklineError):
    """The target database holds Stockline data and --force was not given (exit 2)."""


@dataclass(frozen=True)
class Tool:
    """One pg_dump or pg_restore binary and its version."""

    path: Path
    major: int
    version: str
    embedded: bool

    def describe(self) -> str:
        origin = "embedded" if self.embedded else "system"
        return f"{self.path.name} {self.version} ({origin}, {self.path})"


# --- choosing binaries ---------------------------------------------------------------------

def embedded_bin_dir() -> Path:
    return db.psql_executable().parent


@functools.lru_cache(maxsize=32)
def tool_version(path: Path) -> tuple[int, str] | None:
    """(major, "16.2") from `path --version`, or None when it does not run."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,  # noqa: S603
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    if not match:
        return None
    major = int(match.group(1))
    return major, match.group(0).split()[-1]


def system_candidates(name: str) -> list[Path]:
    """System copies of `name`: /usr/lib/postgresql/*/bin and PATH. Debian's pg_wrapper
    (which picks a version by its own rules) is skipped: the binaries it would run are
    already in the list."""
    found = [Path(directory) / name for directory in sorted(glob.glob(SYSTEM_BIN_GLOB))]
    on_path = shutil.which(name)
    if on_path and Path(on_path).resolve().name != "pg_wrapper":
        found.append(Path(on_path))
    return found


def available_tools(name: str) -> list[Tool]:
    """Every runnable `name` (system ones and the embedded one), each binary once."""
    embedded_dir = embedded_bin_dir().resolve()
    tools: dict[Path, Tool] = {}
    for path in [*system_candidates(name), embedded_bin_dir() / name]:
        real = path.resolve()
        if real in tools or not path.is_file():
            continue
        version = tool_version(path)
        if version is not None:
            tools[real] = Tool(path, version[0], version[1], embedded=real.parent == embedded_dir)
    return list(tools.values())


def choose_tool(name: str, needed_major: int, tools: Sequence[Tool]) -> Tool:
    """The lowest system binary with major >= needed_major, else the embedded one if it is
    new enough; otherwise a clear error."""
    system = sorted((tool for tool in tools if not tool.embedded and tool.major >= needed_major),
                    key=lambda tool: tool.major)
    if system:
        return system[0]
    embedded = [tool for tool in tools if tool.embedded and tool.major >= needed_major]
    if embedded:
        return embedded[0]
    have = ", ".join(f"{tool.version} ({tool.path})" for tool in tools) or "none"
    raise StocklineError(f"{name} {needed_major} or newer is needed, found {have}; "
                         f"install PostgreSQL {needed_major}'s client tools "
                         f"(e.g. postgresql-client-{needed_major})")


# --- connecting ----------------------------------------------------------------------------

def client_target(url: str) -> tuple[str, dict[str, str]]:
    """(conninfo without the password, extra environment): the password travels in
    PGPASSWORD, never on a command line that `ps` shows."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{key: str(value) for key, value in params.items()}), env


def server_version(conn: psycopg.Connection) -> tuple[int, str]:
    """(major, "16.2") of the server behind `conn` (server_version_num // 10000)."""
    text = conn.execute("SHOW server_version").fetchone()[0]
    return conn.info.server_version // 10000, str(text).split()[0]


def stockline_rows(conn: psycopg.Connection) -> dict[str, bool]:
    """For every Stockline table the database has: whether it holds a row."""
    missing = set(db.missing_tables(conn))
    present = [table for table in db.TABLES if table not in missing]
    return {table: bool(conn.execute(pgsql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
        pgsql.Identifier(table))).fetchone()[0]) for table in present}


def _first_error(stderr: str) -> str:
    """The one line of pg_dump / pg_restore output that says what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if ": error: " in line:
            text = line.split(": error: ", 1)[1]
            return re.sub(r"\s+", " ", text)
    return lines[-1] if lines else "no output"


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _say(out: TextIO | None, line: str) -> None:
    if out is not None:
        out.write(line + "\n")
        out.flush()


# --- backup --------------------------------------------------------------------------------

def backup(url: str, path: Path, out: TextIO | None = None, tool: Tool | None = None) -> Path:
    """pg_dump -Fc of `url`'s database into `path` (its folder created if need be; the file
    replaced only on success), with `tool` or the pg_dump choose_tool() picks."""
    started = time.perf_counter()
    path = Path(path)
    if path.is_dir():
        raise StocklineError(f"{path} is a directory; name the backup file, "
                             f"e.g. {path / 'stockline.dump'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StocklineError(f"cannot create folder {path.parent}: {exc.strerror}") from exc
    with db.connect(url, connect_timeout=10) as conn:
        major, version = server_version(conn)
        no_schema = len(db.missing_tables(conn)) == len(db.TABLES)
    tool = tool or choose_tool("pg_dump", major, available_tools("pg_dump"))
    name = db.database_name(url)
    _say(out, f"backing up database {name!r} (PostgreSQL {version}) to {path} with {tool.describe()}")
    if no_schema:
        _say(out, f"warning: database {name!r} has no Stockline tables; is it the right one?")
    conninfo, env = client_target(url)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        result = subprocess.run(  # noqa: S603 - a fixed binary and arguments, no shell
            [str(tool.path), "--format=custom", "--no-password", f"--file={partial}", f"--dbname={conninfo}"],
            capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise StocklineError(f"pg_dump failed: {_first_error(result.stderr)}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _say(out, f"backup written: {path}, {_size(path)} in {time.perf_counter() - started:.1f} s")
    return path


# --- restore -------------------------------------------------------------------------------

def read_archive(path: Path) -> tuple[int, int]:
    """(major of the pg_dump that wrote `path`, major of the server it came from), from its
    table of contents; a clear error when the file is missing, unreadable, or holds no
    Stockline tables."""
    path = Path(path)
    if not path.is_file():
        raise StocklineError(f"backup file {path} does not exist" if not path.exists()
                             else f"{path} is not a file")
    tools = sorted(available_tools("pg_restore"), key=lambda tool: tool.major, reverse=True)
    if not tools:
        raise StocklineError("no pg_restore found (not even the embedded server's)")
    result = subprocess.run([str(tools[0].path), "--list", str(path)],  # noqa: S603
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StocklineError(f"{path} is not a backup pg_restore can read: {_first_error(result.stderr)}")
    dumped_by, dumped_from = _DUMPED_BY.search(result.stdout), _DUMPED_FROM.search(result.stdout)
    if dumped_by is None or dumped_from is None:
        raise StocklineError(f"{path}: cannot tell which pg_dump wrote it")
    if not re.search(r"\bTABLE \S+ customers\b", result.stdout):
        raise StocklineError(f"{path} holds no Stockline tables (no Customers table in it)")
    return int(dumped_by.group(1)), int(dumped_from.group(1))


def _connect_or_create(url: str, out: TextIO | None) -> tuple[psycopg.Connection, bool]:
    """A connection to `url`'s database, created first if missing; (conn, created)."""
    try:
        return db.connect(url, connect_timeout=10), False
    except psycopg.OperationalError as exc:  # libpq gives no SQLSTATE for this one
        if f'database "{db.database_name(url)}" does not exist' not in str(exc):
            raise
        _say(out, f"database {db.database_name(url)!r} does not exist: creating it")
        db.ensure_database_exists(url)
        return db.connect(url, connect_timeout=10), True


def _drop_database(url: str) -> None:
    with db.connect(db.with_database(url, "postgres")) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(db.database_name(url))))


def restore(url: str, path: Path, force: bool = False, out: TextIO | None = None) -> dict[str, int]:
    """pg_restore `path` into `url`'s database in one transaction; returns row counts."""
    started = time.perf_counter()
    path = Path(path)
    dump_major, source_major = read_archive(path)
    name = db.database_name(url)
    conn, created = _connect_or_create(url, out)
    with conn:
        server_major, version = server_version(conn)
        existing = stockline_rows(conn)
    holding = [table for table, has_rows in existing.items()
               if has_rows and table not in db.SCHEMA_ROW_TABLES]
    if holding and not force:
        raise RestoreRefused(
            f"database {name!r} already holds Stockline data ({', '.join(holding[:4])}"
            f"{', ...' if len(holding) > 4 else ''}); restore into an empty database, "
            f"or add --force to replace everything in it")
    tool = choose_tool("pg_restore", max(server_major, dump_major), available_tools("pg_restore"))
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password"]
    if existing:  # the schema (perhaps empty, perhaps forced over) is there: replace it
        options += ["--clean", "--if-exists"]
    _say(out, f"restoring {path} ({_size(path)}) into database {name!r} (PostgreSQL {version}) "
              f"with {tool.describe()}{', replacing its data' if holding else ''}")
    if source_major > server_major:
        _say(out, f"note: the backup comes from PostgreSQL {source_major}, this server is {server_major}; "
                  f"Stockline's tables restore fine, features newer than {server_major} would not")
    conninfo, env = client_target(url)
    result = subprocess.run(  # noqa: S603 - a fixed binary and arguments, no shell
        [str(tool.path), *options, f"--dbname={conninfo}", str(path)],
        capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        if created:
            _drop_database(url)
        reason = _first_error(result.stderr)
        if "transaction_timeout" in reason:  # pg_restore 17+ setting it on an older server
            reason += f" (pg_restore {tool.major} on PostgreSQL {server_major}: restore into PostgreSQL 17+)"
        raise StocklineError(f"pg_restore failed, nothing was changed: {reason}")
    with db.connect(url) as conn:
        db.apply_schema(conn)  # idempotent; brings an older backup up to the current schema
        conn.execute("ANALYZE")
        counts = {table: conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(
            pgsql.Identifier(table))).fetchone()[0] for table in db.TABLES}
    summary = ", ".join(f"{counts[table]:,} {table}" for table in
                        ("customers", "product_skus", "inventory_batches", "orders"))
    _say(out, f"restored in {time.perf_counter() - started:.1f} s: {summary}")
    return counts
