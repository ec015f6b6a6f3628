"""The tax of a line, in Python: its net amount times the rate, rounded half-up to the cent.

The SQL form is `stockline_line_tax()` in db/schema.sql, which orders use at sale; this one
serves code that computes tax outside a query (credit notes for part of a line). A test
keeps the two equal.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from stockline.kernel.money import CENT


def line_tax(net: Decimal, rate: Decimal) -> Decimal:
    """Tax on `net` at `rate` percent, half-up to the cent."""
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
