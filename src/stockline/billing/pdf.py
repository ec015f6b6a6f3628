"""An issued document (billing.document's dict) as an A4 PDF, drawn with fpdf2.

The seller and the buyer (with their tax numbers), the number, dates and references, a lines
table whose heading repeats on every page, the tax per rate, the totals and, for an invoice,
its terms and what has been paid. Any text prints: with the DejaVu fonts (Debian's
fonts-dejavu-core) every character they hold ("µg", "é", "Ω"); without them the PDF core font
Helvetica, with each character it lacks folded to one it has ("Ω" prints as "?"), never an
error.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PAGE_MARGIN = 15  # mm
LINE_COLUMNS: tuple[tuple[str, str, float, Align], ...] = (
    # (key, heading, width in mm, alignment): 180 mm, A4's width inside the margins
    ("sku_code", "SKU", 22, Align.L), ("description", "Description", 44, Align.L),
    ("batch_no", "Batch", 20, Align.L), ("expiry_date", "Expiry", 19, Align.L),
    ("quantity", "Qty", 12, Align.R), ("unit_price", "Unit price", 17, Align.R),
    ("net_amount", "Net", 18, Align.R), ("tax_rate", "Tax %", 11, Align.R),
    ("tax_amount", "Tax", 17, Align.R),
)
GREY = (235, 238, 242)
STATUS_WORDS = {"open": "Open", "partly_paid": "Partly paid", "overdue": "Overdue", "paid": "Paid"}
# typography Helvetica lacks that has a plain equivalent (NFKD does not fold these)
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "-", "\u2026": "...", "\u2022": "*", "\u20ac": "EUR", "\u2212": "-"})


def latin1(text: str) -> str:
    """`text` in the characters of the core fonts (Latin-1): each other character becomes its
    compatibility decomposition without accents where that is Latin-1 ("ﬁ" -> "fi", "ő" ->
    "o"), else "?"."""
    folded = []
    for char in text.translate(_PLAIN):
        if ord(char) < 256:
            folded.append(char)
            continue
        parts = "".join(part for part in unicodedata.normalize("NFKD", char)
                        if ord(part) < 256 and not unicodedata.combining(part))
        folded.append(parts or "?")
    return "".join(folded)


def _day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d %b %Y") if iso else ""


def _amount(text: str) -> str:
    """'1234.50' -> '1,234.50' (the strings of the document, never a float)."""
    whole, _, cents = text.lstrip("-").partition(".")
    return ("-" if text.startswith("-") else "") + f"{int(whole):,}.{cents or '00'}"


class StocklinePdf(FPDF):
    """An A4 page of Stockline's documents (invoices, credit notes, recall notices): the
    Unicode font when it is installed (`body_family`, `text_of` = str), else Helvetica with
    text folded to Latin-1 (`text_of` = latin1); the margins every document has."""

    def __init__(self, font_path: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        if font_path is not None and font_path.exists():
            bold = font_path.with_name(font_path.stem + "-Bold" + font_path.suffix)
            self.add_font("Body", "", str(font_path))
            self.add_font("Body", "B", str(bold if bold.exists() else font_path))
            self.body_family, self.text_of = "Body", str
        else:
            self.body_family, self.text_of = "Helvetica", latin1
        self.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        self.set_auto_page_break(auto=True, margin=PAGE_MARGIN + 5)
        self.set_creator("Stockline")


class _DocumentPdf(StocklinePdf):
    def __init__(self, document: Mapping[str, Any], font_path: Path | None) -> None:
        super().__init__(font_path)
        self.document = document
        self.set_title(self.text_of(f"{document['title']} {document['number']}"))

    def footer(self) -> None:
        self.set_y(-PAGE_MARGIN)
        self.use_font(7)
        self.set_text_color(90, 100, 114)
        self.cell(0, 4, self.text_of(f"{self.document['title']} {self.document['number']}"), align=Align.L)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align=Align.R,
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def use_font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.body_family, "B" if bold else "", size)

    def lines_of(self, width: float, height: float, text: str, *, align: Align = Align.L,
                 bold: bool = False, size: float = 9) -> None:
        """`text` (newlines kept) wrapped into `width`, from the current position."""
        self.use_font(size, bold)
        self.multi_cell(width, height, self.text_of(text), align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)


def _party_lines(party: Mapping[str, Any], *, with_customer: bool) -> list[str]:
    lines = [line for line in (party.get("address") or "").splitlines() if line.strip()]
    if with_customer and party.get("email"):
        lines.append(party["email"])
    if with_customer and party.get("customer_id") is not None:
        lines.append(f"Customer no. {party['customer_id']}")
    if party.get("tax_id"):
        lines.append(f"Tax ID: {party['tax_id']}")
    return lines


def _heading(pdf: _DocumentPdf, document: Mapping[str, Any]) -> None:
    top = pdf.get_y()
    seller = document["seller"]
    pdf.lines_of(95, 6, seller.get("name") or "", bold=True, size=13)
    pdf.lines_of(95, 4.5, "\n".join(_party_lines(seller, with_customer=False)), size=9)
    left_bottom = pdf.get_y()

    pdf.set_xy(PAGE_MARGIN + 100, top)
    pdf.lines_of(80, 9, document["title"], align=Align.R, bold=True, size=20)
    pdf.set_x(PAGE_MARGIN + 100)
    pdf.lines_of(80, 6, document["number"], align=Align.R, bold=True, size=12)
    facts = [("Issued", _day(document["issued_on"]))]
    if document.get("due_on"):
        facts.append(("Due", _day(document["due_on"])))
    facts += [(label, value) for label, value in document["references"]]
    for label, value in facts:
        pdf.set_x(PAGE_MARGIN + 100)
        pdf.lines_of(80, 5, f"{label}: {value}", align=Align.R, size=9)
    pdf.set_xy(PAGE_MARGIN, max(left_bottom, pdf.get_y()) + 6)

    buyer = document["buyer"]
    pdf.set_fill_color(*GREY)
    pdf.lines_of(95, 5, "Credited to" if document["kind"] == "credit_note" else "Bill to", bold=True, size=8)
    pdf.lines_of(95, 5.5, buyer.get("name") or "", bold=True, size=11)
    pdf.lines_of(95, 4.5, "\n".join(_party_lines(buyer, with_customer=True)), size=9)
    pdf.ln(5)


def _table(pdf: _DocumentPdf, columns: Sequence[tuple[str, float, Align]], rows: Sequence[Sequence[str]],
           *, width: float | None = None, bold_last: bool = False) -> None:
    """A table whose heading row repeats at the top of every page it runs onto."""
    pdf.use_font(8)
    with pdf.table(col_widths=[w for _, w, _ in columns], width=width or sum(w for _, w, _ in columns),
                   text_align=[a for _, _, a in columns], align=Align.R if width else Align.L,
                   headings_style=FontFace(emphasis="BOLD", fill_color=GREY), line_height=4.5,
                   borders_layout=TableBordersLayout.HORIZONTAL_LINES, padding=1,
                   repeat_headings=1) as table:
        heading = table.row()
        for title, _, _ in columns:
            heading.cell(pdf.text_of(title))
        for number, values in enumerate(rows, start=1):
            style = FontFace(emphasis="BOLD") if bold_last and number == len(rows) else None
            row = table.row(style=style)
            for value in values:
                row.cell(pdf.text_of(value))


def _lines(pdf: _DocumentPdf, document: Mapping[str, Any]) -> None:
    formats: dict[str, Callable[[Any], str]] = {
        "expiry_date": _day, "quantity": lambda value: f"{value:,}", "unit_price": _amount,
        "net_amount": _amount, "tax_amount": _amount, "tax_rate": str}
    rows = [[formats.get(key, str)(line[key]) for key, _, _, _ in LINE_COLUMNS] for line in document["lines"]]
    _table(pdf, [(title, width, align) for _, title, width, align in LINE_COLUMNS], rows)


ROW_HEIGHT = 6.5  # mm, a one-line row of the small tables


def _keep_together(pdf: _DocumentPdf, document: Mapping[str, Any]) -> None:
    """A new page now if the tax summary, the totals and the payment block would not fit
    below the lines: they are read together, so they are never split."""
    rows = (len(document["tax_summary"]) + 1) + 4 + (5 if document["kind"] == "invoice" else 0)
    if pdf.will_page_break(rows * ROW_HEIGHT + 25):
        pdf.add_page()


def _totals(pdf: _DocumentPdf, document: Mapping[str, Any]) -> None:
    pdf.ln(4)
    _keep_together(pdf, document)
    summary = [[f"{row['tax_rate']} %", _amount(row["net_amount"]), _amount(row["tax_amount"])]
               for row in document["tax_summary"]]
    _table(pdf, [("Tax rate", 22, Align.R), ("Net", 28, Align.R), ("Tax", 28, Align.R)], summary, width=78)
    pdf.ln(3)
    total = "Total" if document["kind"] == "invoice" else "Total credited"
    totals = [["Net", _amount(document["net_amount"])], ["Tax", _amount(document["tax_amount"])],
              [total, _amount(document["gross_amount"])]]
    _table(pdf, [("Totals", 50, Align.R), ("Amount", 28, Align.R)], totals, width=78, bold_last=True)


def _payment(pdf: _DocumentPdf, document: Mapping[str, Any]) -> None:
    pdf.ln(5)
    if document.get("due_on"):
        terms = (date.fromisoformat(document["due_on"]) - date.fromisoformat(document["issued_on"])).days
        pdf.lines_of(180, 5, f"Payment terms: {terms} days net. Please pay by {_day(document['due_on'])}, "
                             f"quoting {document['number']}.", size=9)
    payment = document.get("payment")
    if payment is None:
        return
    balance = payment["balance"]
    last = (["Overpaid (your credit)", _amount(balance.lstrip("-"))] if balance.startswith("-")
            else ["Balance due", _amount(balance)])
    rows = [["Amount paid", _amount(payment["amount_paid"])],
            ["Credited", _amount(payment["amount_credited"])], last]
    pdf.ln(2)
    _table(pdf, [(f"Status: {STATUS_WORDS.get(payment['status'], payment['status'])}", 50, Align.R),
                 ("Amount", 28, Align.R)], rows, width=78, bold_last=True)


def render_pdf(document: Mapping[str, Any], *, font_path: Path | None = UNICODE_FONT) -> bytes:
    """The document as PDF bytes. `font_path`: a TrueType font for any Unicode text (its
    "-Bold" sibling is used for bold when present); None or a missing file: Helvetica with
    the text folded to Latin-1."""
    pdf = _DocumentPdf(document, font_path)
    pdf.add_page()
    _heading(pdf, document)
    _lines(pdf, document)
    _totals(pdf, document)
    if document["kind"] == "invoice":
        _payment(pdf, document)
    return bytes(pdf.output())


@dataclass(frozen=True)
class Pdf:
    filename: str  # the document's number
    content: bytes


async def pdf_file(document: Mapping[str, Any]) -> Pdf:
    """`render_pdf` off the event loop (a long document takes a good part of a second),
    named by the document's number."""
    return Pdf(f"{document['number']}.pdf", await asyncio.to_thread(render_pdf, document))
