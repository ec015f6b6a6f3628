"""Pricing-rule administration and the price preview.

- No two rules share a key (sku_id, customer_id, min_quantity; NULL, "any", equals NULL)
  with overlapping validity windows: which of them applied would hang on rule_id alone.
  Writers take a transaction-scoped advisory lock on the key, then look for an overlapping
  rule, then write, so two writers of one key run one after the other and the second sees
  the first (409 naming the rule already there).
- Every committed change announces a new listing version (and catalog version), so cached
  catalog pages and listing skeletons in every worker show the new prices at once.
- Every change is recorded in the audit log (stockline.audit), in its own transaction.
- The preview prices a line with stockline.pricing.rules.price_line on the rules of
  stockline.pricing.service.applicable_rules (the one rule; nothing here chooses a winner) and
  explains the choice: every candidate rule, whether it applies at the quantity, and why the
  winner beat the others (discount, then specificity, then rule_id).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.pricing import service as repo
from stockline.pricing.rules import PricingRule, net_unit_price, price_line
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

RULE_FIELDS = ("sku_id", "customer_id", "min_quantity", "discount_percentage", "valid_from", "valid_to")
SCOPES = {3: "sku+customer", 2: "sku", 1: "customer", 0: "global"}


def scope_of(sku_id: int | None, customer_id: int | None) -> str:
    return SCOPES[2 * (sku_id is not None) + (customer_id is not None)]


RULE_COLUMNS = ("rule_id", "sku_id", "sku_code", "product_name", "customer_id", "customer_name",
                "min_quantity", "valid_from", "valid_to", "created_at")


def _rule(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in RULE_COLUMNS} | {
        "discount_percentage": money(row["discount_percentage"]),
        "scope": scope_of(row["sku_id"], row["customer_id"]),
    }


def _describe_key(rule: dict[str, Any]) -> str:
    sku = f"SKU {rule['sku_id']}" if rule["sku_id"] is not None else "every SKU"
    customer = f"customer {rule['customer_id']}" if rule["customer_id"] is not None else "every customer"
    return f"{sku}, {customer}, from {rule['min_quantity']} units"


def _describe_window(valid_from: date | None, valid_to: date | None) -> str:
    start = valid_from.isoformat() if valid_from else "always"
    return f"{start} to {valid_to.isoformat() if valid_to else 'open'}"


# --- reading -------------------------------------------------------------------------------

async def list_rules(ctx: Context, paging: PageRequest, *, sku_id: int | None,
                     customer_id: int | None, active_on: date | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["rules_page"], {
            "sku_id": sku_id, "customer_id": customer_id, "active_on": active_on,
            "limit": paging.limit, "offset": paging.offset})
    items = [_rule(row) for row in rows if row["rule_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], sku_id=sku_id, customer_id=customer_id,
                           active_on=active_on)


async def _read_rule(conn: psycopg.AsyncConnection, rule_id: int) -> dict[str, Any]:
    row = await db.fetch_one(conn, Q["rule"], {"rule_id": rule_id})
    if row is None:
        raise NotFound(f"No pricing rule {rule_id}")
    return _rule(row)


async def get_rule(ctx: Context, rule_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _read_rule(conn, rule_id)


# --- writing -------------------------------------------------------------------------------

def _check_window(rule: dict[str, Any]) -> None:
    valid_from, valid_to = rule["valid_from"], rule["valid_to"]
    if valid_from is not None and valid_to is not None and valid_from > valid_to:
        raise ValidationFailed(
            f"valid_from ({rule['valid_from'].isoformat()}) must not be after valid_to "
            f"({rule['valid_to'].isoformat()})", code="invalid_validity_window",
            details={"valid_from": rule["valid_from"].isoformat(), "valid_to": rule["valid_to"].isoformat()})


async def _check_references(conn: psycopg.AsyncConnection, rule: dict[str, Any]) -> None:
    found = await db.fetch_one(conn, Q["references_exist"], rule)
    if not found["sku_found"]:
        raise ValidationFailed(f"SKU {rule['sku_id']} does not exist", code="unknown_sku",
                               details={"sku_id": rule["sku_id"]})
    if not found["customer_found"]:
        raise ValidationFailed(f"Customer {rule['customer_id']} does not exist", code="unknown_customer",
                               details={"customer_id": rule["customer_id"]})


async def _claim_key(conn: psycopg.AsyncConnection, rule: dict[str, Any], rule_id: int | None) -> None:
    """Lock the rule's key for this transaction, then refuse if another rule of that key has
    an overlapping validity window."""
    await db.execute(conn, Q["lock_rule_key"], rule)
    clash = await db.fetch_one(conn, Q["overlapping_rule"], rule | {"rule_id": rule_id})
    if clash is not None:
        raise Conflict(
            f"Rule {clash['rule_id']} already prices {_describe_key(rule)}, valid "
            f"{_describe_window(clash['valid_from'], clash['valid_to'])}, which overlaps "
            f"{_describe_window(rule['valid_from'], rule['valid_to'])}; edit that rule or choose another "
            "window or tier", code="duplicate_rule", details={"rule_id": clash["rule_id"]})


async def create_rule(ctx: Context, actor: CurrentUser,
                      fields: dict[str, Any]) -> dict[str, Any]:
    rule = {name: fields.get(name) for name in RULE_FIELDS}
    _check_window(rule)

    async def work(conn: psycopg.AsyncConnection) -> int:
        await _check_references(conn, rule)
        await _claim_key(conn, rule, None)
        created = await db.fetch_one(conn, Q["insert_rule"], rule)
        await audit.record(conn, actor, "pricing_rule.create", created["rule_id"], None, created)
        return created["rule_id"]

    async def after_commit(conn: psycopg.AsyncConnection, rule_id: int) -> dict[str, Any]:
        await ctx.versions.announce_listing_change(conn)
        return await _read_rule(conn, rule_id)

    return await ctx.transaction(work, after_commit=after_commit)


async def update_rule(ctx: Context, actor: CurrentUser, rule_id: int,
                      changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` holds only the fields the caller sent; the result is checked whole, as a
    new rule would be."""
    for required in ("min_quantity", "discount_percentage"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(f"{required} cannot be removed", details={"field": required})

    async def work(conn: psycopg.AsyncConnection) -> bool:
        current = await db.fetch_one(conn, Q["lock_rule"], {"rule_id": rule_id})
        if current is None:
            raise NotFound(f"No pricing rule {rule_id}")
        rule = {name: changes.get(name, current[name]) for name in RULE_FIELDS}
        if all(rule[name] == current[name] for name in RULE_FIELDS):
            return False
        _check_window(rule)
        await _check_references(conn, rule)
        await _claim_key(conn, rule, rule_id)
        updated = await db.fetch_one(conn, Q["update_rule"], rule | {"rule_id": rule_id})
        await audit.record(conn, actor, "pricing_rule.update", rule_id, current, updated)
        return True

    async def after_commit(conn: psycopg.AsyncConnection, changed: bool) -> dict[str, Any]:
        if changed:
            await ctx.versions.announce_listing_change(conn)
        return await _read_rule(conn, rule_id)

    return await ctx.transaction(work, after_commit=after_commit)


async def delete_rule(ctx: Context, actor: CurrentUser,
                      rule_id: int) -> None:
    """Orders it priced keep their prices (their pricing_rule_id becomes NULL)."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        deleted = await db.fetch_one(conn, Q["delete_rule"], {"rule_id": rule_id})
        if deleted is None:
            raise NotFound(f"No pricing rule {rule_id}")
        await audit.record(conn, actor, "pricing_rule.delete", rule_id, deleted, None)

    async def after_commit(conn: psycopg.AsyncConnection, _: None) -> None:
        await ctx.versions.announce_listing_change(conn)

    await ctx.transaction(work, after_commit=after_commit)


# --- preview -------------------------------------------------------------------------------

def _pct(value: Decimal) -> str:
    return f"{money(value)} %"


def _rule_ids(rules: list[PricingRule]) -> str:
    return ", ".join(str(rule.rule_id) for rule in rules)


def _why_won(winner: PricingRule, applicable: list[PricingRule]) -> str:
    others = [rule for rule in applicable if rule is not winner]
    tied = [rule for rule in others if rule.discount_percentage == winner.discount_percentage]
    if not tied:
        beaten = f", more than rule(s) {_rule_ids(others)}" if others else ""
        return f"the largest discount that applies ({_pct(winner.discount_percentage)}){beaten}"
    as_specific = [rule for rule in tied if rule.specificity == winner.specificity]
    if not as_specific:
        return (f"ties at {_pct(winner.discount_percentage)} with rule(s) {_rule_ids(tied)}; "
                f"the most specific ({SCOPES[winner.specificity]}) wins")
    return (f"ties at {_pct(winner.discount_percentage)} and {SCOPES[winner.specificity]} with rule(s) "
            f"{_rule_ids(as_specific)}; the lowest rule_id wins")


def _why_lost(rule: PricingRule, winner: PricingRule, quantity: int) -> str:
    if rule.min_quantity > quantity:
        return f"needs at least {rule.min_quantity} units; the line has {quantity}"
    if rule.discount_percentage < winner.discount_percentage:
        return (f"smaller discount than rule {winner.rule_id} ({_pct(rule.discount_percentage)} < "
                f"{_pct(winner.discount_percentage)})")
    if rule.specificity < winner.specificity:
        return (f"same discount as rule {winner.rule_id} but less specific ({SCOPES[rule.specificity]} < "
                f"{SCOPES[winner.specificity]})")
    return f"same discount and specificity as rule {winner.rule_id}, which has the lower rule_id"


def _candidate(rule: PricingRule, *, applies: bool, won: bool, reason: str) -> dict[str, Any]:
    return {"rule_id": rule.rule_id, "sku_id": rule.sku_id, "customer_id": rule.customer_id,
            "min_quantity": rule.min_quantity, "discount_percentage": money(rule.discount_percentage),
            "valid_from": rule.valid_from, "valid_to": rule.valid_to,
            "scope": SCOPES[rule.specificity], "applies": applies, "won": won, "reason": reason}


def explain(rules: list[PricingRule], *, customer_id: int | None, sku_id: int, base_price: Decimal,
            quantity: int, on: date) -> dict[str, Any]:
    """The price of the line by price_line, with every candidate rule and why it won or lost."""
    price = price_line(customer_id=customer_id, sku_id=sku_id, base_price=base_price, quantity=quantity,
                       on=on, rules=rules)
    candidates = [rule for rule in rules if rule.matches(customer_id, sku_id, on)]
    applicable = [rule for rule in candidates if rule.min_quantity <= quantity]
    winner = next((rule for rule in candidates if rule.rule_id == price.rule_id), None)
    listed = []
    for rule in candidates:
        applies = rule.min_quantity <= quantity
        if rule is winner:
            reason = _why_won(rule, applicable)
        elif winner is None:
            reason = f"needs at least {rule.min_quantity} units; the line has {quantity}"
        else:
            reason = _why_lost(rule, winner, quantity)
        listed.append(_candidate(rule, applies=applies, won=rule is winner, reason=reason))
    if winner is not None:
        explanation = (f"Rule {winner.rule_id} ({SCOPES[winner.specificity]}) wins: "
                       f"{_why_won(winner, applicable)}")
    elif candidates:
        explanation = f"No rule applies at a quantity of {quantity}; the base price stands"
    else:
        explanation = "No rule matches this customer, SKU and day; the base price stands"
    next_tier = None
    if price.next_tier is not None:
        tier = price.next_tier
        next_tier = {"min_quantity": tier.min_quantity,
                     "discount_percentage": money(tier.discount_percentage),
                     "effective_price": money(net_unit_price(base_price, tier.discount_percentage))}
        explanation += (f". From {tier.min_quantity} units: {_pct(tier.discount_percentage)}, "
                        f"{next_tier['effective_price']} a unit")
    return {"base_price": money(price.base_price), "discount_percentage": money(price.discount_percentage),
            "unit_price": money(price.unit_price), "line_total": money(price.line_total),
            "applied_rule_id": price.rule_id, "explanation": explanation, "next_tier": next_tier,
            "candidates": listed}


async def preview(ctx: Context, *, customer_id: int | None, sku_id: int, quantity: int,
                  on: date) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        subject = await db.fetch_one(conn, Q["preview_subject"],
                                     {"sku_id": sku_id, "customer_id": customer_id})
        if subject["sku_id"] is None:
            raise NotFound(f"No SKU {sku_id}")
        if customer_id is not None and subject["customer_id"] is None:
            raise NotFound(f"No customer {customer_id}")
        rules = await repo.applicable_rules(conn, sku_ids=[sku_id], customer_id=customer_id, on=on)
    return {"sku_id": sku_id, "sku_code": subject["sku_code"], "product_name": subject["product_name"],
            "on_sale": subject["on_sale"], "customer_id": customer_id,
            "customer_name": subject["customer_name"], "quantity": quantity, "priced_on": on,
            **explain(rules, customer_id=customer_id, sku_id=sku_id, base_price=subject["base_price"],
                      quantity=quantity, on=on)}
