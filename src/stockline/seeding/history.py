"""Optional generated history: pricing rules and 90 days of orders, so dashboards, reports
and discount paths have something to show.

Orders are simulated in date order: each line is allocated first-expiry-first-out from
batches that had been received and were sellable on the order date (the app's rule, with
MIN_SHELF_LIFE_DAYS: `stockline.kernel.expiry`), priced with the one pricing rule
(`stockline.pricing.rules`), and written with its `sale` movements (and `cancel` movements
for cancelled orders) through the ledger (`ledger.copy_movements`), so the ledger invariant
holds after seeding.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from stockline.config import Settings
from stockline.inventory import ledger
from stockline.inventory.allocation import fefo
from stockline.kernel.expiry import sellable, sellable_after
from stockline.pricing.rules import PricingRule, price_line

HISTORY_DAYS = 90

RULE_COPY = ("COPY Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage, valid_from, "
             "valid_to) FROM STDIN (FORMAT BINARY)", ["int4", "int4", "int4", "numeric", "date", "date"])
ORDER_COPY = ("COPY Orders (order_id, customer_id, user_id, order_date, status, total_amount, updated_at) "
              "FROM STDIN (FORMAT BINARY)",
              ["int8", "int4", "int4", "timestamptz", "text", "numeric", "timestamptz"])
ITEM_COPY = ("COPY Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, "
             "discount_percentage, sale_price, unit_cost, pricing_rule_id) FROM STDIN (FORMAT BINARY)",
             ["int8", "int4", "int4", "int4", "numeric", "numeric", "numeric", "numeric", "int4"])

_TIER_STEPS = ((10, Decimal("2.50")), (25, Decimal("4.00")), (50, Decimal("5.00")), (100, Decimal("7.50")))


def pricing_rule_rows(rng: random.Random, count: int, sku_ids: list[int], customer_ids: list[int],
                      taken: set[tuple], today: date) -> list[tuple]:
    """A realistic mix: a few global volume tiers, SKU volume tiers (most rules), customer
    contracts (some with a validity window, a few already ended) and SKU + customer deals."""
    made: list[tuple] = []
    attempts = 0
    while len(made) < count and attempts < count * 20:
        attempts += 1
        roll = rng.random()
        valid_from = valid_to = None
        if roll < 0.05:
            min_quantity, discount = rng.choice(_TIER_STEPS)
            sku_id = customer_id = None
        elif roll < 0.65:
            sku_id, customer_id = rng.choice(sku_ids), None
            min_quantity = rng.choice((5, 10, 20, 50, 100))
            discount = Decimal(rng.choice((3, 4, 5, 6, 7.5, 8, 10, 12, 15))).quantize(Decimal("0.01"))
        elif roll < 0.90:
            sku_id, customer_id = None, rng.choice(customer_ids)
            min_quantity = 1
            discount = Decimal(str(rng.choice((2, 2.5, 3, 4, 5, 6, 8, 10, 12)))).quantize(Decimal("0.01"))
            if rng.random() < 0.4:  # a contract with a term; some ended already
                valid_from = today - timedelta(days=rng.randint(30, 400))
                valid_to = valid_from + timedelta(days=rng.choice((90, 180, 365, 730)))
        else:
            sku_id, customer_id = rng.choice(sku_ids), rng.choice(customer_ids)
            min_quantity = rng.choice((1, 10, 24, 48))
            discount = Decimal(str(round(rng.uniform(5, 22), 1))).quantize(Decimal("0.01"))
        key = (sku_id, customer_id, min_quantity)
        if key in taken:
            continue
        taken.add(key)
        made.append((sku_id, customer_id, min_quantity, discount, valid_from, valid_to))
    return made


@dataclass
class Batch:
    batch_id: int
    sku_id: int
    expiry_date: date
    remaining: int
    cost_price: Decimal
    received_at: datetime
    base_price: Decimal

    def sellable_on(self, moment: datetime, after: date) -> bool:
        """Received by `moment` and sellable then (`after`: that day's sellable_after)."""
        return self.received_at <= moment and sellable(self.remaining, self.expiry_date, after)


@dataclass
class OrderBatch:
    """The rows one chunk of simulated orders writes."""

    orders: list[tuple]
    items: list[tuple]
    movements: list[ledger.HistoricMovement]


class OrderSimulator:
    def __init__(self, rng: random.Random, batches: list[Batch], customers: list[tuple[int, int | None]],
                 rules: list[PricingRule], anchor: datetime, settings: Settings) -> None:
        self.rng = rng
        self.by_sku: dict[int, list[Batch]] = defaultdict(list)
        for batch in batches:  # already in FEFO order per SKU
            self.by_sku[batch.sku_id].append(batch)
        self.sku_ids = list(self.by_sku)
        self.customers = customers
        # a few customers order far more than the rest, as in real books
        self.customer_weights = [rng.paretovariate(1.3) for _ in customers]
        self.rules_by_sku: dict[int | None, list[PricingRule]] = defaultdict(list)
        for rule in rules:
            self.rules_by_sku[rule.sku_id].append(rule)
        self.anchor = anchor
        self.settings = settings  # its MIN_SHELF_LIFE_DAYS

    def order_dates(self, count: int) -> list[datetime]:
        start = self.anchor - timedelta(days=HISTORY_DAYS)
        span = int(timedelta(days=HISTORY_DAYS).total_seconds())
        return sorted(start + timedelta(seconds=self.rng.randrange(span)) for _ in range(count))

    def _status(self, order_date: datetime) -> str:
        age_days = (self.anchor - order_date).days
        roll = self.rng.random()
        if roll < 0.03:
            return "cancelled"
        if age_days < 2:
            return "pending" if roll < 0.8 else "processed"
        if age_days < 10:
            return "processed" if roll < 0.5 else "shipped"
        return "shipped" if roll < 0.97 else "processed"

    def _allocate(self, sku_id: int, wanted: int, moment: datetime) -> list[tuple[Batch, int]]:
        after = sellable_after(self.settings, moment.date())
        on_sale = [(b, b.remaining) for b in self.by_sku[sku_id] if b.sellable_on(moment, after)]
        return fefo(on_sale, wanted)

    def simulate(self, order_ids: list[int], dates: list[datetime]) -> OrderBatch:
        out = OrderBatch([], [], [])
        for order_id, moment in zip(order_ids, dates, strict=True):
            customer_id, user_id = self.rng.choices(self.customers, self.customer_weights)[0]
            status = self._status(moment)
            total = Decimal("0.00")
            items_before = len(out.items)
            lines = self.rng.sample(self.sku_ids, k=min(len(self.sku_ids), self.rng.randint(1, 6)))
            for sku_id in lines:
                wanted = max(1, int(self.rng.paretovariate(1.6) * 3))
                allocations = self._allocate(sku_id, wanted, moment)
                quantity = sum(q for _, q in allocations)
                if quantity == 0:
                    continue
                base = allocations[0][0].base_price
                price = price_line(customer_id=customer_id, sku_id=sku_id, base_price=base,
                                   quantity=quantity, on=moment.date(),
                                   rules=self.rules_by_sku[sku_id] + self.rules_by_sku[None])
                total += price.line_total
                for batch, q in allocations:
                    batch.remaining -= q
                    out.items.append((order_id, sku_id, batch.batch_id, q, base, price.discount_percentage,
                                      price.unit_price, batch.cost_price, price.rule_id))
                    out.movements.append((batch.batch_id, -q, "sale", order_id, user_id, None, moment))
                    if status == "cancelled":  # the units went back to the batch they came from
                        batch.remaining += q
                        out.movements.append((batch.batch_id, q, "cancel", order_id, user_id,
                                              "cancelled by customer", moment + timedelta(hours=2)))
            if len(out.items) == items_before:
                continue  # nothing was in stock for this order; its reserved id stays unused
            updated = moment + timedelta(hours=2 if status == "cancelled" else 0)
            out.orders.append((order_id, customer_id, user_id, moment, status, total, updated))
        return out
