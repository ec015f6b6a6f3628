"""Quick order: lines pasted as "sku_code quantity" become cart lines, checked first.

`parse` reads the text with no I/O: one line per SKU, the code and the quantity separated by
tabs, commas, semicolons or spaces (what a spreadsheet or an e-mail gives); blank lines are
ignored. `preview` resolves every code with its available stock in one query (codes
compare case-insensitively; an exact match wins over one that differs only in case) and
prices each line for its own quantity with the one pricing query, so the customer sees
every problem by line number before anything reaches the cart. Adding is cart.add_lines,
all or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from stockline import db
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.kernel.inputs import ascii_digits, read_int
from stockline.ordering.schemas import MAX_UNITS
from stockline.pricing import service as pricing
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)
MAX_LINES = 200
MAX_TEXT_CHARS = 20_000
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class QuickLine:
    number: int  # the line's number in the pasted text, from 1
    text: str
    code: str | None = None
    quantity: int | None = None
    error: str | None = None
    sku_id: int | None = None
    sku_code: str | None = None
    product_name: str | None = None
    package_size: str | None = None
    unit_type: str | None = None
    unit_price: Decimal | None = None
    discount_percentage: Decimal | None = None
    line_total: Decimal | None = None
    available: int | None = None


@dataclass(frozen=True)
class QuickOrder:
    lines: list[QuickLine]
    error: str | None = None  # about the text as a whole (empty, too long)

    @property
    def ready(self) -> bool:
        """Every line can go to the cart."""
        return self.error is None and bool(self.lines) and all(line.error is None for line in self.lines)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total or Decimal("0.00") for line in self.lines), Decimal("0.00"))

    def wanted(self) -> dict[int, int]:
        return {line.sku_id: line.quantity for line in self.lines
                if line.sku_id is not None and line.quantity is not None}


def _parse_line(number: int, text: str) -> QuickLine:
    parts = [part for part in _SEPARATORS.split(text) if part]
    line = QuickLine(number, text)
    if len(parts) == 1:
        return replace(line, code=parts[0], error="No quantity: write the SKU code, then the quantity")
    if len(parts) > 2:
        return replace(line, error="Write just the SKU code and the quantity, e.g. \"AMOX-1 12\"")
    code, amount = parts
    if not ascii_digits(amount):
        return replace(line, code=code, error=f"The quantity \"{amount}\" is not a whole number")
    quantity = read_int(amount, minimum=1, maximum=MAX_UNITS)
    if quantity is None:
        return replace(line, code=code, error=f"The quantity must be between 1 and {MAX_UNITS:,}")
    return replace(line, code=code, quantity=quantity)


def parse(text: str) -> QuickOrder:
    """The pasted text as lines, each with its code and quantity or what is wrong with it."""
    if len(text) > MAX_TEXT_CHARS:
        return QuickOrder([], f"That is more than {MAX_TEXT_CHARS:,} characters; paste fewer lines at a time")
    lines = [_parse_line(number, raw.strip()) for number, raw in enumerate(text.splitlines(), start=1)
             if raw.strip()]
    if not lines:
        return QuickOrder([], "Paste at least one line: a SKU code and a quantity")
    if len(lines) > MAX_LINES:
        return QuickOrder([], f"That is {len(lines)} lines; at most {MAX_LINES} at a time")
    seen: dict[str, int] = {}
    checked = []
    for line in lines:
        key = line.code.lower() if line.code else None
        if key is not None and key in seen and line.error is None:
            line = replace(line, error=f"{line.code} is already on line {seen[key]}; put its whole quantity "
                                       "on one line")
        elif key is not None:
            seen.setdefault(key, line.number)
        checked.append(line)
    return QuickOrder(checked)


def _match(line: QuickLine, by_code: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The SKU a line names; None when none does, or when several differ only in case and
    none is written exactly as the line writes it."""
    candidates = by_code.get(line.code.lower(), []) if line.code else []
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    exact = [row for row in candidates if row["sku_code"] == line.code]
    return exact[0] if exact else None


async def preview(ctx: Context, user: CurrentUser, text: str) -> QuickOrder:
    """`parse`, then every line resolved, priced for this customer and checked against the
    stock on sale: two queries, whatever the number of lines."""
    parsed = parse(text)
    if parsed.error is not None:
        return parsed
    codes = sorted({line.code.lower() for line in parsed.lines if line.code})
    today = business_day()
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["skus_by_code"], {
            "codes": codes, "sellable_after": sellable_after(ctx.settings, today)})
        by_code: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_code.setdefault(row["code_key"], []).append(row)
        matched = [(line, _match(line, by_code)) for line in parsed.lines]
        wanted = {row["sku_id"]: line.quantity for line, row in matched
                  if row is not None and row["is_active"] and line.error is None}
        prices = await pricing.price_lines(conn, lines=wanted, customer_id=user.customer_id, on=today)
    return QuickOrder([_resolved(line, row, prices, by_code) for line, row in matched])


def _resolved(line: QuickLine, row: dict[str, Any] | None, prices: dict[int, dict[str, Any]],
              by_code: dict[str, list[dict[str, Any]]]) -> QuickLine:
    if row is None:
        if line.code is None:
            return line
        error = (f"{line.code} matches more than one SKU code; write it exactly"
                 if by_code.get(line.code.lower()) else f"No SKU has the code {line.code}")
        return replace(line, error=line.error or error)
    line = replace(line, sku_id=row["sku_id"], sku_code=row["sku_code"], product_name=row["product_name"],
                   package_size=row["package_size"], unit_type=row["unit_type"])
    if not row["is_active"]:
        return replace(line, error=line.error or f"{row['sku_code']} is no longer sold")
    if line.error is not None:
        return line
    price = prices[row["sku_id"]]
    stock = row["available"]
    line = replace(line, unit_price=price["unit_price"], discount_percentage=price["discount_percentage"],
                   line_total=price["line_total"], available=stock)
    if line.quantity > stock:
        return replace(line, error=f"Only {stock:,} available" if stock else "Out of stock")
    return line
