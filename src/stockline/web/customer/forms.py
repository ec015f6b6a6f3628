"""Reading what customers type (quantities, ids) into numbers, and the messages the cart
pages give: each says what to fix, naming the product and the quantities. A form never
answers 500 or a bare framework 422."""

from __future__ import annotations

from stockline.errors import ValidationFailed
from stockline.kernel.inputs import INT4_MAX, ascii_digits, read_int
from stockline.ordering.cart import Addition
from stockline.ordering.schemas import MAX_UNITS

MAX_ID = INT4_MAX


def read_quantity(text: str, *, minimum: int = 1) -> int:
    """A quantity typed in a form; ValidationFailed with a message a person understands."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not ascii_digits(cleaned):
        raise ValidationFailed(f"Enter the quantity as a whole number (\"{text.strip()}\" is not one)"
                               if text.strip() else "Enter a quantity")
    value = read_int(cleaned, maximum=MAX_UNITS)
    if value is None:
        raise ValidationFailed(f"The quantity must be at most {MAX_UNITS:,}")
    if value < minimum:
        raise ValidationFailed(f"The quantity must be at least {minimum}")
    return value


def read_id(text: str, *, maximum: int = MAX_ID) -> int | None:
    """A positive database id from a form or a path; None when it cannot be one."""
    return read_int(text.strip(), minimum=1, maximum=maximum)


def whole_number(text: str | None, default: int, *, maximum: int) -> int:
    """A query-string number such as `page`, falling back to `default` when absurd."""
    value = read_int(text.strip(), minimum=1, maximum=maximum) if text is not None else None
    return default if value is None else value


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
