"""Reading what people type, safely: whole numbers from text and comparing secrets.

`str.isdigit()` accepts "²" and "٣", and strings of thousands of digits that `int()` then
refuses (Python caps int() at 4,300 digits) or that overflow a database column; and
`hmac.compare_digest` raises TypeError on a non-ASCII str. These helpers never raise on
any text, so user input can not turn into a 500.

`Text` (`MaybeText` where null is allowed) is the type of every string a request carries to
the database: PostgreSQL text can not hold the NUL character (psycopg refuses to send it), so
a "\\u0000" in a JSON field or a %00 in a query string is a 422 naming the field, not a 500.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

INT4_MAX = 2_147_483_647  # PostgreSQL integer (serial ids)
INT8_MAX = 9_223_372_036_854_775_807  # PostgreSQL bigint (order ids)

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: re's \d and str.isdigit() take any script
MAX_DIGITS = 19  # enough for any bigint


def ascii_digits(text: str | None) -> bool:
    """`text` is one or more of 0-9 and nothing else ("²", "٣", "+1", " 1" are not)."""
    return text is not None and _DIGITS.fullmatch(text) is not None


def read_int(text: str | None, *, minimum: int = 0, maximum: int = INT4_MAX) -> int | None:
    """`text` as an int when it is only ASCII digits (no sign, no spaces: strip first if
    wanted) and within minimum..maximum; None otherwise. Leading zeros are allowed; at most
    MAX_DIGITS significant digits are converted, so the work is bounded whatever `text` is."""
    if text is None or not ascii_digits(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > MAX_DIGITS:
        return None
    value = int(significant)
    return value if minimum <= value <= maximum else None


def storable(value: object) -> object:
    """`value` unchanged unless it is text holding the NUL character, which PostgreSQL can not
    store: then a validation error of type `nul_character`. (Run before str's own checks, so
    a too-long string is still `string_too_long`.)"""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain the NUL character (\\u0000)")
    return value


Text = Annotated[str, BeforeValidator(storable)]
# Optional text: `Text | None` would apply a field's max_length after the check, as a generic
# `too_long`; this keeps str's own `string_too_long` (and its message).
MaybeText = Annotated[str | None, BeforeValidator(storable)]


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def same_secret(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time equality of two secrets (tokens, signatures) of any characters."""
    return hmac.compare_digest(_bytes(expected), _bytes(given))
