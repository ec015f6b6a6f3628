"""Reading the stock forms (receive, adjust, write off, edit, entry confirm) with the API's own
request models, so a form accepts exactly what the JSON API accepts, and turning what the
model refuses into a sentence per field a stock clerk can act on.

One rule is the UI's own: a receipt must expire after today. The API takes a past date
(stock arriving expired is never sellable, so it is almost always a typing slip); the
pages refuse it and say why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from stockline.inventory.batches.schemas import BatchAdjust, BatchEdit, BatchReceive, BatchWriteOff
from stockline.kernel.expiry import business_day, expired
from stockline.web.forms import FormInvalid, validated
from stockline.web.render import day, form_text

Model = TypeVar("Model", bound=BaseModel)

LABELS = {"sku_code": "SKU", "sku_id": "SKU", "batch_no": "Batch number", "quantity": "Quantity",
          "expiry_date": "Expiry date", "cost_price": "Cost price", "note": "Note", "delta": "Change",
          "new_quantity": "Counted quantity", "reason": "Reason"}
REASONS = {"count_correction": "Count correction", "damaged": "Damaged", "found": "Found",
           "returned_to_supplier": "Returned to supplier", "recall": "Recall", "other": "Other"}
RECEIPT_FIELDS = ("sku_code", "batch_no", "expiry_date", "quantity", "cost_price", "note")
ADJUST_FIELDS = ("delta", "new_quantity", "reason", "note")


HINTS = {"batch_no": "may hold letters, digits, spaces and . / _ # - and must start with a letter or digit"}


def _validated(model: type[Model], values: dict[str, str], whole_form: str) -> Model:
    """`model` from the form's non-empty values; FormInvalid naming each refused field."""
    return validated(model, {name: value for name, value in values.items() if value != ""}, LABELS,
                     HINTS, whole_form)


def receipt_values(form: Any, prefix: str = "") -> dict[str, str]:
    """The receipt fields as typed (stripped), for validating and for showing them again."""
    return {name: form_text(form, prefix + name) for name in RECEIPT_FIELDS}


def check_expiry_after_today(expiry: date, field: str = "expiry_date") -> None:
    today = business_day()
    if expired(expiry, today):
        raise FormInvalid({field: f"Expiry date {day(expiry)} is not after today ({day(today)}): this stock "
                                 "would arrive expired. Check the date"})


def receipt(values: dict[str, str], *, sku_id: int | None = None) -> BatchReceive:
    """A valid receipt or FormInvalid naming every refused field. The SKU is `sku_id` when
    the form chose one (entry confirm), else the SKU code typed."""
    fields = dict(values)
    if sku_id is not None:
        fields.pop("sku_code", None)
        fields["sku_id"] = str(sku_id)
    no_sku = sku_id is None and not fields.get("sku_code")
    if no_sku:
        fields["sku_code"] = "?"  # a stand-in, so the other fields are checked all the same
    errors = {"sku_code": "SKU is required: type its code (the list suggests codes)"} if no_sku else {}
    try:
        parsed = _validated(BatchReceive, fields, "Give the SKU")
    except FormInvalid as exc:
        errors |= exc.fields
    if errors:
        raise FormInvalid(errors)
    check_expiry_after_today(parsed.expiry_date)
    return parsed


def adjustment(values: dict[str, str]) -> BatchAdjust:
    if values.get("delta") and values.get("new_quantity"):
        raise FormInvalid({"delta": "Fill in either the change or the counted quantity, not both"})
    try:
        return _validated(BatchAdjust, values, "Fill in the change (like -3 or 5) or the counted quantity")
    except FormInvalid as exc:  # the model's "one of the two" check belongs beside the change field
        raise FormInvalid({field or "delta": text for field, text in exc.fields.items()}) from None


def adjust_values(form: Any) -> dict[str, str]:
    return {name: form_text(form, name) for name in ADJUST_FIELDS}


def write_off_note(form: Any) -> str | None:
    return _validated(BatchWriteOff, {"note": form_text(form, "note")}, "").note


EDIT_FIELDS = ("cost_price", "expiry_date", "note")
SHOWN_SUFFIX = "_was"  # hidden fields: the value the edit form showed when it was drawn


def edit_values(form: Any) -> dict[str, str]:
    """The edit form as typed, with the values it showed (`cost_price_was`, `expiry_date_was`)."""
    names = (*EDIT_FIELDS, "cost_price" + SHOWN_SUFFIX, "expiry_date" + SHOWN_SUFFIX)
    return {name: form_text(form, name) for name in names}


def _same(value: Any, shown: str, parse: Callable[[str], Any]) -> bool:
    """Whether `value` is what the form showed (a blank field keeps the value too)."""
    if value is None:
        return True
    try:
        return value == parse(shown)
    except (ValueError, ArithmeticError):  # not a value the page drew: treat it as changed
        return False


def batch_edit(values: dict[str, str]) -> BatchEdit:
    """The correction the clerk made: only the fields changed from what the form showed, so
    correcting the cost never puts back an expiry someone else changed meanwhile."""
    parsed = _validated(BatchEdit, {name: values[name] for name in EDIT_FIELDS},
                        "Give a new cost price or expiry date")
    unchanged = {name: None for name, parse in (("cost_price", Decimal), ("expiry_date", date.fromisoformat))
                 if _same(getattr(parsed, name), values[name + SHOWN_SUFFIX], parse)}
    if len(unchanged) == 2:
        raise FormInvalid({"": "Nothing changed: type a new cost price or expiry date"})
    return parsed.model_copy(update=unchanged)
