"""Reading the audit log (stockline.audit writes it; admins read it): entries filtered by
actor, action, entity and time, newest first, a page at a time, or every one of them as a
streamed CSV. Each entry also lists the fields it changed (field, before, after).

Pages are keyset pages ("older than entry N", `before_id`), not page numbers: the log only
grows, so a page stays the same page while entries arrive, and a deep page costs what the
first does. The CSV walks down from the newest entry in chunks, a pooled connection per
chunk (a slow download holds none): entries appended meanwhile are left out, and none it
covers can change, the log being append-only.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from stockline import db
from stockline.accounts.service import USERNAME
from stockline.audit.record import ACTIONS, ENTITY_TYPES
from stockline.errors import ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.reporting.export import Column, csv_text, item
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

MAX_LIMIT = 200
CSV_CHUNK = 1_000
MAX_ACTOR_LENGTH = 64  # usernames are at most 64 characters
MAX_MOMENT_LENGTH = 40

ENTRY_COLUMNS = (Column("audit_id", "int"), Column("occurred_at", "timestamp"),
                 Column("actor_user_id", "int"), Column("actor_username"), Column("action"),
                 Column("entity_type"), Column("entity_id", "int"))
# the CSV: the entry, its changed fields in words, and both states as JSON
CSV_COLUMNS = (*ENTRY_COLUMNS, Column("changes"), Column("before"), Column("after"))


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _moment(text: str | None, field: str, *, end: bool) -> datetime | None:
    """A bound as typed: a UTC day (YYYY-MM-DD; as `to`, the whole day) or an ISO 8601
    moment (UTC unless it gives an offset). An `end` comes back exclusive."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) > MAX_MOMENT_LENGTH:
            raise ValueError(text)
        if len(text) == len("2026-01-31"):
            moment = datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text)
        moment = (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)
        # timestamptz counts microseconds, so "< to + 1 µs" is "at or before to"
        return moment + timedelta(microseconds=1) if end else moment
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"'{field}' must be a day (YYYY-MM-DD) or a moment (YYYY-MM-DDTHH:MM, UTC unless an offset "
            "is given)", details={"field": field}) from None


def filters(*, actor: str | None = None, action: str | None = None, entity_type: str | None = None,
            entity_id: int | None = None, date_from: str | None = None,
            date_to: str | None = None) -> Filters:
    """The filters, checked (422 naming the field); blanks are no filter."""
    actor = (actor or "").strip() or None
    if actor is not None and not USERNAME.fullmatch(actor):  # nor can a NUL reach the database
        raise ValidationFailed("'actor' is a username: 3 to 64 letters, digits or _ . @ -",
                               details={"field": "actor"})
    if action and action not in ACTIONS:
        raise ValidationFailed(f"'action' must be one of {', '.join(ACTIONS)}", details={"field": "action"})
    if entity_type and entity_type not in ENTITY_TYPES:
        raise ValidationFailed(f"'entity_type' must be one of {', '.join(ENTITY_TYPES)}",
                               details={"field": "entity_type"})
    since, until = _moment(date_from, "from", end=False), _moment(date_to, "to", end=True)
    if since is not None and until is not None and since >= until:
        raise ValidationFailed("'from' must be before 'to'", details={"field": "to"})
    return Filters(actor, action or None, entity_type or None, entity_id, since, until)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The fields whose value differs, in the order the states list them (None: absent)."""
    before, after = before or {}, after or {}
    fields = dict.fromkeys([*before, *after])
    return [{"field": name, "before": before.get(name), "after": after.get(name)}
            for name in fields if before.get(name) != after.get(name)]


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    return item(row, ENTRY_COLUMNS) | {"before": row["before"], "after": row["after"],
                                       "changes": changes(row["before"], row["after"])}


async def _rows(ctx: Context, chosen: Filters, before_id: int | None, limit: int) -> list[dict[str, Any]]:
    async with ctx.pool.connection() as conn:
        return await db.fetch_all(conn, Q["audit_entries"],
                                  asdict(chosen) | {"before_id": before_id, "limit": limit})


async def page(ctx: Context, chosen: Filters, *, before_id: int | None, limit: int) -> dict[str, Any]:
    """Up to `limit` entries older than `before_id` (None: the newest); `next_before_id`
    asks for the next older page, None when there is none."""
    rows = await _rows(ctx, chosen, before_id, limit + 1)  # one more says whether a next page exists
    shown = rows[:limit]
    return {"items": [_entry(row) for row in shown], "limit": limit, "before_id": before_id,
            "next_before_id": shown[-1]["audit_id"] if len(rows) > limit else None}


def _json(state: Mapping[str, Any] | None) -> str | None:
    return None if state is None else json.dumps(state, ensure_ascii=False)


def said(value: Any) -> str:
    """A state's value in words: text as it is, nothing as '-', anything else as JSON."""
    return "-" if value is None else value if isinstance(value, str) else json.dumps(value)


def _in_words(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    return "; ".join(f"{change['field']}: {said(change['before'])} -> {said(change['after'])}"
                     for change in changes(before, after))


def _csv_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row | {"changes": _in_words(row["before"], row["after"]),
                   "before": _json(row["before"]), "after": _json(row["after"])} for row in rows]


def csv_filename() -> str:
    return f"audit-log-{business_day()}.csv"


async def csv_export(ctx: Context, chosen: Filters) -> AsyncIterator[str]:
    """Every matching entry as CSV text, newest first, in chunks. The first chunk is read
    before this returns, so a database outage is an error answer, not a cut-off download."""
    first = await _rows(ctx, chosen, None, CSV_CHUNK)

    async def chunks() -> AsyncIterator[str]:
        rows = first
        yield csv_text(_csv_rows(rows), CSV_COLUMNS)
        while len(rows) == CSV_CHUNK:
            rows = await _rows(ctx, chosen, rows[-1]["audit_id"], CSV_CHUNK)
            yield csv_text(_csv_rows(rows), CSV_COLUMNS, header=False)

    return chunks()
