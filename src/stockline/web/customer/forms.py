"""Reading what customers type (quantities, ids) into numbers, and the messages the cart
pages give: each says what to fix, naming the product and the quantities. A form never
answers 500 or a bare framework 422."""

from __future__ import annotations

from stockline.errors import ValidationFailed
from stockline.ordering.cart import Addition
from stockline.ordering.schemas import MAX_UNITS

MAX_ID = 2_147_483_647


def read_quantity(text: str, *, minimum: int = 1) -> int:
    """A quantity typed in a form; ValidationFailed with a message a person understands."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit():
        raise ValidationFailed(f"Enter the quantity as a whole number (\"{text.strip()}\" is not one)"
                               if text.strip() else "Enter a quantity")
    value = int(cleaned)
    if value < minimum:
        raise ValidationFailed(f"The quantity must be at least {minimum}")
    if value > MAX_UNITS:
        raise ValidationFailed(f"The quantity must be at most {MAX_UNITS:,}")
    return value


def read_id(text: str, *, maximum: int = MAX_ID) -> int | None:
    """A positive database id from a form or a path; None when it cannot be one."""
    text = text.strip()
    if not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= maximum:
        return None
    return int(text)


def whole_number(text: str | None, default: int, *, maximum: int) -> int:
    """A query-string number such as `page`, falling back to `default` when absurd."""
    if text is None or not text.strip().isdigit():
        return default
    value = int(text.strip())
    return value if 1 <= value <= maximum else default


def refusal(line: Addition) -> str:
    """Why a line could not go into the cart, naming the product and the quantities."""
    if line.product_name is None:
        return f"SKU {line.sku_id} is not in the catalog"
    name = f"{line.product_name} ({line.sku_code})"
    if line.problem == "no longer sold":
        return f"{name} is no longer sold"
    asked = f"you asked for {line.total:,}"
    if line.in_cart:
        asked += f" in all ({line.in_cart:,} already in your cart)"
    left = f"only {line.available:,} available" if line.available else "none is available now"
    return f"Not enough stock of {name}: {asked}, {left}"


def shortage(line: dict, name: str) -> str:
    """A short line ({sku_id, requested, available}) of a 409 insufficient_stock, in words."""
    left = f"only {line['available']:,} available" if line["available"] else "none is available now"
    return f"Not enough stock of {name}: you asked for {line['requested']:,}, {left}"
