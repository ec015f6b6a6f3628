"""The expiry rule, in one place.

A batch expires at the start of its expiry date and is sellable while it holds stock and
`expiry_date > today + MIN_SHELF_LIFE_DAYS`. "Today" is the UTC calendar day, for every
worker and every query, so a batch's status never depends on the server's time zone.

The rules are SQL functions in db/schema.sql (`stockline_sellable`, `stockline_expired`),
which every query uses. `sellable` and `expired` below are their Python mirrors, only for
values already in Python (a batch read, a date typed into a form, the seed's simulated
history); tests/test_stock_rules.py proves each agrees with its SQL function.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from stockline.config import Settings


def business_day() -> date:
    return datetime.now(UTC).date()


def utc_midnight(day: date) -> datetime:
    """The moment a UTC business day begins (orders of a day: midnight <= order_date < the next)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def window_start(today: date, days: int) -> date:
    """The first of the `days` UTC calendar days that end today (a sales window)."""
    return today - timedelta(days=days - 1)


def sellable_after(settings: Settings, today: date | None = None) -> date:
    """Batches whose expiry_date is after this day may be sold today."""
    return (today or business_day()) + timedelta(days=settings.min_shelf_life_days)


def sellable(quantity_on_hand: int, expiry_date: date, after: date, quarantined: bool = False) -> bool:
    """stockline_sellable(): holds stock, expires after `after` (a `sellable_after`) and is
    not quarantined."""
    return quantity_on_hand > 0 and expiry_date > after and not quarantined


def expired(expiry_date: date, today: date) -> bool:
    """stockline_expired(): expired on `today` (from the start of its expiry date)."""
    return expiry_date <= today
