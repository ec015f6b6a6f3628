"""The pricing rule in Python: `price_line` prices one line from the rules given.

Its SQL form is `stockline_price()` in db/schema.sql, which the queries that price rows use
(catalog pages, the cart, placing an order, quick order). This form serves where the rules
are already in Python: the product page's price ladder, the price preview and its reasons,
and the seed's simulated history. tests/test_pricing.py proves the two agree on random rule
sets.

A rule applies to (customer, SKU, quantity, date) when its sku_id is NULL or the SKU, its
customer_id is NULL or the customer, min_quantity <= quantity, and the date lies inside
[valid_from, valid_to] where given. The best applicable discount wins (they never stack);
ties go to the most specific rule (SKU + customer, SKU, customer, global), then the lowest
rule_id. Tiers are all-units. Net unit price = base * (1 - d/100), rounded half-up to the
cent; line total = net unit price * quantity. The next tier is the smallest higher
min_quantity whose rule would give a bigger discount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from stockline.kernel.money import CENT

ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class PricingRule:
    rule_id: int
    sku_id: int | None
    customer_id: int | None
    min_quantity: int
    discount_percentage: Decimal
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def specificity(self) -> int:
        """3 = SKU + customer, 2 = SKU, 1 = customer, 0 = global."""
        return 2 * (self.sku_id is not None) + (self.customer_id is not None)

    def matches(self, customer_id: int | None, sku_id: int, on: date) -> bool:
        """Applies to this customer, SKU and date, whatever the quantity."""
        return ((self.sku_id is None or self.sku_id == sku_id)
                and (self.customer_id is None or self.customer_id == customer_id)
                and (self.valid_from is None or self.valid_from <= on)
                and (self.valid_to is None or on <= self.valid_to))


@dataclass(frozen=True)
class NextTier:
    min_quantity: int
    discount_percentage: Decimal


@dataclass(frozen=True)
class Price:
    base_price: Decimal
    discount_percentage: Decimal
    unit_price: Decimal
    line_total: Decimal
    rule_id: int | None
    next_tier: NextTier | None


def net_unit_price(base_price: Decimal, discount_percentage: Decimal) -> Decimal:
    return (base_price * (HUNDRED - discount_percentage) / HUNDRED).quantize(CENT, ROUND_HALF_UP)


def price_line(*, customer_id: int | None, sku_id: int, base_price: Decimal, quantity: int,
               on: date, rules: Iterable[PricingRule]) -> Price:
    """Price `quantity` units of a SKU for a customer (None: anonymous) on a date."""
    matching = [rule for rule in rules if rule.matches(customer_id, sku_id, on)]
    applicable = [rule for rule in matching if rule.min_quantity <= quantity]
    best = min(applicable, key=lambda r: (-r.discount_percentage, -r.specificity, r.rule_id),
               default=None)
    discount = best.discount_percentage if best else ZERO
    higher = [rule for rule in matching
              if rule.min_quantity > quantity and rule.discount_percentage > discount]
    upcoming = min(higher, key=lambda r: (r.min_quantity, -r.discount_percentage), default=None)
    unit = net_unit_price(base_price, discount)
    return Price(
        base_price=base_price,
        discount_percentage=discount,
        unit_price=unit,
        line_total=unit * quantity,
        rule_id=best.rule_id if best else None,
        next_tier=NextTier(upcoming.min_quantity, upcoming.discount_percentage) if upcoming else None,
    )
