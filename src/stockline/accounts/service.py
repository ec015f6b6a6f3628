"""Account creation: a login for every customer lacking one, and staff/admin users.

Hashing dominates bulk login creation (argon2id is slow on purpose), so hashes are made on
all cores: argon2-cffi releases the GIL, so threads run in parallel. Rows are then loaded
with one COPY in one transaction.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from stockline.auth.passwords import hash_password, validate_new_password
from stockline.errors import Conflict, ValidationFailed
from stockline.kernel.identity import STAFF_ROLES
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
LOGIN_STAGE_COPY = "COPY login_stage (customer_id, username, password_hash, must_change_password) FROM STDIN"


@dataclass
class LoginCreationResult:
    created: int = 0
    blocked_by_username: int = 0
    usernames: list[str] = field(default_factory=list)
    csv_path: Path | None = None


def _write_private_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    """username,password pairs in a file only its owner can read, from the first byte."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("username", "password"))
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())


def default_csv_path(data_dir: Path) -> Path:
    return data_dir / f"customer_passwords_{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.csv"


def create_customer_logins(conn: psycopg.Connection, *, password: str | None, dry_run: bool = False,
                           must_change: bool = False, csv_path: Path | None = None,
                           workers: int | None = None,
                           progress: Callable[[int, int], None] | None = None) -> LoginCreationResult:
    """A `cust_<customer_id>` login (role customer) for every customer without one.

    With `password`, every login gets it (each hash with its own salt). Without, each gets
    its own random password, written with the username to `csv_path` (mode 0600)."""
    if password is not None:
        validate_new_password(password)
    elif csv_path is None and not dry_run:
        raise ValidationFailed("Without a shared password, a CSV path for the generated ones is needed")
    missing = conn.execute(Q["customers_without_login"].sql).fetchall()
    result = LoginCreationResult(
        blocked_by_username=conn.execute(Q["customers_blocked_by_username"].sql).fetchone()[0],
        usernames=[username for _, username in missing])
    if dry_run or not missing:
        return result
    passwords = [password or secrets.token_urlsafe(12) for _ in missing]
    hashes = _hash_all(passwords, workers or os.cpu_count() or 1, progress)
    with conn.transaction():
        conn.execute(Q["create_login_stage"].sql)
        with conn.cursor() as cur, cur.copy(LOGIN_STAGE_COPY) as copy:
            for (customer_id, username), password_hash in zip(missing, hashes, strict=True):
                copy.write_row((customer_id, username, password_hash, must_change))
        created = [row[0] for row in conn.execute(Q["move_staged_logins"].sql)]
    result.created, result.usernames = len(created), created
    if password is None:
        result.csv_path = csv_path
        pairs = dict(zip((u for _, u in missing), passwords, strict=True))
        _write_private_csv(csv_path, [(username, pairs[username]) for username in created])
    return result


def _hash_all(passwords: list[str], workers: int,
              progress: Callable[[int, int], None] | None) -> list[str]:
    total = len(passwords)
    hashes: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, password_hash in enumerate(pool.map(hash_password, passwords), start=1):
            hashes.append(password_hash)
            if progress is not None:
                progress(done, total)
    return hashes


def check_username(username: str) -> None:
    """The one username rule: 3 to 64 letters, digits or _ . @ - (unique ignoring case, which
    the database enforces)."""
    if not USERNAME.match(username):
        raise ValidationFailed("A username has 3 to 64 characters, each a letter, digit or one of _ . @ -",
                               code="invalid_username", details={"field": "username"})


def create_staff_user(conn: psycopg.Connection, username: str, password: str, role: str = "admin",
                      must_change: bool = False) -> int:
    """An admin or staff user (no customer); returns its user_id."""
    check_username(username)
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"The role must be one of {', '.join(STAFF_ROLES)}")
    validate_new_password(password)
    try:
        with conn.transaction():
            row = conn.execute(Q["insert_staff_user"].sql, {
                "username": username, "password_hash": hash_password(password), "role": role,
                "must_change": must_change}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"The username {username!r} is taken") from None
    return row[0]
