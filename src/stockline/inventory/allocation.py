"""First-expiry-first-out allocation, as a pure function.

Each wanted line takes units from its SKU's sellable batches in (expiry_date, batch_id)
order, splitting across batches as needed. All-or-nothing: when any line is short, nothing
is allocated and one `InsufficientStock` lists every short line, so the caller can show the
customer everything at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stockline.errors import Conflict


@dataclass(frozen=True)
class SellableBatch:
    batch_id: int
    sku_id: int
    batch_no: str
    expiry_date: date
    quantity_on_hand: int
    cost_price: Decimal


@dataclass(frozen=True)
class Allocation:
    batch: SellableBatch
    quantity: int


@dataclass(frozen=True)
class Shortage:
    sku_id: int
    requested: int
    available: int

    def as_dict(self) -> dict[str, int]:
        return {"sku_id": self.sku_id, "requested": self.requested, "available": self.available}


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        skus = ", ".join(str(s.sku_id) for s in shortages)
        super().__init__(f"Not enough sellable stock for SKU {skus}; nothing was ordered",
                         details={"lines": [s.as_dict() for s in shortages]})


def allocate_fefo(wanted: Mapping[int, int], batches: Iterable[SellableBatch]) -> dict[int, list[Allocation]]:
    """Allocations per SKU for `wanted` ({sku_id: units}) from sellable `batches` (any
    order, any SKUs). Raises InsufficientStock naming every line that cannot be filled."""
    by_sku: dict[int, list[SellableBatch]] = defaultdict(list)
    for batch in batches:
        if batch.quantity_on_hand > 0:
            by_sku[batch.sku_id].append(batch)
    allocations: dict[int, list[Allocation]] = {}
    shortages = []
    for sku_id, requested in sorted(wanted.items()):
        candidates = sorted(by_sku[sku_id], key=lambda b: (b.expiry_date, b.batch_id))
        available = sum(b.quantity_on_hand for b in candidates)
        if available < requested:
            shortages.append(Shortage(sku_id, requested, available))
            continue
        remaining, taken = requested, []
        for batch in candidates:
            if remaining == 0:
                break
            quantity = min(remaining, batch.quantity_on_hand)
            taken.append(Allocation(batch, quantity))
            remaining -= quantity
        allocations[sku_id] = taken
    if shortages:
        raise InsufficientStock(shortages)
    return allocations
