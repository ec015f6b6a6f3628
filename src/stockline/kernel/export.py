"""How a list's rows leave the building: one column list per report (and per export, such as
the invoices') renders both the JSON items and the CSV export, so the two can never disagree
on names, order or formats. In the kernel so every domain that exports shares it (billing
sits below reporting).

Cell kinds: `text` (strings from the database: names, codes, batch numbers), `int`, `bool`,
`money` (Decimal -> "12.50", stockline.kernel.money.money), `decimal` (a non-money
Decimal, rendered with the places its query rounded it to), `date` and `timestamp` (ISO 8601,
timestamps in UTC).
NULL is JSON null and an empty CSV cell.

CSV formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab or
carriage return, which some of them strip first) as a formula. Text cells starting so are
prefixed with an apostrophe, which spreadsheets show as text. Only text cells: numbers and
money written by us (a loss of "-3.00") stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any, Literal

from stockline.kernel.money import money

Kind = Literal["text", "int", "bool", "money", "decimal", "date", "timestamp"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


def cell(value: Any, kind: Kind) -> Any:
    """A value as the JSON API shows it."""
    if value is None:
        return None
    if kind == "money":
        return money(Decimal(value))
    if kind == "decimal":
        return str(value)
    if kind == "timestamp":  # in UTC, as the API's models write it: 2026-11-25T08:34:57.201672Z
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind == "date":
        return value.isoformat()
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def item(row: Mapping[str, Any], columns: Iterable[Column]) -> dict[str, Any]:
    return {column.name: cell(row[column.name], column.kind) for column in columns}


def safe_text(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any, kind: Kind) -> str:
    rendered = cell(value, kind)
    if rendered is None:
        return ""
    if kind == "bool":
        return "true" if rendered else "false"
    return safe_text(rendered) if kind == "text" else str(rendered)


def csv_text(rows: Iterable[Mapping[str, Any]], columns: tuple[Column, ...], *, header: bool = True) -> str:
    """A header row, then one line per row (RFC 4180: CRLF line ends, quoting as needed).
    Without the header: the next chunk of a streamed export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(column.name for column in columns)
    for row in rows:
        writer.writerow(csv_cell(row[column.name], column.kind) for column in columns)
    return buffer.getvalue()


def attachment(filename: str) -> dict[str, str]:
    """Headers that make a browser save the body as `filename` (ASCII names only)."""
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
