"""Money: Decimal everywhere, rounded half-up to the cent per line, shown with two places."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """Money as the API shows it: a decimal string with two places ("12.50")."""
    return f"{value:.2f}"
