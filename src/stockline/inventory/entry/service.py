"""Natural-language stock entry: proposed receipts from lines of text. Nothing is written.

`propose_receipts` reads each line with the parser, fetches the SKUs worth scoring for
every line in one read-only query (`entry_candidates`: products whose name holds the first
letters of one of the line's words, best covered first, and exact sku_code matches; plain
strpos, no pg_trgm needed), scores them here and proposes
a receipt, the body of POST /api/admin/inventory/batches, when the line was read in full and
one SKU clearly matches best.

Score of an active SKU for a line, 0..1:
- a token of the line equal to the SKU's code (any case): 1.0, always the clear best;
- otherwise 0.9 x name x strength x pack x form, where name = 0.65 x recall + 0.35 x
  precision over words: recall = how much of the product name's words the line mentions,
  precision = how much of the line's words the product name or manufacturer explains. A
  word counts 1 when equal, 0.9 as an abbreviation of 4+ letters ("amox"), 0.7 of 3
  letters, and its similarity ratio when spelled nearly alike (>= 0.8: "paracetmol").
  Strength, pack and form count 1 when the line does not mention them or they agree; when
  they disagree 0.35 (strength), 0.6 (pack), 0.7 (form); when the SKU does not say, 0.85
  (strength, pack) and 0.9 (form).
Candidates under MIN_CANDIDATE_SCORE are left out and the best MAX_CANDIDATES listed. A
receipt is proposed when the best scores at least MIN_MATCH_SCORE and is the code match or
leads the next by CLEAR_LEAD; otherwise a note names the SKUs that tie.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import cached_property, lru_cache
from typing import Any

from stockline import db
from stockline.errors import ValidationFailed
from stockline.inventory.entry import parser
from stockline.inventory.entry.parser import LineError, ParsedLine, ProductQuery
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.money import money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

MAX_CANDIDATES = 5
PRODUCTS_PER_LINE = 40  # products whose SKUs are fetched and scored for a line
MIN_CANDIDATE_SCORE = 0.2
MIN_MATCH_SCORE = 0.5
CLEAR_LEAD = 0.1


@lru_cache(maxsize=16_384)
def _words_of(text: str) -> tuple[str, ...]:
    return tuple(parser.name_words(text))


@lru_cache(maxsize=16_384)
def _strengths_of(product_name: str) -> frozenset[str]:
    return frozenset(parser.strengths_in(product_name)[0])


@lru_cache(maxsize=4_096)
def _packs_of(package_size: str) -> frozenset[str]:
    return frozenset(parser.sku_pack_keys(package_size))


@lru_cache(maxsize=16_384)
def _forms_of(product_name: str, unit_type: str) -> frozenset[str]:
    return frozenset(parser.forms_in(f"{product_name} {unit_type}"))


@dataclass(frozen=True)
class SkuFacts:
    """A candidate SKU and what its product name, manufacturer and pack say (read once per
    distinct text: catalogs repeat names and pack sizes)."""
    sku_id: int
    sku_code: str
    product_name: str
    manufacturer: str | None
    package_size: str
    unit_type: str

    @cached_property
    def name_words(self) -> tuple[str, ...]:
        return _words_of(self.product_name)

    @cached_property
    def known_words(self) -> tuple[str, ...]:
        """Words a line may use for this SKU: its product name's and its manufacturer's."""
        return tuple(dict.fromkeys([*self.name_words, *_words_of(self.manufacturer or "")]))

    @cached_property
    def words_key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.name_words, self.known_words

    @cached_property
    def strengths(self) -> frozenset[str]:
        return _strengths_of(self.product_name)

    @cached_property
    def packs(self) -> frozenset[str]:
        return _packs_of(self.package_size)

    @cached_property
    def forms(self) -> frozenset[str]:
        return _forms_of(self.product_name, self.unit_type)


@dataclass(frozen=True)
class Candidate:
    sku: SkuFacts
    score: float
    by_code: bool

    def as_dict(self) -> dict[str, Any]:
        sku = self.sku
        return {"sku_id": sku.sku_id, "sku_code": sku.sku_code, "product_name": sku.product_name,
                "manufacturer": sku.manufacturer, "package_size": sku.package_size,
                "unit_type": sku.unit_type, "score": self.score}


@lru_cache(maxsize=65_536)
def word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    if long.startswith(short) and len(short) >= 3:
        return 0.9 if len(short) >= 4 else 0.7
    if len(short) < 5 or len(long) - len(short) > 2 or a[0] != b[0]:
        return 0.0
    ratio = SequenceMatcher(None, a, b).ratio()
    return ratio if ratio >= 0.8 else 0.0


def _coverage(words: tuple[str, ...], vocabulary: tuple[str, ...]) -> float:
    if not words or not vocabulary:
        return 0.0
    return sum(max(word_similarity(word, known) for known in vocabulary) for word in words) / len(words)


def _name_score(query: ProductQuery, sku: SkuFacts) -> float:
    recall = _coverage(sku.name_words, query.words)
    return 0.65 * recall + 0.35 * _coverage(query.words, sku.known_words)


def score(query: ProductQuery, sku: SkuFacts, name_scores: dict[tuple, float] | None = None) -> Candidate:
    """How well `sku` fits what the line says about the product (see the module docstring).
    `name_scores` caches the word part across SKUs of the same product name and maker."""
    if sku.sku_code.lower() in query.code_keys:
        return Candidate(sku, 1.0, True)
    if not query.words:
        return Candidate(sku, 0.0, False)
    if name_scores is None:
        name = _name_score(query, sku)
    else:
        name = name_scores.get(sku.words_key)
        if name is None:
            name = name_scores[sku.words_key] = _name_score(query, sku)
    unmatched = query.strengths - sku.strengths - sku.packs
    pack_volumes = any(key.endswith("ml") for key in sku.packs)
    if unmatched and pack_volumes and all(s.endswith("ml") for s in unmatched):
        strength, pack = 1.0, 0.6  # "100ml" where the SKU is a 150 ml bottle: a pack that differs
    else:
        strength = 1.0 if not unmatched else 0.35 if sku.strengths else 0.85
        pack = 1.0 if not query.packs or query.packs & sku.packs else 0.6 if sku.packs else 0.85
    form = 1.0 if not query.forms or query.forms & sku.forms else 0.7 if sku.forms else 0.9
    return Candidate(sku, round(0.9 * name * strength * pack * form, 3), False)


def rank(query: ProductQuery, skus: list[SkuFacts]) -> list[Candidate]:
    """Every SKU scoring at least MIN_CANDIDATE_SCORE, best first (then lowest sku_id)."""
    name_scores: dict[tuple, float] = {}
    scored = (score(query, sku, name_scores) for sku in skus)
    kept = (c for c in scored if c.score >= MIN_CANDIDATE_SCORE)
    return sorted(kept, key=lambda c: (-c.score, c.sku.sku_id))


def read_lines(text: str, today: date) -> list[ParsedLine]:
    """Parse every non-empty line; 422 when the text is empty or too long."""
    if len(text) > parser.MAX_TEXT_CHARS:
        raise ValidationFailed(f"The text is longer than {parser.MAX_TEXT_CHARS:,} characters",
                               code="entry_too_long", details={"max_chars": parser.MAX_TEXT_CHARS})
    lines = parser.split_lines(text)
    if not lines:
        raise ValidationFailed("The text has no lines to read", code="entry_empty")
    if len(lines) > parser.MAX_LINES:
        raise ValidationFailed(f"The text has {len(lines)} lines; at most {parser.MAX_LINES} at once",
                               code="entry_too_long",
                               details={"lines": len(lines), "max_lines": parser.MAX_LINES})
    return [parser.parse_line(line_no, line, today) for line_no, line in lines]


async def _candidates(ctx: Context, lines: list[ParsedLine]) -> dict[int, list[SkuFacts]]:
    params: dict[str, Any] = {"stem_lines": [], "stems": [], "word_stems": [], "code_lines": [], "codes": [],
                              "products_per_line": PRODUCTS_PER_LINE}
    for line in lines:
        for stem, is_word in line.product.search_stems():
            params["stem_lines"].append(line.line_no)
            params["stems"].append(stem)
            params["word_stems"].append(is_word)
        for token in line.product.tokens:
            params["code_lines"].append(line.line_no)
            params["codes"].append(token)
    by_line: dict[int, list[SkuFacts]] = defaultdict(list)
    if not any(params["word_stems"]) and not params["codes"]:
        return by_line
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["entry_candidates"], params)
    for row in rows:
        line_nos = row.pop("line_nos")
        sku = SkuFacts(**row)
        for line_no in line_nos:
            by_line[line_no].append(sku)
    return by_line


def propose(line: ParsedLine, skus: list[SkuFacts]) -> dict[str, Any]:
    """The answer for one line: what was read, the ranked candidates, the receipt to post
    (when the line is complete and one SKU clearly fits best), errors and notes."""
    ranked = rank(line.product, skus)
    best = ranked[0] if ranked else None
    errors = [e.as_dict() for e in line.errors]
    notes = list(line.notes)
    clear = False
    if best is None or best.score < MIN_MATCH_SCORE:
        if not line.product.words and not line.product.tokens:
            errors.append(LineError("sku", "missing_product", "No product named (write the product name, "
                                    "strength and pack, or the SKU code)").as_dict())
        else:
            described = line.product.describe() or " ".join(line.product.tokens)
            message = f"No active SKU matches '{described}'"
            errors.append(LineError("sku", "no_matching_sku", message).as_dict())
    else:
        close = [c for c in ranked if best.score - c.score < CLEAR_LEAD]
        clear = best.by_code or len(close) == 1
        if not clear:
            codes = ", ".join(c.sku.sku_code for c in close[:MAX_CANDIDATES])
            notes.append(f"{len(close)} SKUs match about equally well ({codes}): name the strength, "
                         "pack size, manufacturer or SKU code, or choose one")
    receipt = None
    if clear and not errors and best is not None:
        receipt = {"sku_id": best.sku.sku_id, "batch_no": line.batch_no, "quantity": line.quantity,
                   "expiry_date": line.expiry_date}
        if line.cost_price is not None:  # left out, not null, when the line states none
            receipt["cost_price"] = money(line.cost_price)
        else:
            notes.append("No cost price in the line ('at 3.20 each', 'cost 3.20'): add cost_price to the "
                         "receipt before posting it")
    return {
        "line_no": line.line_no, "text": line.text, "ok": not errors, "quantity": line.quantity,
        "batch_no": line.batch_no, "expiry_date": line.expiry_date,
        "cost_price": money(line.cost_price) if line.cost_price is not None else None,
        "candidates": [c.as_dict() for c in ranked[:MAX_CANDIDATES]], "receipt": receipt,
        "errors": errors, "notes": notes,
    }


async def propose_receipts(ctx: Context, text: str, today: date | None = None) -> dict[str, Any]:
    """{lines: [...]}, one proposal per non-empty line of `text`, in order. Reads only."""
    # parsing and scoring are CPU work (up to 200 lines x a few hundred SKUs): off the event loop
    lines = await asyncio.to_thread(read_lines, text, today or business_day())
    candidates = await _candidates(ctx, lines)
    proposals = await asyncio.to_thread(lambda: [propose(line, candidates[line.line_no]) for line in lines])
    return {"lines": proposals}
