"""Staff pages: recalls (as /api/admin/recalls). The list with a form to start one; a recall
with its progress per batch and per customer, the trace, the orders to cancel, a form per
delivered item to record units sent back, a form per batch to destroy what it holds, the
close form, the CSV and each customer's printable notice (the PDF of the API). The forms are
checked by the API's own models (recalls.schemas) and decided by recalls.service; a refusal
is shown on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.kernel.inputs import INT4_MAX, read_int
from stockline.recalls import service
from stockline.recalls.schemas import (
    DestructionCreate,
    RecallClose,
    RecallCreate,
    RecallReturnCreate,
    RecallStatus,
)
from stockline.web.forms import REFUSED, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
RecallId = Annotated[int, Path(ge=1, le=INT4_MAX)]
CLASSES = {1: "Class 1 — serious risk to health", 2: "Class 2 — risk to health",
           3: "Class 3 — defect, low risk"}
CREATE_LABELS = {"batch_ids": "Batch numbers (ids)", "reason": "The reason", "class": "The class"}


class RecallFilters(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: RecallStatus | None = None


def _batch_ids(text: str) -> list[Any]:
    """'12, 15 18' -> [12, 15, 18]; a part that is not a whole number stays as typed, for the
    model to refuse by name."""
    parts = [part for part in text.replace(",", " ").split() if part]
    return [number if (number := read_int(part, minimum=1)) is not None else part for part in parts]


async def _list(request: Request, ctx: Context, *, error: DomainError | None = None,
                values: dict[str, str] | None = None) -> Response:
    query = request.query_params
    raw = texts(query, ("status",))
    context: dict[str, Any] = {"section": "recalls", "filters": raw, "statuses": ("open", "closed"),
                               "classes": CLASSES, "result": None, "error": error.message if error else None,
                               "values": values or {}}
    status_code = error.status if error else 200
    try:
        chosen = validated(RecallFilters, raw, {"status": "Status"})
        context["result"] = await service.list_recalls(ctx, paging(query.get("page")), status=chosen.status)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/recalls.html", context, status_code=status_code)


@router.get("/staff/recalls")
async def recall_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _list(request, ctx)


@router.post("/staff/recalls", dependencies=[CsrfChecked])
async def start_recall(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    form = await request.form()
    values = {name: form_text(form, name) for name in ("batch_ids", "reason", "class")}
    try:
        body = validated(RecallCreate, {
            "batch_ids": _batch_ids(values["batch_ids"]), "reason": values["reason"],
            "class": read_int(values["class"], minimum=1, maximum=3)}, CREATE_LABELS)
        recall = await service.create_recall(ctx, user, body.batch_ids, body.reason, body.recall_class)
    except REFUSED as exc:
        return await _list(request, ctx, error=exc, values=values)
    totals = recall["totals"]
    return redirect(request, f"/staff/recalls/{recall['recall_id']}",
                    notice=f"Recall {recall['recall_no']} started: its batches are on hold. "
                           f"{totals['customers']} customers have {totals['outstanding']} units to send "
                           f"back; {totals['held']} units are in orders not shipped (cancel them).")


async def _detail(request: Request, ctx: Context, recall_id: int, *, error: DomainError | None = None,
                  values: dict[str, str] | None = None) -> Response:
    recall = await service.get_recall(ctx, recall_id)
    return render(request, "staff/recall_detail.html", {
        "section": "recalls", "recall": recall, "classes": CLASSES, "values": values or {},
        "error": error.message if error else None}, status_code=error.status if error else 200)


@router.get("/staff/recalls/{recall_id}")
async def recall_detail(request: Request, ctx: Ctx, recall_id: RecallId, user: StaffPage) -> Response:
    return await _detail(request, ctx, recall_id)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: form_text(form, key) for key in form if key != "csrf_token"}


@router.post("/staff/recalls/{recall_id}/returns", dependencies=[CsrfChecked])
async def record_return(request: Request, ctx: Ctx, recall_id: RecallId, user: StaffPage) -> Response:
    values = await _form(request)
    try:
        quantity = read_int(values.get("quantity"), minimum=1)
        if quantity is None:
            raise ValidationFailed("Units sent back must be a whole number of at least 1")
        item_id = read_int(values.get("order_item_id"), minimum=1)
        body = validated(RecallReturnCreate, {
            "order_id": read_int(values.get("order_id"), minimum=1),
            "lines": [{"order_item_id": item_id, "quantity": quantity}], "note": values.get("note") or None},
            {"order_id": "The order", "lines": "The item", "note": "The note"})
        lines = [(line.order_item_id, line.quantity) for line in body.lines]
        recorded = await service.record_return(ctx, user, recall_id, body.order_id, lines, body.note)
    except REFUSED as exc:
        return await _detail(request, ctx, recall_id, error=exc, values=values)
    credit = (f"; credit note {recorded['credit_note_no']} credits {recorded['credit_gross']}"
              if recorded["credit_note_no"] else "; the order has no invoice to credit")
    return redirect(request, f"/staff/recalls/{recall_id}",
                    notice=f"{recorded['units']} units of order #{recorded['order_id']} are back, on hold"
                           f"{credit}.")


@router.post("/staff/recalls/{recall_id}/destructions", dependencies=[CsrfChecked])
async def destroy(request: Request, ctx: Ctx, recall_id: RecallId, user: StaffPage) -> Response:
    values = await _form(request)
    try:
        body = validated(DestructionCreate, {
            "batch_id": read_int(values.get("batch_id"), minimum=1),
            "quantity": values.get("quantity") or None, "note": values.get("note") or None},
            {"batch_id": "The batch", "quantity": "Units destroyed", "note": "The note"})
        await service.destroy(ctx, user, recall_id, body.batch_id, body.quantity, body.note)
    except REFUSED as exc:
        return await _detail(request, ctx, recall_id, error=exc, values=values)
    return redirect(request, f"/staff/recalls/{recall_id}", notice=f"{body.quantity} units destroyed.")


@router.post("/staff/recalls/{recall_id}/close", dependencies=[CsrfChecked])
async def close(request: Request, ctx: Ctx, recall_id: RecallId, user: StaffPage) -> Response:
    values = await _form(request)
    try:
        body = validated(RecallClose, {"note": values.get("note", ""),
                                       "force": values.get("force") == "yes"}, {"note": "The closing note"})
        recall = await service.close_recall(ctx, user, recall_id, body.note, body.force)
    except REFUSED as exc:
        return await _detail(request, ctx, recall_id, error=exc, values=values)
    return redirect(request, f"/staff/recalls/{recall_id}", notice=f"Recall {recall['recall_no']} is closed.")
