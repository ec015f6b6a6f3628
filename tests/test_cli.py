"""The `stockline` command: db url / counts / init / reset / psql, check, help, bad input,
`bench load` outside a checkout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stockline import bench_cli, db
from stockline.cli import build_parser, main
from tests.test_schema import seed_minimal


@pytest.fixture
def cli(clean_db, monkeypatch, capsys):
    """Runs `stockline ARGS` in-process against the test database; returns (code, out, err)."""
    monkeypatch.setenv("DATABASE_URL", clean_db)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_db_url_prints_the_database_in_use(cli, clean_db):
    code, out, _ = cli("db", "url")
    assert code == 0
    assert out.strip() == clean_db


def test_db_counts_reports_the_seed_procedures_five_counts(cli, conn):
    seed_minimal(conn)
    code, out, _ = cli("db", "counts", "--json")
    assert code == 0
    assert json.loads(out) == {"customers": 1, "customer_users": 1, "products": 1, "skus": 1,
                               "batches": 1}
    code, out, _ = cli("db", "counts")
    assert code == 0
    assert [line.split() for line in out.strip().splitlines()] == [
        ["customers", "1"], ["customer_users", "1"], ["products", "1"], ["skus", "1"],
        ["batches", "1"]]


def test_check_passes_on_a_consistent_ledger(cli, conn):
    ids = seed_minimal(conn)  # the batch holds 5 units
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) "
                 "VALUES (%s, 5, 'receipt')", (ids["batch_id"],))
    code, out, _ = cli("check")
    assert code == 0, out
    assert "all invariants hold" in out


def test_check_catches_a_planted_ledger_mismatch(cli, conn):
    ids = seed_minimal(conn)
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) "
                 "VALUES (%s, 3, 'receipt')", (ids["batch_id"],))  # 5 on hand, 3 in the ledger
    code, out, _ = cli("check")
    assert code == 1
    assert "FAIL ledger_mismatch" in out
    assert f"batch_id={ids['batch_id']}" in out
    assert "quantity_on_hand=5" in out and "ledger_quantity=3" in out
    code, out, _ = cli("check", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    mismatch = next(item for item in report["invariants"] if item["name"] == "ledger_mismatch")
    assert mismatch["offenders"] == [{"batch_id": ids["batch_id"], "batch_no": "AMX-2401",
                                      "quantity_on_hand": 5, "ledger_quantity": 3}]


def test_db_reset_refuses_without_yes_and_deletes_nothing(cli, conn):
    seed_minimal(conn)
    code, _, err = cli("db", "reset")
    assert code == 2
    assert "--yes" in err
    assert conn.execute("SELECT count(*) AS n FROM Customers").fetchone()["n"] == 1


def test_db_reset_with_yes_leaves_empty_tables_and_the_schema(cli, conn):
    seed_minimal(conn)
    code, _, _ = cli("db", "reset", "--yes")
    assert code == 0
    assert conn.execute("SELECT count(*) AS n FROM Customers").fetchone()["n"] == 0
    assert db.missing_tables(conn) == []


def test_db_init_applies_the_schema(monkeypatch, capsys, empty_database):
    monkeypatch.setenv("DATABASE_URL", empty_database)
    assert main(["db", "init"]) == 0
    with db.connect(empty_database) as conn:
        assert db.missing_tables(conn) == []


def test_db_psql_opens_psql_on_the_database(clean_db):
    done = subprocess.run(
        [sys.executable, "-m", "stockline.cli", "db", "psql", "--", "-tAc", "SELECT current_database()"],
        capture_output=True, text=True, timeout=60, env={"DATABASE_URL": clean_db, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == db.database_name(clean_db)


def test_unreachable_database_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x?connect_timeout=1")
    assert main(["db", "counts"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the database")
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["serve", "--port", "abc"], ["serve", "--port", "70000"],
                                  ["serve", "--workers", "0"], ["check", "--limit", "-1"],
                                  ["frobnicate"]])
def test_bad_arguments_exit_2_with_a_usage_message(args, capsys):
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_bad_setting_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("DB_POOL_MAX", "many")
    assert main(["db", "url"]) == 1
    assert capsys.readouterr().err.strip() == "error: DB_POOL_MAX must be a whole number, got 'many'"


def test_bench_load_outside_a_source_checkout_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench_cli, "SUITE", tmp_path / "bench" / "load")  # as in an installed package
    assert main(["bench", "load", "--users", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "source checkout" in err and "Traceback" not in err


def test_serve_refuses_to_start_without_a_secret_outside_dev_mode(monkeypatch, capsys):
    monkeypatch.setenv("STOCKLINE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert main(["serve"]) == 1
    assert "SECRET_KEY is not set" in capsys.readouterr().err


def _all_commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _all_commands(sub, (*prefix, name))


def test_every_command_explains_itself(capsys):
    commands = list(_all_commands(build_parser()))
    assert {" ".join(path) for path, _ in commands} >= {
        "serve", "db", "db init", "db reset", "db url", "db counts", "db psql", "db start",
        "db stop", "db status", "check", "seed", "users", "users create-customer-logins",
        "users create-admin"}
    for path, sub in commands:
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert sub.description and len(out) > 80, path
        is_group = any(a.__class__.__name__ == "_SubParsersAction" for a in sub._actions)
        if not is_group:
            assert "example:" in out, path
