"""First-expiry-first-out allocation: its terms, and the error that reports a short order.

The allocation itself runs in PostgreSQL, inside the transaction that places the order
(`stockline_place_order()` in db/schema.sql): each wanted line takes units from its SKU's
sellable batches in (expiry_date, batch_id) order, splitting across batches as needed.
All-or-nothing: when any line is short, nothing is allocated and one `InsufficientStock`
lists every short line, so the caller can show the customer everything at once.

`fefo` is the same walk in memory, for the seed's simulated history, which sells from
batches it tracks itself; tests/test_allocation.py proves both take the same units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from stockline.errors import Conflict

B = TypeVar("B")


@dataclass(frozen=True)
class Shortage:
    sku_id: int
    requested: int
    available: int

    def as_dict(self) -> dict[str, int]:
        return {"sku_id": self.sku_id, "requested": self.requested, "available": self.available}


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, shortages: list[Shortage], message: str | None = None) -> None:
        self.shortages = shortages
        skus = ", ".join(str(s.sku_id) for s in shortages)
        super().__init__(message or f"Not enough sellable stock for SKU {skus}; nothing was ordered",
                         details={"lines": [s.as_dict() for s in shortages]})


def fefo(sellable: Iterable[tuple[B, int]], wanted: int) -> list[tuple[B, int]]:
    """Up to `wanted` units from (batch, units it holds) pairs of sellable batches given in
    (expiry_date, batch_id) order: each batch in turn, as many units as it holds, until the
    line is filled. Fewer units when the batches run out."""
    taken = []
    for batch, units in sellable:
        if wanted == 0:
            break
        quantity = min(wanted, units)
        taken.append((batch, quantity))
        wanted -= quantity
    return taken
