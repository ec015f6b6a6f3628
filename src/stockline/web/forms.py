"""Reading forms and filters. The API's own request models check the values, so a page
accepts exactly what the API accepts; what they refuse becomes one plain sentence per field
("Quantity must be a whole number (digits only, like 12)"), shown beside the input and in a
summary above the form."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stockline.errors import Conflict, DomainError, Forbidden, ValidationFailed
from stockline.kernel.inputs import ascii_digits, read_int
from stockline.pagination import PageRequest
from stockline.web.render import form_text

Model = TypeVar("Model", bound=BaseModel)
PAGE_SIZE = 25
MAX_PAGE = 100_000
WHOLE_FORM = ""  # the key of a refusal about the form as a whole


# What a form shows beside its fields: a missing record (404) shows the not-found page
# instead, an outage (503) or throttling (429) the error page.
REFUSED = (ValidationFailed, Conflict, Forbidden)


class FormInvalid(ValidationFailed):
    """422 naming every field that needs correcting (`fields`: name → sentence)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Please correct: " + "; ".join(fields.values()), details=fields)
        self.fields = fields


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _phrase(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    whole = "must be a whole number (digits only, like 12)"
    amount = "must be an amount like 12.50"
    a_date = "must be a date (YYYY-MM-DD)"
    too_large = "is too large"
    phrases = {
        "missing": "is required",
        "greater_than": f"must be more than {_number(ctx.get('gt'))}",
        "greater_than_equal": f"must be at least {_number(ctx.get('ge'))}",
        "less_than_equal": f"must be at most {_number(ctx.get('le'))}",
        "int_parsing": whole, "int_from_float": whole, "int_type": whole,
        "decimal_parsing": amount, "decimal_type": amount,
        "decimal_max_places": f"may have at most {ctx.get('decimal_places')} decimal places",
        "decimal_whole_digits": too_large, "decimal_max_digits": too_large,
        "date_parsing": a_date, "date_from_datetime_parsing": a_date, "date_type": a_date,
        "string_too_short": "is required",
        "string_too_long": f"is too long (at most {ctx.get('max_length')} characters)",
        "literal_error": "must be one of the choices offered",
        "enum": "must be one of the choices offered",
        "bool_parsing": "must be yes or no",
        "nul_character": "must not contain the NUL character",  # kernel.inputs.Text
    }
    return phrases.get(kind, str(error.get("msg", "is not valid")).lower())


def validated(model: type[Model], data: dict[str, Any], labels: dict[str, str],
              hints: dict[str, str] | None = None, whole_form: str | None = None) -> Model:
    """`data` checked by `model`; FormInvalid with a sentence per field otherwise. `hints`
    replace the phrase for a field whose value has the wrong shape (an email, a batch
    number); `whole_form` says what a refusal of the form as a whole means."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else WHOLE_FORM
            if name in fields:
                continue
            if name == WHOLE_FORM:
                fields[name] = whole_form or str(error.get("msg", "The form is not valid"))
                continue
            phrase = (hints or {}).get(name) if error["type"] == "string_pattern_mismatch" else None
            fields[name] = f"{labels.get(name, name)} {phrase or _phrase(error)}"
        raise FormInvalid(fields) from None


def texts(source: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    """The named fields of a form or query as stripped text, blanks as None (not given)."""
    values = {name: form_text(source, name) for name in names}
    return {name: value or None for name, value in values.items()}


def paging(raw_page: str | None) -> PageRequest:
    """The page asked for in the query string; anything unusable is the first page."""
    page = read_int(raw_page, minimum=1, maximum=MAX_PAGE)
    if page is None:  # a number past the last page is the last page, anything else the first
        page = MAX_PAGE if ascii_digits(raw_page) and (raw_page or "").strip("0") else 1
    return PageRequest(page, PAGE_SIZE)


# a service's refusal that is about one field, by its error code (others name it in details)
_FIELD_OF_CODE = {"username_taken": "username", "invalid_username": "username",
                  "unknown_customer": "customer_id", "customer_required": "customer_id",
                  "customer_not_allowed": "customer_id", "unknown_sku": "sku_id",
                  "invalid_validity_window": "valid_to"}


def field_errors(exc: DomainError) -> dict[str, str]:
    """The fields to mark as wrong, each with its message."""
    if isinstance(exc, FormInvalid):
        return exc.fields
    details = exc.details if isinstance(exc.details, dict) else {}
    field = _FIELD_OF_CODE.get(exc.code) or details.get("field")
    return {field: exc.message} if isinstance(field, str) else {}
