"""`stockline`: the one front door. Each command is a thin wrapper over library functions;
errors become one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg

from stockline import backup, bench_cli, db
from stockline.accounts import commands as accounts_commands
from stockline.cli_args import add_command, whole_number
from stockline.cluster import commands as cluster_commands
from stockline.config import Settings, get_settings
from stockline.errors import StocklineError
from stockline.invariants import check_invariants
from stockline.seeding import commands as seeding_commands

log = logging.getLogger("stockline")


def _settings() -> Settings:
    return get_settings()


def _url() -> str:
    return db.resolve_database_url(_settings())


# --- serve ---------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    from stockline import serving

    settings = _settings()
    settings.resolved_secret_key()  # refuse to start without a secret outside dev mode
    url = db.resolve_database_url(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    if not args.no_init:
        with db.connect(url) as conn:
            db.apply_schema(conn)
            if settings.env == "dev" and not args.no_demo:
                _load_demo_data(conn, settings, f"http://{host}:{port}")
    # worker processes read DATABASE_URL instead of each starting the embedded server
    os.environ["DATABASE_URL"] = url
    serving.serve(settings, host=host, port=port, workers=args.workers or settings.workers,
                  access_log=not args.no_access_log)
    return 0


def _load_demo_data(conn: psycopg.Connection, settings: Settings, base_url: str) -> None:
    from stockline.seeding import demo

    logins = demo.seed_demo(conn, settings.data_dir, sys.stderr, seller=settings.seller)
    if logins is not None:
        print(demo.sign_in_help(logins, base_url), file=sys.stderr)


# --- db --------------------------------------------------------------------------------------

def cmd_db_init(args: argparse.Namespace) -> int:
    url = _url()
    with db.connect(url) as conn:
        db.apply_schema(conn)
    print(f"schema applied to database {db.database_name(url)!r}")
    return 0


def cmd_db_reset(args: argparse.Namespace) -> int:
    url = _url()
    if not args.yes:
        print(f"error: this deletes every Stockline table and row in database "
              f"{db.database_name(url)!r}; run again with --yes to go ahead", file=sys.stderr)
        return 2
    with db.connect(url) as conn:
        db.drop_schema(conn)
        db.apply_schema(conn)
    print(f"database {db.database_name(url)!r} reset: empty tables, schema applied")
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    print(_url())
    return 0


def cmd_db_counts(args: argparse.Namespace) -> int:
    with db.connect(_url()) as conn:
        counts = db.seed_counts(conn)
    if args.json:
        print(json.dumps(counts))
    else:
        for name, count in counts.items():
            print(f"{name:<16}{count:>10}")
    return 0


def cmd_db_psql(args: argparse.Namespace) -> int:
    url = _url()
    psql = str(db.psql_executable())
    extra = [arg for arg in args.psql_args if arg != "--"]
    os.execv(psql, [psql, url, *extra])  # noqa: S606 - replaces this process with psql
    return 0  # pragma: no cover


def cmd_db_start(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.database_url:
        print("DATABASE_URL is set: the embedded server is not used", file=sys.stderr)
        return 2
    print(db.resolve_database_url(settings))
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    settings = _settings()
    stopped = db.stop_embedded(settings)
    print("embedded server stopped" if stopped else "embedded server was not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.database_url:
        target = "DATABASE_URL"
    else:
        state = "running" if db.embedded_running(settings) else "stopped"
        target = f"embedded server in {db.embedded_pgdata(settings)} ({state})"
        if state == "stopped":
            print(f"database: {target}")
            return 1
    with db.connect(_url(), connect_timeout=5) as conn:
        missing = db.missing_tables(conn)
        version = conn.execute("SHOW server_version").fetchone()[0]
    print(f"database: {target}, PostgreSQL {version}")
    print("schema: applied" if not missing else f"schema: missing tables {', '.join(missing)}")
    return 0 if not missing else 1


def _backup_url(args: argparse.Namespace) -> str:
    return args.database_url or _url()


def cmd_db_backup(args: argparse.Namespace) -> int:
    backup.backup(_backup_url(args), args.file, out=sys.stderr)
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    try:
        backup.restore(_backup_url(args), args.file, force=args.force, out=sys.stderr)
    except backup.RestoreRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# --- check -----------------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    with db.connect(_url()) as conn:
        results = check_invariants(conn)
    broken = [result for result in results if not result.holds]
    if args.json:
        print(json.dumps({
            "ok": not broken,
            "invariants": [{"name": r.name, "description": r.description, "holds": r.holds,
                            "offenders": r.offenders[: args.limit]} for r in results],
        }, default=str))
        return 1 if broken else 0
    for result in results:
        mark = "ok  " if result.holds else "FAIL"
        print(f"{mark} {result.name}: {result.description}")
        for offender in result.offenders[: args.limit]:
            print("       " + ", ".join(f"{key}={value}" for key, value in offender.items()))
        if len(result.offenders) > args.limit:
            print(f"       ... and {len(result.offenders) - args.limit} more")
    print("all invariants hold" if not broken else f"{len(broken)} invariant(s) broken")
    return 1 if broken else 0


# --- parser ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stockline",
        description="Stockline: B2B ordering and batch inventory with FEFO allocation.\n\n"
                    "The database is DATABASE_URL when set, otherwise an embedded PostgreSQL\n"
                    "kept in .stockline/pgdata (STOCKLINE_DATA_DIR), started on first use.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = add_command(commands, "serve", cmd_serve,
                 "Apply the schema and serve the API and web pages",
                 "stockline serve --port 5000 --workers 2")
    serve.add_argument("--host", help="address to bind (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=whole_number(1, 65535), help="port to listen on (default PORT or 5000)")
    serve.add_argument("--workers", type=whole_number(1), help="server processes (default WORKERS or 1)")
    serve.add_argument("--no-init", action="store_true", help="do not apply the schema first")
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.add_argument("--no-demo", action="store_true",
                       help="in dev mode, do not load demo data into an empty database")

    db_parser = commands.add_parser(
        "db", help="Manage the database (schema, URL, counts, psql, embedded server)",
        description="Manage the database: DATABASE_URL, or the embedded server.")
    db_commands = db_parser.add_subparsers(title="db commands", metavar="DB_COMMAND")
    db_parser.set_defaults(handler=lambda _args: _usage(db_parser))
    add_command(db_commands, "init", cmd_db_init, "Apply db/schema.sql (idempotent)", "stockline db init")
    reset = add_command(db_commands, "reset", cmd_db_reset,
                 "Drop every Stockline table and apply the schema again (deletes all data)",
                 "stockline db reset --yes")
    reset.add_argument("--yes", action="store_true", help="confirm that all data is deleted")
    add_command(db_commands, "url", cmd_db_url,
         "Print the URL of the database in use (starts the embedded server if needed)",
         "export DATABASE_URL=$(stockline db url)")
    counts = add_command(db_commands, "counts", cmd_db_counts,
                  "Print the seed procedure's five counts (customers, customer users, "
                  "products, SKUs, batches)", "stockline db counts --json")
    counts.add_argument("--json", action="store_true", help="print one JSON object")
    psql = add_command(db_commands, "psql", cmd_db_psql,
                "Open psql (the one shipped with the embedded server) on the database",
                "stockline db psql -- -c 'SELECT count(*) FROM Orders'")
    psql.add_argument("psql_args", nargs=argparse.REMAINDER, help="arguments passed to psql")
    add_command(db_commands, "start", cmd_db_start, "Start the embedded server and print its URL",
         "stockline db start")
    add_command(db_commands, "stop", cmd_db_stop, "Stop the embedded server cleanly", "stockline db stop")
    add_command(db_commands, "status", cmd_db_status,
         "Say which database is in use, whether it answers and whether the schema is applied",
         "stockline db status")
    backup_cmd = add_command(db_commands, "backup", cmd_db_backup,
                             "Write a pg_dump backup (custom format) of the database to FILE; "
                             "safe while the app runs",
                             "stockline db backup backups/stockline-$(date +%F).dump")
    backup_cmd.add_argument("file", type=Path, metavar="FILE", help="the backup file to write (replaced)")
    backup_cmd.add_argument("--database-url", metavar="URL", help="back up this database instead")
    restore_cmd = add_command(db_commands, "restore", cmd_db_restore,
                              "Restore a backup into the database, in one transaction; refuses a "
                              "database holding Stockline data unless --force (exit 2)",
                              "stockline db restore backups/stockline-2025-01-31.dump")
    restore_cmd.add_argument("file", type=Path, metavar="FILE", help="a file `stockline db backup` wrote")
    restore_cmd.add_argument("--force", action="store_true",
                             help="replace the Stockline data the database already holds")
    restore_cmd.add_argument("--database-url", metavar="URL",
                             help="restore into this database instead (created if missing)")

    seeding_commands.register(commands)
    accounts_commands.register(commands)
    bench_cli.register(commands)  # `stockline bench load`: the load suite (bench/load/)
    cluster_commands.register(commands)  # `stockline cluster up/down/status`: the scale-out topology

    check = add_command(commands, "check", cmd_check,
                 "Verify data invariants (ledger = stock, no negative stock, order totals, no sale "
                 "after expiry, every order's units in the ledger; tax, invoices, payments, returns "
                 "and credit notes adding up; gapless document numbers); exits 1 and lists offenders "
                 "when one breaks", "stockline check --json")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--limit", type=whole_number(1), default=20,
                       help="offenders listed per invariant (default 20)")
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("pgserver").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    handler = getattr(args, "handler", None)
    if handler is None:
        return _usage(parser)
    try:
        return handler(args)
    except StocklineError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {_first_line(exc)}", file=sys.stderr)
    except psycopg.Error as exc:
        detail = exc.diag.message_primary if exc.diag and exc.diag.message_primary else _first_line(exc)
        print(f"error: database refused the operation: {detail}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
