"""Stock entry in plain words, with a confirm step: the text is read by
`inventory.entry.service.propose_receipts` (what POST /api/admin/inventory/parse-entry
answers; it writes nothing), the page shows what each line was read as, editable, and only
the confirm post receives the ticked lines, in line order, all in one transaction through
`inventory.batches.receive_many` (each as `receive` would).

The confirm form carries the original text, so the page can be drawn again (the text is
read again, read-only) with the clerk's corrections laid over it. Every ticked line is
checked before any is received, and the receipts are all or nothing: when the service
refuses one (another expiry for that batch number, say), nothing is received and the page
comes back with that line marked and every line still editable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stockline.errors import DomainError
from stockline.inventory.batches import service as batches
from stockline.inventory.batches.schemas import BatchReceive
from stockline.inventory.entry import service as entry_service
from stockline.kernel.context import Context, Ctx
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage
from stockline.web.staff import stock_forms as forms

router = APIRouter(include_in_schema=False)

EXAMPLE = ("Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029 at 1.20 each\n"
           "20 x Amoxicillin 500 mg caps lot AMX-2201 exp 31/03/2029 cost 4.75")
LINE_FIELDS = ("batch_no", "expiry_date", "quantity", "cost_price")
SHOWN = 5  # batches named in the notice after a confirm (it travels in a cookie)


def _entry_page(request: Request, text: str = "", error: str | None = None,
                status_code: int = 200) -> HTMLResponse:
    return render(request, "staff/entry.html", {"section": "inventory", "text": text, "error": error,
                                                "example": EXAMPLE}, status_code=status_code)


@router.get("/staff/inventory/entry")
async def entry_form(request: Request, user: StaffPage) -> HTMLResponse:
    return _entry_page(request)


def _line(proposal: dict[str, Any]) -> dict[str, Any]:
    """A proposal as the confirm form first shows it: the proposed receipt's values, else
    whatever the line gave; ticked only when a receipt was proposed."""
    receipt = proposal["receipt"] or {}
    expiry = receipt.get("expiry_date") or proposal["expiry_date"]
    values = {"sku_id": str(receipt.get("sku_id") or ""), "batch_no": proposal["batch_no"] or "",
              "expiry_date": expiry.isoformat() if expiry else "",
              "quantity": str(proposal["quantity"] or ""), "cost_price": proposal["cost_price"] or ""}
    return proposal | {"values": values, "receive": bool(receipt), "errors_by_field": {},
                       "selectable": bool(proposal["candidates"])}


def _overlay(line: dict[str, Any], form: Any) -> dict[str, Any]:
    """The line with what the confirm form says about it (the clerk's corrections)."""
    prefix = f"l{line['line_no']}-"
    values = {name: form_text(form, prefix + name) for name in ("sku_id", *LINE_FIELDS)}
    return line | {"values": values, "receive": form_text(form, prefix + "receive") == "1"}


def _checked_receipt(line: dict[str, Any]) -> BatchReceive:
    values, candidates = line["values"], {str(c["sku_id"]) for c in line["candidates"]}
    errors: dict[str, str] = {}
    if values["sku_id"] not in candidates:
        errors["sku_id"] = "Choose the SKU this line is for"
    stand_in = 1  # when no SKU is chosen: the other fields are checked all the same
    try:
        receipt = forms.receipt({name: values[name] for name in LINE_FIELDS} | {"note": ""},
                                sku_id=int(values["sku_id"]) if values["sku_id"] in candidates else stand_in)
    except forms.FormInvalid as exc:
        errors |= exc.fields
    if errors:
        raise forms.FormInvalid(errors)
    note = f"plain-words entry: {line['text']}"[:500]
    return receipt.model_copy(update={"note": note})


def _confirm_page(request: Request, text: str, lines: list[dict[str, Any]], *, error: str | None = None,
                  status_code: int = 200) -> HTMLResponse:
    return render(request, "staff/entry_confirm.html", {
        "section": "inventory", "text": text, "lines": lines, "error": error,
        "receivable": any(line["selectable"] for line in lines)},
        status_code=status_code)


async def _read(ctx: Context, text: str) -> list[dict[str, Any]]:
    proposal = await entry_service.propose_receipts(ctx, text)
    return [_line(line) for line in proposal["lines"]]


@router.post("/staff/inventory/entry", dependencies=[CsrfChecked])
async def read_entry(request: Request, ctx: Ctx, user: StaffPage) -> HTMLResponse:
    form = await request.form()
    text = str(form.get("text") or "")
    if form_text(form, "edit") == "1":  # "Edit the text" on the confirm page
        return _entry_page(request, text)
    try:
        lines = await _read(ctx, text)
    except DomainError as exc:
        return _entry_page(request, text, exc.message, exc.status)
    return _confirm_page(request, text, lines)


@router.post("/staff/inventory/entry/confirm", dependencies=[CsrfChecked])
async def confirm_entry(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    form = await request.form()
    text = str(form.get("text") or "")
    try:
        lines = [_overlay(line, form) for line in await _read(ctx, text)]
    except DomainError as exc:
        return _entry_page(request, text, exc.message, exc.status)
    chosen = [line for line in lines if line["receive"] and line["selectable"]]
    if not chosen:
        return _confirm_page(request, text, lines, error="Tick at least one line to receive", status_code=422)
    receipts = []
    for line in chosen:
        try:
            receipts.append(batches.Receipt(**_checked_receipt(line).model_dump()))
        except forms.FormInvalid as exc:
            line["errors_by_field"] = exc.fields
    if len(receipts) < len(chosen):
        bad = len(chosen) - len(receipts)
        return _confirm_page(request, text, lines, status_code=422, error=(
            f"{bad} ticked line{'s need' if bad > 1 else ' needs'} correcting (marked below); "
            "nothing was received"))
    try:
        received = await batches.receive_many(ctx, user,
                                              receipts)
    except batches.ReceiptRefused as exc:
        line = chosen[exc.index]
        field = "batch_no" if exc.code == "batch_expiry_mismatch" else ""  # else about the whole line
        line["errors_by_field"] = {field: exc.message}
        return _confirm_page(request, text, lines, status_code=exc.status, error=(
            f"Line {line['line_no']} cannot be received: {exc.message}. Nothing was received; "
            "correct that line or untick it, then confirm again"))
    except DomainError as exc:  # the database busy, say: still nothing received
        return _confirm_page(request, text, lines, status_code=exc.status,
                             error=f"Nothing was received: {exc.message}")
    summary = ", ".join(f"{r['batch_no']} ({r['quantity_on_hand']:,} on hand)" for r in received[:SHOWN])
    summary += f" and {len(received) - SHOWN} more" if len(received) > SHOWN else ""
    return redirect(request, "/staff/inventory?filter=recent&sort=received",
                    notice=f"Received {len(received)} line{'s' if len(received) > 1 else ''}: {summary}.")
