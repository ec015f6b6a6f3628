"""`stockline seed`: the scale-data generator on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from stockline import db
from stockline.cli_args import whole_number
from stockline.config import SeedSettings, get_settings
from stockline.seeding.service import format_summary, run_seed

_FLAGS = (
    ("customers", "SCALE_CUSTOMERS", "customers to reach (or add, with --append)"),
    ("products", "SCALE_PRODUCTS", "products to reach"),
    ("skus", "SCALE_SKUS", "SKUs to reach"),
    ("batches", "SCALE_BATCHES", "inventory batches to reach"),
    ("chunk_size", "SCALE_CHUNK_SIZE or CHUNK_SIZE", "rows per COPY chunk and commit"),
    ("pricing_rules", "SCALE_PRICING_RULES", "pricing rules to reach (global tiers, SKU tiers, contracts)"),
    ("orders", "SCALE_ORDERS", "historical orders over the last 90 days to reach"),
    ("seed", "SCALE_SEED", "random seed: the same seed gives the same data"),
)


def plan_from_args(args: argparse.Namespace) -> SeedSettings:
    """Environment first (the procedure's SCALE_* variables), flags on top."""
    plan = SeedSettings.from_env()
    overrides = {name: getattr(args, name) for name, _, _ in _FLAGS if getattr(args, name) is not None}
    if args.append:
        overrides["append"] = True
    return dataclasses.replace(plan, **overrides)


def cmd_seed(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    mode = "adding" if plan.append else "topping up to"
    print(f"seeding: {mode} {plan.customers:,} customers, {plan.products:,} products, {plan.skus:,} SKUs, "
          f"{plan.batches:,} batches, {plan.pricing_rules:,} pricing rules, {plan.orders:,} orders "
          f"(chunks of {plan.chunk_size:,})", file=sys.stderr)
    with db.connect(db.resolve_database_url(get_settings())) as conn:
        db.apply_schema(conn)
        report = run_seed(conn, plan)
        counts = db.seed_counts(conn)
    print(format_summary(report, counts))
    return 0


def register(commands) -> None:
    parser = commands.add_parser(
        "seed", help="Generate realistic scale data (the seed procedure's step 2)",
        description="Generate realistic pharmaceutical scale data with COPY. Sizes come from the "
                    "SCALE_* variables; flags override them. By default each table is topped up to "
                    "its target, so a second run adds nothing; --append adds the full amounts."
                    "\n\nexample:\n  SCALE_CUSTOMERS=500 stockline seed --batches 20000 --seed 42",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, env, help_text in _FLAGS:
        smallest = 1 if name == "chunk_size" else 0
        parser.add_argument(f"--{name.replace('_', '-')}", type=whole_number(smallest), default=None,
                            help=f"{help_text} (default: {env})")
    parser.add_argument("--append", action="store_true",
                        help="add the full amounts on top of what exists (SCALE_APPEND=1)")
    parser.set_defaults(handler=cmd_seed)
