"""The printable recall notice for one customer, as an A4 PDF (fpdf2, fonts as billing.pdf
handles them: DejaVu when installed, else Helvetica with text folded to Latin-1).

It says what a pharmacist needs to act on: the recall's number, class and reason; every
recalled product and batch with its expiry; the customer's affected orders and units (still
to return, and held back: never shipped); what to do; and whom to contact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from stockline import db
from stockline.billing.pdf import GREY, UNICODE_FONT, Pdf, StocklinePdf
from stockline.errors import NotFound
from stockline.kernel.context import Context
from stockline.recalls import progress
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

CLASS_WORDS = {
    1: "Class 1: a risk of serious harm to health. Act immediately.",
    2: "Class 2: a risk of harm to health. Act within 48 hours.",
    3: "Class 3: unlikely to harm health, but the product is defective. Act within 5 days.",
}
INSTRUCTIONS = (
    "1. Stop supplying and using the batches listed above at once.",
    "2. Quarantine every unit you hold: set them apart, clearly labelled, away from saleable stock.",
    "3. Count them, and send them back to us quoting the recall number; we credit every unit returned.",
    "4. If you supplied any unit onward, tell those you supplied it to.",
    "5. Keep this notice with your records; confirm to us when you hold no more units.",
)


def _day(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else ""


class _NoticePdf(StocklinePdf):
    def para(self, value: str, *, size: float = 9, bold: bool = False, height: float = 5) -> None:
        self.set_font(self.body_family, "B" if bold else "", size)
        self.multi_cell(0, height, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_of(self, headings: list[tuple[str, float]], rows: list[list[str]]) -> None:
        self.set_font(self.body_family, "", 8)
        with self.table(col_widths=[width for _, width in headings], width=sum(w for _, w in headings),
                        align=Align.L, headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
                        line_height=4.5, borders_layout=TableBordersLayout.HORIZONTAL_LINES, padding=1,
                        repeat_headings=1) as table:
            heading = table.row()
            for title, _ in headings:
                heading.cell(self.text_of(title))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.text_of(value))
        self.ln(3)


def render_notice(notice: Mapping[str, Any], *, font_path: Path | None = UNICODE_FONT) -> bytes:
    recall, customer, seller = notice["recall"], notice["customer"], notice["seller"]
    pdf = _NoticePdf(font_path)
    pdf.set_title(pdf.text_of(f"Recall notice {recall['recall_no']}"))
    pdf.add_page()
    pdf.para(seller.get("name") or "", size=11, bold=True)
    if seller.get("address"):
        pdf.para(seller["address"])
    pdf.ln(3)
    pdf.para(f"PRODUCT RECALL {recall['recall_no']}", size=18, bold=True, height=9)
    pdf.para(CLASS_WORDS[recall["recall_class"]], size=11, bold=True, height=6)
    pdf.para(f"Issued {_day(recall['initiated_at'])}" + (
        f"; closed {_day(recall['closed_at'])}" if recall["closed_at"] else ""))
    pdf.ln(2)
    pdf.para("To", size=8, bold=True)
    pdf.para(customer["name"], size=11, bold=True)
    for line in [*(customer.get("address") or "").splitlines(), f"Customer no. {customer['customer_id']}"]:
        if line.strip():
            pdf.para(line)
    pdf.ln(3)
    pdf.para("Reason for the recall", size=10, bold=True)
    pdf.para(recall["reason"])
    pdf.ln(2)
    pdf.para("Recalled products and batches", size=10, bold=True)
    pdf.table_of([("Product", 70), ("Pack", 30), ("SKU", 25), ("Batch", 30), ("Expiry", 25)],
                 [[b["product_name"], f"{b['package_size']} {b['unit_type']}", b["sku_code"], b["batch_no"],
                   _day(b["expiry_date"])] for b in notice["batches"]])
    mine = notice["mine"]
    pdf.para("Your orders from these batches", size=10, bold=True)
    pdf.table_of([("Order", 18), ("Date", 24), ("Product", 50), ("Batch", 28), ("Units", 15),
                  ("Returned", 20), ("To return", 25)],
                 [[f"#{i['order_id']}", _day(i["order_date"]), i["product_name"], i["batch_no"],
                   f"{i['quantity']:,}", f"{i['returned']:,}",
                   f"{i['outstanding']:,}" if i["status"] == "shipped" else "not shipped"]
                  for i in mine["items"]])
    pdf.para(f"Delivered to you: {mine['delivered']:,} units; returned: {mine['returned']:,}; "
             f"still to return: {mine['outstanding']:,}.", bold=True)
    if mine["held"]:
        pdf.para(f"{mine['held']:,} units of orders not yet shipped are held back and will not be delivered.")
    pdf.ln(3)
    pdf.para("What to do", size=10, bold=True)
    for line in INSTRUCTIONS:
        pdf.para(line)
    pdf.ln(3)
    address = (seller.get("address") or "").replace("\n", ", ")
    contact = ", ".join(part for part in (seller.get("name"), address) if part)
    pdf.para(f"Contact: {contact}. Quote {recall['recall_no']} in every message.", bold=True)
    return bytes(pdf.output())


async def notice_pdf(ctx: Context, recall_id: int, customer_id: int) -> Pdf:
    """The notice of `recall_id` for `customer_id`; 404 when the recall touches none of the
    customer's orders."""
    async with ctx.pool.connection() as conn:
        header = await db.send(conn, Q["recall_header"], {"recall_id": recall_id})
        batches = await db.send(conn, Q["recall_batches"], {"recall_id": recall_id})
        items = await db.send(conn, Q["customer_recall_items"],
                              {"customer_id": customer_id, "recall_id": recall_id})
        customer = await db.send(conn, Q["notice_customer"], {"customer_id": customer_id})
        recall, rows = await header.one(), await items.all()
        if recall is None or not rows:
            raise NotFound(f"Recall {recall_id} concerns no order of customer {customer_id}")
        notice = {
            "recall": {"recall_no": recall["recall_no"], "recall_class": recall["recall_class"],
                       "reason": recall["reason"], "initiated_at": recall["initiated_at"].isoformat(),
                       "closed_at": recall["closed_at"] and recall["closed_at"].isoformat()},
            "batches": [row | {"expiry_date": row["expiry_date"].isoformat()} for row in await batches.all()],
            "customer": await customer.one(), "mine": progress.customer_recalls(rows)[0],
            "seller": ctx.settings.seller}
    content = await asyncio.to_thread(render_notice, notice)
    return Pdf(f"{recall['recall_no']}-customer-{customer_id}.pdf", content)

