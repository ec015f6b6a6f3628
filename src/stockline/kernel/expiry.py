"""The expiry rule, in one place.

A batch expires at the start of its expiry date and is sellable while
`expiry_date > today + MIN_SHELF_LIFE_DAYS`. "Today" is the UTC calendar day, for every
worker and every query, so a batch's status never depends on the server's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from stockline.config import Settings


def business_day() -> date:
    return datetime.now(UTC).date()


def sellable_after(settings: Settings, today: date | None = None) -> date:
    """Batches whose expiry_date is after this day may be sold today."""
    return (today or business_day()) + timedelta(days=settings.min_shelf_life_days)
