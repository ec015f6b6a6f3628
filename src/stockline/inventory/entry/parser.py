"""Reading stock-entry lines written in plain words, with no outside service and no I/O.

"Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029" becomes a
`ParsedLine`: quantity 5, batch_no "P500-ZZ1", expiry_date 2029-01-31, and a `ProductQuery`
(product words, strengths, pack sizes, dosage forms) that the entry service scores against the
catalog. Each part is found by its own patterns and blanked out of the line, in this order,
so later steps never see earlier parts: batch number, cost price, dates, quantity; what is
left describes the product.

Batch number: after "batch", "lot", "B/N" or "BN", optionally followed by "no"/"number" and
"#" or ":" ("Batch #P500-ZZ1", "batch P500-ZZ1", "lot: ABC123", "B/N ABC-1"). Letters,
digits and . _ / # - ; at most 64 characters; kept as written.

Cost price (optional): "at 3.20 each", "@ 3.20", "cost 3.20", "cost price: 3.20",
"unit cost 3.20", "price 3.20", "£3.20", "3.20 each", "3,20 EUR per unit". A comma followed
by exactly three digits groups thousands ("1,250.00"), otherwise it is the decimal mark
("3,20"). At most two decimal places.

Expiry date: the date right after an expiry word ("exp", "exp.", "expiry", "expiring",
"expires", "expiration", "best before", "use by") wins; without one, the only date in the
line is used (with several, the latest, and a note says so). Dates right after "mfg",
"mfd", "manufactured" or "made" are ignored. Forms read:
- 2029-01-31, 2029/01/31, 2029.01.31 (year first: always year-month-day);
- 31/01/2029, 31.01.2029, 31-01-2029, 31/01/29: DAY FIRST (European), with one exception:
  when the second number cannot be a month (> 12) and the first can, the date is read
  month first (01/31/2029 is 31 January) and a note says so; when neither order makes a
  date, the line gets an error;
- 31 Jan 2029, 31st January 2029, 31-Jan-29, Jan 31 2029, January 31, 2029;
- month only: January 2029, Jan 2029, Jan-29, Jan '29, 2029 Jan, 2029-01, 01/2029, 1/29 —
  the LAST day of that month (the pharma convention for month-only expiry dates).
Two-digit years are 20yy. Years outside 2000-2099 and impossible days are errors. A date
already past is read as written, with a note.

Quantity, the first form found in this order: "qty 5" / "quantity: 5"; "2 boxes of 10"
(boxes, cartons, cases, packs) = 20 units with a note, unless a dosage form follows
("2 boxes of 10 tablets" is 2 packs of 10); "5 x" / "5x" / "x5" ("3x10" and "3 x 10" are
pack sizes, never quantities); "5 units" / "5 packs" / "5 boxes" / "5 pcs"; "5 bottles" /
"5 vials" / "5 strips" (containers; "10-strip", hyphenated, is a pack size); a number right
after "add", "received", "got", "in" ... ("Add 5 Paracetamol"); a number opening the line.
Numbers are digits or the words one to twenty; between 1 and 1,000,000. Numbers left over
are pack-size hints ("qty 5 Paracetamol x10": pack 10).

Product: the remaining words (name and manufacturer), strengths ("500mg", "500 mg", "1 g",
"120 mg/5 ml"; masses compare in mg, volumes in ml), pack sizes ("10-strip", "10s",
"pack of 10", "3x10", "x10", a bare number) and dosage forms ("tabs", "caps", "syrup"...).
List bullets ("- ", "* ", "1. ", "2) ") opening a line are ignored. A line of more than
MAX_LINE_CHARS characters is refused whole.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from stockline.kernel.expiry import expired

MAX_TEXT_CHARS = 20_000
MAX_LINES = 200
# A receipt fits in a few dozen words; a longer line is refused before any pattern runs, so
# no line can hold a worker (the patterns are linear, but 30 scans of 100,000 characters
# still take a third of a second of GIL).
MAX_LINE_CHARS = 500
MAX_UNITS = 1_000_000
MAX_BATCH_NO_CHARS = 64
MAX_COST = Decimal("9999999999.99")
MAX_SEARCH_WORDS = 12
MAX_PRODUCT_WORDS = 20
MAX_CODE_TOKENS = 30
MAX_DATES = 10
MAX_DETAILS = 8

_I = re.IGNORECASE

WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
# dosage forms as written -> one canonical name (compared with product names and unit types)
FORMS = {
    "tablet": "tablet", "tablets": "tablet", "tab": "tablet", "tabs": "tablet", "tbl": "tablet",
    "capsule": "capsule", "capsules": "capsule", "cap": "capsule", "caps": "capsule", "cps": "capsule",
    "suspension": "suspension", "susp": "suspension", "syrup": "syrup", "syr": "syrup",
    "injection": "injection", "inj": "injection", "ampoule": "injection", "ampoules": "injection",
    "amp": "injection", "amps": "injection", "vial": "vial", "vials": "vial",
    "infusion": "infusion", "cream": "cream", "ointment": "ointment", "oint": "ointment",
    "drops": "drops", "drop": "drops", "inhaler": "inhaler", "inhalers": "inhaler",
    "suppository": "suppository", "suppositories": "suppository", "supp": "suppository",
    "sachet": "sachet", "sachets": "sachet", "patch": "patch", "patches": "patch",
    "bottle": "bottle", "bottles": "bottle", "tube": "tube", "tubes": "tube", "bag": "bag", "bags": "bag",
}
# what a product name holds for each form, to rank candidates ("capsul" for capsule and capsules)
FORM_STEMS = {"tablet": "tablet", "capsule": "capsul", "suspension": "suspension", "syrup": "syrup",
              "injection": "injection", "infusion": "infusion", "cream": "cream", "ointment": "ointment",
              "drops": "drops", "inhaler": "inhaler", "suppository": "suppositor", "sachet": "sachet",
              "patch": "patch"}
# words that describe a form but name no product ("film-coated tablets", "solution for injection")
FORM_NOISE = frozenset({"film", "coated", "solution", "oral", "powder", "transdermal", "eye", "for", "gel"})
STOP_WORDS = frozenset({
    "add", "added", "adding", "receive", "received", "receiving", "got", "get", "in", "into", "book",
    "booked",
    "stock", "restock", "delivery", "delivered", "deliver", "please", "new", "incoming",
    "of", "the", "a", "an", "and", "with", "to", "on", "by", "at", "from", "per", "each", "ea", "x",
    "unit", "units", "pcs", "pc", "piece", "pieces", "pack", "packs", "packet", "packets", "box", "boxes",
    "carton", "cartons", "case", "cases", "strip", "strips", "blister", "blisters", "item", "items", "count",
    "ct", "s", "qty", "quantity", "batch", "lot", "bn", "b", "n", "no", "nr", "number", "num",
    "exp", "expiry", "expiring", "expires", "expire", "expired", "expiration", "expd", "date", "best",
    "before", "use", "until", "till", "end", "mfg", "mfd", "mfgd", "manufactured", "made",
    "cost", "price", "eur", "usd", "gbp", "chf", "sku", "code",
    "mg", "mcg", "ug", "g", "ml", "l", "iu", "mmol", "dose", "doses", "h",
}) | frozenset(MONTHS)


@dataclass(frozen=True)
class LineError:
    field: str  # quantity | batch_no | expiry_date | cost_price | sku | line
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ProductQuery:
    """What a line says about the product: lower-case name/manufacturer words, normalized
    strengths ("500mg"), pack keys ("10", "3x10", "100ml"), canonical forms ("tablet"), the
    line's tokens as written (to compare with SKU codes, in any case) and `details`: the
    strengths as a product name would spell them ("500 mg") and form stems ("capsul"), which
    only rank the candidates fetched by the words."""
    words: tuple[str, ...] = ()
    strengths: frozenset[str] = frozenset()
    packs: frozenset[str] = frozenset()
    forms: frozenset[str] = frozenset()
    tokens: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @cached_property
    def code_keys(self) -> frozenset[str]:
        return frozenset(token.lower() for token in self.tokens)

    def search_stems(self) -> list[tuple[str, bool]]:
        """(stem, is_word) pairs for the candidate query: the first four letters of each word
        of 3+ letters (so an abbreviation, or a typo late in a word, still finds the product),
        then the details."""
        stems = dict.fromkeys(word[:4] for word in self.words if len(word) >= 3 and word.isalpha())
        return [(stem, True) for stem in list(stems)[:MAX_SEARCH_WORDS]] + [(d, False) for d in self.details]

    def describe(self) -> str:
        return " ".join([*self.words, *sorted(self.strengths), *sorted(self.packs), *sorted(self.forms)])


@dataclass
class ParsedLine:
    line_no: int
    text: str
    quantity: int | None = None
    batch_no: str | None = None
    expiry_date: date | None = None
    cost_price: Decimal | None = None
    product: ProductQuery = field(default_factory=ProductQuery)
    errors: list[LineError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, field_name: str, code: str, message: str) -> None:
        self.errors.append(LineError(field_name, code, message))


def split_lines(text: str) -> list[tuple[int, str]]:
    """(line number counted from 1 over every line, stripped text) of each non-empty line."""
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


class _Text:
    """The line being read: found parts are blanked out (same length, so positions hold)."""

    def __init__(self, text: str) -> None:
        self.rest = text

    def cut(self, start: int, end: int) -> None:
        self.rest = self.rest[:start] + " " * (end - start) + self.rest[end:]


def parse_line(line_no: int, text: str, today: date | None = None) -> ParsedLine:
    """Read one line. Every problem becomes a LineError; nothing raises."""
    line = ParsedLine(line_no, text)
    if len(text) > MAX_LINE_CHARS:
        line.fail("line", "line_too_long", f"The line has more than {MAX_LINE_CHARS} characters; "
                  "write one receipt per line")
        return line
    return _read_parts(line, text, today)


def _read_parts(line: ParsedLine, text: str, today: date | None) -> ParsedLine:
    work = _Text(_BULLET.sub(lambda m: " " * len(m.group(0)), text, count=1))
    _read_batch(work, line)
    code_source = work.rest
    _read_cost(work, line)
    _read_expiry(work, line, today)
    _read_quantity(work, line)
    line.product = _read_product(work.rest, code_source)
    return line


# --- batch number ---------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•·>]+|\d{1,3}[.)])\s+")
_BATCH = re.compile(
    r"(?<![\w/])(?:batch|lot|b\s*/\s*n|bn)(?![a-z])\.?(?:\s*(?:no|nr|num|number)(?![a-z])\.?)?"
    r"\s*[#:=]?\s*#?\s*(?P<value>[a-z0-9][a-z0-9._/#-]*)?", _I)
_NOT_A_BATCH = frozenset({"exp", "expiry", "expiring", "expires", "expiration", "qty", "quantity", "of", "at",
                          "cost", "price", "units", "unit", "x", "best", "use", "mfg", "mfd"})


def _read_batch(work: _Text, line: ParsedLine) -> None:
    for match in _BATCH.finditer(work.rest):
        value = (match.group("value") or "").rstrip("._/#-")
        if not value or value.lower() in _NOT_A_BATCH:
            continue
        work.cut(match.start(), match.start("value") + len(value))
        if line.batch_no is not None:
            line.notes.append(f"Several batch numbers in the line; used the first ({line.batch_no})")
            return
        if len(value) > MAX_BATCH_NO_CHARS:
            line.fail("batch_no", "batch_no_too_long",
                      f"The batch number has more than {MAX_BATCH_NO_CHARS} characters")
            return
        line.batch_no = value
    if line.batch_no is None and not any(e.field == "batch_no" for e in line.errors):
        line.fail("batch_no", "missing_batch_no",
                  "No batch number found (write e.g. 'batch P500-ZZ1', 'lot: ABC123' or 'B/N ABC-1')")


# --- cost price -----------------------------------------------------------------------------

_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)(?!\d|[.,/-]\d)"
_CURRENCY = r"(?:[$€£]|(?:eur|usd|gbp|chf)(?![a-z]))"
_PER_UNIT = r"(?:each|ea|apiece|per\s+(?:unit|pack|box|item|piece)|/\s*(?:unit|pack|ea|each|pc))(?![a-z])"
_COSTS = (
    re.compile(rf"(?:(?<![a-z])(?:unit\s+cost|cost\s+per\s+unit|cost\s*price|unit\s+price|cost|price|at)"
               rf"(?![a-z])(?:\s*[:=])?|@)\s*(?:{_CURRENCY}\s*)?{_AMOUNT}(?:\s*{_CURRENCY})?"
               rf"(?:\s*{_PER_UNIT})?", _I),
    re.compile(rf"(?<![\w.,]){_CURRENCY}\s*{_AMOUNT}(?:\s*{_PER_UNIT})?", _I),
    re.compile(rf"(?<![\w.,])(?P<amount>\d+[.,]\d{{2}})(?!\d)\s*(?:{_CURRENCY}\s*)?{_PER_UNIT}", _I),
)


def _read_cost(work: _Text, line: ParsedLine) -> None:
    for pattern in _COSTS:
        match = pattern.search(work.rest)
        if match is None:
            continue
        work.cut(match.start(), match.end())
        raw = match.group("amount")
        grouped = re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw)
        amount = Decimal(raw.replace(",", "") if grouped else raw.replace(",", "."))
        if amount > MAX_COST:
            line.fail("cost_price", "cost_out_of_range", f"The cost price '{raw}' is too large")
        elif amount != amount.quantize(Decimal("0.01")):
            line.fail("cost_price", "unreadable_cost",
                      f"The cost price '{raw}' has more than two decimal places")
        else:
            line.cost_price = amount.quantize(Decimal("0.01"))
        return


# --- dates ----------------------------------------------------------------------------------

_MON = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")(?![a-z])\.?"
_LEFT = r"(?<![\d.,/-])"
_RIGHT = r"(?!\d|[./-]\d)"
_DATE_PATTERNS = tuple((kind, re.compile(pattern, _I)) for kind, pattern in (
    ("ymd", rf"{_LEFT}(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_RIGHT}"),
    ("dmy", rf"{_LEFT}(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_RIGHT}"),
    ("d_mon_y", rf"{_LEFT}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s./-]*(?:of\s+)?{_MON}[\s./,-]*"
                rf"(?P<y>\d{{4}}|'?\d{{2}}){_RIGHT}"),
    ("mon_d_y", rf"(?<![a-z]){_MON}[\s./-]*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}}){_RIGHT}"),
    ("y_mon", rf"{_LEFT}(?P<y>\d{{4}})[\s./-]*{_MON}"),
    ("ym", rf"{_LEFT}(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}}){_RIGHT}"),
    ("my", rf"{_LEFT}(?P<m>\d{{1,2}})(?:[-/.](?P<y>\d{{4}})|/(?P<yy>\d{{2}})){_RIGHT}"),
    ("mon_y", rf"(?<![a-z]){_MON}[\s./,'-]*(?P<y>\d{{4}}|\d{{2}}){_RIGHT}"),
))
_EXP_WORDS = (r"(?:exp(?:iry|iring|ires?|iration|d)?|best\s+before|use\s+by|use\s+before|"
              r"valid\s+(?:until|till|thru|through))")
_FILLER = r"(?:[\s.:=,-]*(?:date|on|in|by|of|end|is)(?![a-z]))*[\s.:=,-]*"
_EXP_BEFORE = re.compile(rf"(?<![a-z]){_EXP_WORDS}(?![a-z]){_FILLER}$", _I)
_MFG_BEFORE = re.compile(rf"(?<![a-z])(?:mfg|mfd|mfgd|manufactured|manufacture|manuf|made|produced)(?![a-z])"
                         rf"{_FILLER}$", _I)
_EXP_WORD = re.compile(rf"(?<![a-z]){_EXP_WORDS}(?![a-z]){_FILLER}", _I)


@dataclass(frozen=True)
class _DateHit:
    start: int
    end: int
    written: str
    value: date | None
    problem: str | None
    note: str | None
    expiry_word: bool
    manufacture_word: bool


def _year(raw: str) -> int:
    digits = raw.lstrip("'")
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _make_date(year: int, month: int, day: int | None) -> tuple[date | None, str | None]:
    if not 2000 <= year <= 2099:
        return None, f"the year {year} is out of range (2000-2099)"
    if not 1 <= month <= 12:
        return None, f"{month} is not a month"
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return date(year, month, last), None
    if not 1 <= day <= last:
        return None, "it is not a real date"
    return date(year, month, day), None


def _read_date(kind: str, m: re.Match[str]) -> tuple[date | None, str | None, str | None] | None:
    """(date, problem, note) of one match, or None when it is not a date after all (a
    two-number form whose month is impossible, such as a ratio)."""
    groups = m.groupdict()
    month = MONTHS[groups["mon"].lower()] if groups.get("mon") else None
    if kind == "dmy":
        first, second, year = int(groups["a"]), int(groups["b"]), _year(groups["y"])
        if first <= 12 < second:  # cannot be day-first; read it month-first
            value, problem = _make_date(year, first, second)
            return value, problem, f"Read '{m.group(0)}' month first (the second number is not a month)"
        value, problem = _make_date(year, second, first)
        return value, problem, None
    if kind == "ymd":
        return (*_make_date(int(groups["y"]), int(groups["m"]), int(groups["d"])), None)
    if kind in ("d_mon_y", "mon_d_y"):
        return (*_make_date(_year(groups["y"]), month or 0, int(groups["d"])), None)
    if kind in ("y_mon", "mon_y"):
        return (*_make_date(_year(groups["y"]), month or 0, None), None)
    numeric_month = int(groups["m"])
    if not 1 <= numeric_month <= 12:
        return None
    return (*_make_date(_year(groups["y"] or groups["yy"]), numeric_month, None), None)


def _find_dates(text: str) -> list[_DateHit]:
    """Every date in `text` (at most MAX_DATES, enough for any real line), each span read by
    the first pattern that claims it."""
    claimed: list[tuple[int, int]] = []
    hits: list[_DateHit] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if len(hits) >= MAX_DATES:
                return sorted(hits, key=lambda hit: hit.start)
            if any(m.start() < end and start < m.end() for start, end in claimed):
                continue
            read = _read_date(kind, m)
            if read is None:
                continue
            before = text[max(0, m.start() - 60):m.start()]
            claimed.append((m.start(), m.end()))
            hits.append(_DateHit(m.start(), m.end(), m.group(0).strip(), *read,
                                 expiry_word=bool(_EXP_BEFORE.search(before)),
                                 manufacture_word=bool(_MFG_BEFORE.search(before))))
    return sorted(hits, key=lambda hit: hit.start)


def _read_expiry(work: _Text, line: ParsedLine, today: date | None) -> None:
    hits = _find_dates(work.rest)
    after_word = [hit for hit in hits if hit.expiry_word]
    plain = [hit for hit in hits if not hit.expiry_word and not hit.manufacture_word]
    stray_words = [m for m in _EXP_WORD.finditer(work.rest)
                   if not any(hit.start == m.end() for hit in after_word)]
    for hit in hits:
        work.cut(hit.start, hit.end)
    chosen: _DateHit | None = None
    if after_word:
        chosen = after_word[0]
    elif stray_words:
        word = stray_words[0]
        following = work.rest[word.end():].strip()[:30] or "nothing"
        line.fail("expiry_date", "unreadable_expiry_date",
                  f"Could not read the expiry date after '{word.group(0).strip()}': '{following}' "
                  "(write e.g. 'exp 31/01/2029', 'exp Jan 2029' or 'exp 2029-01-31')")
        return
    elif plain:
        readable = [hit for hit in plain if hit.value is not None]
        chosen = max(readable, key=lambda hit: hit.value or date.min) if readable else plain[0]
        if len(plain) > 1:
            line.notes.append(f"Several dates in the line; took '{chosen.written}' as the expiry date "
                              "(mark it with 'exp' to choose)")
    if chosen is None:
        line.fail("expiry_date", "missing_expiry_date",
                  "No expiry date found (write e.g. 'exp 31/01/2029', 'exp Jan 2029' or 'exp 2029-01-31')")
        return
    if chosen.value is None:
        line.fail("expiry_date", "unreadable_expiry_date",
                  f"Could not read the expiry date '{chosen.written}': {chosen.problem}")
        return
    line.expiry_date = chosen.value
    if chosen.note:
        line.notes.append(chosen.note)
    if today is not None and expired(chosen.value, today):
        line.notes.append(f"The expiry date {chosen.value.isoformat()} is not after today: the batch is "
                          "already expired")


# --- quantity -------------------------------------------------------------------------------

_N = r"(?P<n>\d{1,9}|" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")"
_NUM = _N + r"(?![\w-]|[.,/]\d)"  # a number standing alone
_NUM_BEFORE_WORD = _N + r"(?![.,/]\d)"  # a number a unit word follows, with or without a space
_NOT_STRENGTH = r"(?!\s*(?:mg|mcg|µg|ug|g|ml|l|iu|%|mmol)(?![a-z]))"
_OUTER = r"(?:boxes|box|cartons?|cases?|packs?|packets?|outers?|bundles?)"
_FORM_AFTER = r"\s*(?:" + "|".join(sorted(FORMS, key=len, reverse=True)) + r")(?![a-z])"
_QUANTITIES = tuple((kind, re.compile(pattern, _I)) for kind, pattern in (
    ("keyword", rf"(?<![a-z])(?:qty|qnty|quantity)(?![a-z])\.?(?:\s*[:=])?\s*{_NUM}"),
    ("boxes_of", rf"(?<![\w.,/-]){_NUM_BEFORE_WORD}\s*(?P<outer>{_OUTER})\s+of\s+(?P<m>\d{{1,9}})"
                 rf"(?![\w-]|[.,/]\d){_NOT_STRENGTH}(?!{_FORM_AFTER})"),
    ("times", r"(?<![\w.,/-])(?P<n>\d{1,9})\s*[x×](?![a-z\d])(?!\s*\d)"),
    ("times", rf"(?<![\w.])(?<!\d\s)[x×]\s*(?P<n>\d{{1,9}})(?![\w-]|[.,/]\d){_NOT_STRENGTH}"),
    ("units", rf"(?<![\w.,/-]){_NUM_BEFORE_WORD}\s*(?:units?|pcs|pieces?|packs?|packets?|boxes|box|cartons?|"
              rf"cases?|items?)(?![a-z])(?!\s*/)"),
    ("containers", rf"(?<![\w.,/-]){_NUM_BEFORE_WORD}\s+(?:bottles?|vials?|tubes?|ampoules?|amps|inhalers?|"
                   rf"sachets?|strips?|bags?|tubs?|jars?|blisters?)(?![a-z])"),
    ("verb", rf"^\W*(?:please\s+)?(?:add|added|receive|received|receiving|got|in|book(?:ed)?\s+in|restock|"
             rf"stock|delivery\s+of|delivered)(?![a-z])(?:\s*[:-])?\s*{_NUM}{_NOT_STRENGTH}"),
    ("leading", rf"^\W*{_NUM}{_NOT_STRENGTH}(?!\s*[x×]\s*\d)"),
))


def _number(raw: str) -> int:
    return WORD_NUMBERS.get(raw.lower()) or int(raw)


def _read_quantity(work: _Text, line: ParsedLine) -> None:
    for kind, pattern in _QUANTITIES:
        match = pattern.search(work.rest)
        if match is None:
            continue
        quantity = _number(match.group("n"))
        if kind == "boxes_of":
            quantity *= int(match.group("m"))
            line.notes.append(f"Read '{' '.join(match.group(0).split())}' as {quantity} units")
        work.cut(match.start("n") if kind in ("verb", "leading") else match.start(), match.end())
        if not 1 <= quantity <= MAX_UNITS:
            line.fail("quantity", "quantity_out_of_range",
                      f"The quantity {quantity} is out of range (1 to {MAX_UNITS:,})")
        else:
            line.quantity = quantity
        return
    line.fail("quantity", "missing_quantity", "No quantity found (write e.g. '5 units', 'qty 5' or '5 x')")


# --- product --------------------------------------------------------------------------------

_STRENGTH = re.compile(r"(?<![\w.])(?<!\d/)(?P<nums>\d+(?:[.,]\d+)?(?:\s*/\s*\d+(?:[.,]\d+)?){0,3})\s*"
                       r"(?P<unit>mg|mcg|µg|ug|g|ml|l|iu|%|mmol|units?(?=\s*/))(?![a-z])", _I)
_UNIT_SCALE = {"mg": ("mg", Decimal(1)), "g": ("mg", Decimal(1000)), "mcg": ("mg", Decimal("0.001")),
               "µg": ("mg", Decimal("0.001")), "ug": ("mg", Decimal("0.001")), "ml": ("ml", Decimal(1)),
               "l": ("ml", Decimal(1000)), "iu": ("iu", Decimal(1)), "%": ("%", Decimal(1)),
               "mmol": ("mmol", Decimal(1)), "unit": ("unit", Decimal(1)), "units": ("unit", Decimal(1))}
_PACK_MULTI = re.compile(r"(?<![\w.])(?P<chain>\d+(?:\s*[x×]\s*\d+(?:[.,]\d+)?){1,3})"
                         r"(?:\s*(?P<unit>ml|g|mg)(?![a-z]))?", _I)
_PACK_NUMBERS = (
    re.compile(r"(?<![a-z])(?:pack|box|strip|blister)s?\s+of\s+(?P<n>\d{1,9})(?![\w.])", _I),
    re.compile(r"(?<![\w.])(?P<n>\d{1,9})\s*(?:-\s*)?(?:s|ct|count|strips?|packs?|tabs?|tablets?|caps?|capsules?|pcs|"
               r"pieces|vials?|doses?|sachets?|patch(?:es)?|suppositories|amps?|ampoules?)(?![a-z])", _I),
    re.compile(r"(?<![\w.])[x×]\s*(?P<n>\d{1,9})(?![\w.])", _I),
    re.compile(r"(?<![\w.,/-])(?P<n>\d{1,9})(?![\w.,/])"),
)
_WORD = re.compile(r"[^\W_]+")
_CODE_TOKEN = re.compile(r"[a-z0-9][a-z0-9._/#-]*[a-z0-9]", _I)


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def strengths_in(text: str) -> tuple[set[str], str]:
    """Normalized strengths in `text` ("500 mg/5 ml" -> {"500mg", "5ml"}; "1 g" -> "1000mg";
    "500/125 mg" -> {"500mg", "125mg"}) and the text with them blanked out."""
    found: set[str] = set()
    for match in _STRENGTH.finditer(text):
        unit, scale = _UNIT_SCALE[match.group("unit").lower()]
        for number in re.split(r"\s*/\s*", match.group("nums")):
            found.add(_decimal_text(Decimal(number.replace(",", ".")) * scale) + unit)
    return found, _STRENGTH.sub(lambda m: " " * len(m.group(0)), text)


def pack_keys(text: str) -> tuple[set[str], set[str], str]:
    """(pack keys, strengths, rest) of a pack description: "3x10" / "3 x 10" -> {"3x10"},
    "10x2 ml" -> {"10x2", "10x2ml"}, "2 x 50x2 ml" -> {"2x50x2", "2x50x2ml"}, "10-strip" /
    "pack of 10" / "x10" / "10" -> {"10"};
    volumes and masses ("60 ml") come back as strengths."""
    keys: set[str] = set()
    for match in _PACK_MULTI.finditer(text):
        numbers = re.split(r"\s*[x×]\s*", match.group("chain").lower())
        key = "x".join(_decimal_text(Decimal(number.replace(",", "."))) for number in numbers)
        keys.add(key)
        if match.group("unit"):
            keys.add(key + match.group("unit").lower())
    text = _PACK_MULTI.sub(lambda m: " " * len(m.group(0)), text)
    strengths, text = strengths_in(text)
    for pattern in _PACK_NUMBERS:
        for match in pattern.finditer(text):
            keys.add(str(int(match.group("n"))))
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return keys, strengths, text


def sku_pack_keys(package_size: str) -> set[str]:
    """Pack keys of a SKU's package_size ("3x10", "2 x 30", "60 ml", "10 vials", "100"); a
    volume or mass also gives its bare number ("60 ml" -> {"60ml", "60"})."""
    keys, strengths, _ = pack_keys(package_size)
    keys |= strengths
    first = re.search(r"\d+(?:[.,]\d+)?", package_size)
    if strengths and first and not any("x" in key for key in keys):
        keys.add(_decimal_text(Decimal(first.group(0).replace(",", "."))))
    return keys


def forms_in(text: str) -> set[str]:
    return {FORMS[word] for word in _WORD.findall(text.lower()) if word in FORMS}


def name_words(text: str) -> list[str]:
    """Lower-case words of a name that identify a product: no forms, strengths, units or filler
    (a strength written as one word, "Paracetamol 500mg", is a strength, not a name word)."""
    words = []
    for word in _WORD.findall(text.lower()):
        if (word in FORMS or word in FORM_NOISE or word in STOP_WORDS or word in WORD_NUMBERS
                or not any(ch.isalpha() for ch in word) or len(word) < 2 or _STRENGTH.fullmatch(word)):
            continue
        if word not in words:
            words.append(word)
    return words


def _strength_stems(text: str) -> list[str]:
    """Strengths as a product name may spell them: "500mg" -> "500 mg", "500mg"."""
    stems: list[str] = []
    for match in _STRENGTH.finditer(text.lower()):
        unit = match.group("unit")
        for number in re.split(r"\s*/\s*", match.group("nums")):
            stems += [f"{number.replace(',', '.')} {unit}", f"{number.replace(',', '.')}{unit}"]
    return stems


def _read_product(rest: str, code_source: str) -> ProductQuery:
    details = _strength_stems(rest)
    packs, strengths, rest = pack_keys(rest)
    forms = forms_in(rest)
    details += [FORM_STEMS[form] for form in sorted(forms) if form in FORM_STEMS]
    tokens: list[str] = []
    for token in _CODE_TOKEN.findall(code_source):
        if (3 <= len(token) <= MAX_BATCH_NO_CHARS and any(ch.isalpha() for ch in token)
                and token.lower() not in STOP_WORDS and token not in tokens):
            tokens.append(token)
    return ProductQuery(
        words=tuple(name_words(rest)[:MAX_PRODUCT_WORDS]), strengths=frozenset(strengths),
        packs=frozenset(packs), forms=frozenset(forms), tokens=tuple(tokens[:MAX_CODE_TOKENS]),
        details=tuple(dict.fromkeys(details))[:MAX_DETAILS])
