"""Row factories for generated data. Pure: every value comes from the `random.Random` passed
in, so the same seed gives the same rows."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from stockline.seeding.vocabulary import (
    CUSTOMER_NAMES_BY_TYPE,
    CUSTOMER_TYPES,
    DRUGS,
    INHALER,
    INJECTION,
    MANUFACTURERS,
    STREETS,
    TABLET,
    TOWNS,
    Drug,
    Form,
)

# batch mix the seed procedure's notes ask for (FEFO and low-stock filters need them)
ZERO_STOCK_SHARE = 0.10
EXPIRED_SHARE = 0.03
EXPIRING_SOON_SHARE = 0.07   # expiring within 30 days, still sellable
COST_ABOVE_BASE_SHARE = 0.04  # bought dear: loss reports have something to show
SOON_DAYS = 30

_LIQUID = ("ml",)
_TOPICAL = ("%",)


def _fits(strength: str, form: Form) -> bool:
    """Whether a strength reads naturally with a dosage form."""
    liquid_form = form.unit_type in ("bottle", "ampoule", "bag") or form is INJECTION
    if "dose" in strength:
        return form is INHALER
    if "/h" in strength:
        return form.unit_type == "patch"
    if any(mark in strength for mark in _TOPICAL):
        return form.unit_type in ("tube", "bottle", "bag", "ampoule")
    if any(mark in strength for mark in _LIQUID):
        return liquid_form
    return not liquid_form and form.unit_type not in ("tube", "inhaler", "patch")


@dataclass(frozen=True)
class Presentation:
    drug: Drug
    strength: str
    strength_rank: int
    form: Form

    @property
    def product_name(self) -> str:
        return f"{self.drug.name} {self.strength} {self.form.label}"


@lru_cache(maxsize=1)
def presentations() -> tuple[Presentation, ...]:
    found = []
    for drug in DRUGS:
        pairs = [(rank, strength, form) for rank, strength in enumerate(drug.strengths)
                 for form in drug.forms if _fits(strength, form)]
        if not pairs:
            pairs = [(rank, strength, drug.forms[0]) for rank, strength in enumerate(drug.strengths)]
        found.extend(Presentation(drug, strength, rank, form) for rank, strength, form in pairs)
    return tuple(found)


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Presentation]:
    return {p.product_name: p for p in presentations()}


def presentation_of(product_name: str) -> Presentation:
    """The presentation a product name was made from; products the generator did not make
    are treated as plain tablets so SKUs can still be added to them."""
    return _by_name().get(product_name) or Presentation(
        Drug(product_name, "Other", ("",), (TABLET,), 0.10), "", 0, TABLET)


def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    pick = rng.random()
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


def customer_row(rng: random.Random, now: datetime) -> tuple:
    customer_type = _weighted(rng, CUSTOMER_TYPES)
    town = rng.choice(TOWNS)
    name = f"{town} {rng.choice(CUSTOMER_NAMES_BY_TYPE[customer_type])}"
    if rng.random() < 0.35:
        name = f"{rng.choice(STREETS).split()[0]} {name}"
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
    address = (f"{rng.randint(1, 240)} {rng.choice(STREETS)}, {town} "
               f"{rng.choice('ABCDEFGHKLMNPRSTW')}{rng.randint(1, 29)} {rng.randint(1, 9)}"
               f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")
    email = f"orders@{slug}{rng.randint(1, 99)}.example"
    phone = f"+1-555-{rng.randint(100, 999):03d}-{rng.randint(0, 9999):04d}"
    created_at = now - timedelta(days=rng.randint(90, 1500), seconds=rng.randint(0, 86399))
    return (name, address, customer_type, email, phone, created_at)


def product_row(rng: random.Random) -> tuple:
    presentation = rng.choice(presentations())
    drug = presentation.drug
    description = (f"{drug.name} {presentation.strength} {presentation.form.label}. "
                   f"{drug.category}; prescription medicine, store below 25 °C.")
    return (presentation.product_name, rng.choice(MANUFACTURERS), description, drug.category)


def sku_row(rng: random.Random, sku_id: int, product_id: int, product_name: str, nth: int) -> tuple:
    """The `nth` SKU of a product: its packs in turn, then multipacks of them."""
    presentation = presentation_of(product_name)
    packs = presentation.form.packs
    package_size, units = packs[nth % len(packs)]
    if nth >= len(packs):
        multiple = nth // len(packs) + 1
        package_size, units = f"{multiple} x {package_size}", units * multiple
    unit_price = presentation.drug.unit_price * (1 + 0.6 * presentation.strength_rank)
    price = unit_price * units * rng.lognormvariate(0, 0.25)
    base_price = Decimal(str(max(0.5, round(price, 2)))).quantize(Decimal("0.01"))
    reorder_level = rng.choice((5, 10, 10, 10, 20, 25, 50)) if base_price < 50 else rng.choice((2, 5, 5, 10))
    code = "".join(ch for ch in presentation.drug.name.upper() if ch.isalpha())[:4] or "SKU"
    return (sku_id, product_id, f"{code}-{sku_id:06d}", package_size, presentation.form.unit_type,
            base_price, reorder_level)


@dataclass(frozen=True)
class SkuFacts:
    """What a batch of a SKU needs to know about it."""

    sku_id: int
    base_price: Decimal
    batch_prefix: str


class BatchSerials:
    """Each SKU's running batch serial, from a random start: batch numbers made in one run
    never repeat for a SKU (up to 100,000 batches of it)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last: dict[int, int] = {}

    def next(self, sku_id: int) -> int:
        last = self.last.get(sku_id)
        serial = self.rng.randrange(100_000) if last is None else last + 1
        self.last[sku_id] = serial
        return serial


def batch_row(rng: random.Random, sku: SkuFacts, serial: int, today: date, now: datetime) -> tuple:
    """A batch of `sku`. `serial` is the manufacturer's running batch number for the SKU, so
    batch numbers made in one run never repeat for a SKU."""
    roll = rng.random()
    if roll < EXPIRED_SHARE:
        expiry = today - timedelta(days=rng.randint(1, 180))
    elif roll < EXPIRED_SHARE + EXPIRING_SOON_SHARE:
        expiry = today + timedelta(days=rng.randint(1, SOON_DAYS))
    else:
        expiry = today + timedelta(days=rng.randint(SOON_DAYS + 1, 1095))
    shelf_life_days = rng.choice((540, 730, 730, 1095, 1095, 1460))
    received = min(now - timedelta(days=1),
                   datetime.combine(expiry, datetime.min.time(), now.tzinfo)
                   - timedelta(days=shelf_life_days - rng.randint(20, 120)))
    received = received.replace(hour=rng.randint(6, 17), minute=rng.randint(0, 59), second=0,
                                microsecond=0)
    zero_stock = rng.random() < ZERO_STOCK_SHARE
    price = float(sku.base_price)
    quantity = 0 if zero_stock else max(1, int(rng.lognormvariate(4.6, 0.8) * (20 / (price + 20))))
    margin = (rng.uniform(1.0, 1.15) if rng.random() < COST_ABOVE_BASE_SHARE
              else rng.uniform(0.55, 0.92))
    cost = Decimal(str(round(price * margin, 2))).quantize(Decimal("0.01"))
    month_letter = "ABCDEFGHJKLM"[received.month - 1]
    batch_no = f"{sku.batch_prefix}{received.year % 100:02d}{month_letter}{serial % 100000:05d}"
    return (sku.sku_id, batch_no, expiry, quantity, cost, received)
