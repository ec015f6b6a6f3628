"""`stockline users ...`: customer logins in bulk, and admin/staff users."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from stockline import db
from stockline.accounts.service import create_customer_logins, create_staff_user, default_csv_path
from stockline.cli_args import add_command, whole_number
from stockline.config import get_settings
from stockline.errors import ValidationFailed
from stockline.kernel.identity import STAFF_ROLES
from stockline.progress import Progress


def _connect():
    return db.connect(db.resolve_database_url(get_settings()))


def _names(usernames: list[str], limit: int = 10) -> str:
    shown = ", ".join(usernames[:limit])
    return shown + (f", … ({len(usernames) - limit} more)" if len(usernames) > limit else "")


def cmd_create_customer_logins(args: argparse.Namespace) -> int:
    if args.password is not None and not args.password.strip():
        raise ValidationFailed("--password must not be empty; leave it out to generate one per user")
    csv_path = args.csv or default_csv_path(get_settings().data_dir)
    started = time.perf_counter()
    with _connect() as conn:
        progress: Progress | None = None

        def report(done: int, total: int) -> None:
            nonlocal progress
            progress = progress or Progress("hashing", total, unit="passwords")
            progress.advance(done - progress.done)

        result = create_customer_logins(conn, password=args.password, dry_run=args.dry_run,
                                        must_change=args.must_change, csv_path=csv_path,
                                        workers=args.workers, progress=report)
        if progress is not None:
            progress.finish()
    if result.blocked_by_username:
        print(f"note: {result.blocked_by_username} customer(s) without a login were skipped: "
              "their cust_<id> username belongs to another user")
    if args.dry_run:
        print(f"would create {len(result.usernames)} login(s): {_names(result.usernames)}"
              if result.usernames else "every customer already has a login; nothing to create")
        return 0
    if not result.created:
        print("every customer already has a login; nothing created")
        return 0
    print(f"created {result.created} customer login(s) ({_names(result.usernames, 3)}) "
          f"in {time.perf_counter() - started:.1f} s")
    if result.csv_path:
        print(f"passwords: {result.csv_path} (readable only by you)")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            raise ValidationFailed("no terminal to ask for the password on; pass --password")
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValidationFailed("the two passwords differ")
    with _connect() as conn:
        user_id = create_staff_user(conn, args.username, password, role=args.role,
                                    must_change=args.must_change)
    print(f"created {args.role} {args.username!r} (user_id {user_id})")
    return 0


def register(commands) -> None:
    users = commands.add_parser("users", help="Create customer logins and admin/staff users",
                                description="Create customer logins and admin/staff users.")
    users.set_defaults(handler=lambda _args: (users.print_help(sys.stderr), 2)[1])
    sub = users.add_subparsers(title="users commands", metavar="USERS_COMMAND")

    logins = add_command(sub, "create-customer-logins", cmd_create_customer_logins,
                         "Create a cust_<customer_id> login for every customer lacking one (argon2id, "
                         "hashed on all cores); idempotent",
                         "stockline users create-customer-logins --password 'Customer@123'")
    logins.add_argument("--password", help="one password for all new logins; without it each gets a "
                                           "random one, written to a CSV file only you can read")
    logins.add_argument("--dry-run", action="store_true", help="list the logins it would create")
    logins.add_argument("--must-change", action="store_true",
                        help="make users change the password at first login")
    logins.add_argument("--csv", type=Path, help="where generated passwords go (default in .stockline/)")
    logins.add_argument("--workers", type=whole_number(1), help="hashing threads (default: one per core)")

    admin = add_command(sub, "create-admin", cmd_create_admin,
                        "Create an admin (or staff) user; asks for the password",
                        "stockline users create-admin alice --role staff")
    admin.add_argument("username")
    admin.add_argument("--password", help="the password (otherwise asked twice on the terminal)")
    admin.add_argument("--role", choices=STAFF_ROLES, default="admin")
    admin.add_argument("--must-change", action="store_true",
                       help="make the user change the password at first login")
