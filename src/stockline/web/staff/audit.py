"""The audit log page (admins only, as GET /api/admin/audit): the filters, the entries newest
first with the fields each changed (field, before, after), older pages by keyset, and the
same filters as a CSV download. Reading only: there is nothing here to edit or delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.audit.record import ACTIONS, ENTITY_TYPES
from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT8_MAX, read_int
from stockline.reporting import audit_log
from stockline.web.forms import texts
from stockline.web.render import render
from stockline.web.session import AdminPage

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTERS = ("actor", "action", "entity_type", "entity_id", "from", "to")
LABELS = {"entity_id": "Entity number", "before_id": "Older than"}


def _number(raw: dict[str, str | None], name: str) -> int | None:
    if raw[name] is None:
        return None
    number = read_int(raw[name], minimum=1, maximum=INT8_MAX)
    if number is None:
        raise ValidationFailed(f"{LABELS[name]} must be a whole number (digits only, like 12)",
                               details={"field": name})
    return number


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its changed values in words, as the page lists them."""
    return entry | {"changes": [change | {"before": audit_log.said(change["before"]),
                                          "after": audit_log.said(change["after"])}
                                for change in entry["changes"]]}


@router.get("/staff/audit")
async def audit_page(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    raw = texts(request.query_params, (*FILTERS, "before_id"))
    given = {name: raw[name] for name in FILTERS if raw[name] is not None}
    context: dict[str, Any] = {
        "section": "audit", "filters": raw, "filtered": bool(given), "actions": ACTIONS,
        "entity_types": ENTITY_TYPES, "result": None, "error": None,
        "csv_url": "/api/admin/audit?" + urlencode({"format": "csv", **given}),
        "filters_query": urlencode(given)}
    status_code = 200
    try:
        chosen = audit_log.filters(actor=raw["actor"], action=raw["action"], entity_type=raw["entity_type"],
                                   entity_id=_number(raw, "entity_id"), date_from=raw["from"],
                                   date_to=raw["to"])
        result = await audit_log.page(ctx, chosen, before_id=_number(raw, "before_id"), limit=PAGE_SIZE)
        context["result"] = result | {"items": [_shown(entry) for entry in result["items"]]}
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/audit.html", context, status_code=status_code)
