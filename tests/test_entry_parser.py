"""Natural-language stock entry: the line parser on many phrasings (pure), SKU scoring
(pure), and POST /api/admin/inventory/parse-entry end to end against a small catalog —
roles, several lines with a bad one, limits, and that nothing is ever written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockline.inventory.entry.parser import MAX_LINES, MAX_TEXT_CHARS, parse_line
from stockline.inventory.entry.service import SkuFacts, propose, rank, score
from tests.ordering_world import bearer, password_hash

TODAY = date(2026, 11, 1)
JAN_2029 = date(2029, 1, 31)
PARSE = "/api/admin/inventory/parse-entry"


def read(text: str):
    return parse_line(1, text, today=TODAY)


# --- the parser: quantity, batch, expiry and cost on many phrasings ----------------------------

@pytest.mark.parametrize(("text", "quantity", "batch_no", "expiry", "cost"), [
    ("Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029",
     5, "P500-ZZ1", JAN_2029, None),
    ("Add 5 units of Paracetamol 500mg batch P500-ZZ1 exp Jan 2029", 5, "P500-ZZ1", JAN_2029, None),
    ("qty 12 Amoxicillin 500 mg caps batch AMX-77 exp 31/01/2029 at 3.20 each", 12, "AMX-77", JAN_2029, "3.20"),
    ("Qty: 7 Ibuprofen lot: ABC123 EXP: 2029/01/31", 7, "ABC123", JAN_2029, None),
    ("quantity=3 Ibuprofen lot ABC123 exp 2029-01-31", 3, "ABC123", JAN_2029, None),
    ("5 x Ibuprofen 400mg lot: ABC123 expiry 2029-01 cost 3.20", 5, "ABC123", JAN_2029, "3.20"),
    ("5x Ibuprofen 400mg lot ABC123 exp 01/2029", 5, "ABC123", JAN_2029, None),
    ("Ibuprofen 400mg x5 B/N ABC-1 exp 01/29", 5, "ABC-1", JAN_2029, None),
    ("Ibuprofen 400mg x 5 BN ABC-1 exp 31.01.2029", 5, "ABC-1", JAN_2029, None),
    ("five units Paracetamol lot L1 exp 31 Jan 2029", 5, "L1", JAN_2029, None),
    ("Add twelve Paracetamol lot L1 exp 31st January 2029", 12, "L1", JAN_2029, None),
    ("twenty boxes Paracetamol lot L1 exp Jan 31 2029", 20, "L1", JAN_2029, None),
    ("Received 20 Cetirizine 10mg batch no. C-9 exp January 31, 2029", 20, "C-9", JAN_2029, None),
    ("Got 8 Cetirizine 10mg batch number C-9 best before 2029-01-31", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg lot no: C-9 use by 31-01-2029", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg lot# C-9 exp 31-Jan-29", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 exp Jan-29", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 exp Jan '29", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 exp 2029 Jan", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 exp. date: 31.01.29", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 expires end of January 2029", 8, "C-9", JAN_2029, None),
    ("8 Cetirizine 10mg batch C-9 31/01/2029", 8, "C-9", JAN_2029, None),  # the only date: the expiry
    ("3 packs Amoxicillin 250mg/5ml 100ml lot S-1 exp 2029.01.31 @ 4.5", 3, "S-1", JAN_2029, "4.50"),
    ("4 bottles Amoxicillin suspension lot S-1 exp 06/2029 £12.00", 4, "S-1", date(2029, 6, 30), "12.00"),
    ("4 vials Ceftriaxone 1g lot V1 exp 02/2028 cost price: 1,250.00", 4, "V1", date(2028, 2, 29), "1250.00"),
    ("Add 6 pcs Ceftriaxone lot V1 exp 2029-02 3,20 EUR per unit", 6, "V1", date(2029, 2, 28), "3.20"),
    ("Add 6 Paracetamol lot V1 exp 2029-02 unit cost 0.75", 6, "V1", date(2029, 2, 28), "0.75"),
    ("6 Paracetamol lot V1 mfg 01/2027 exp 01/2029", 6, "V1", JAN_2029, None),
    ("- 6 Paracetamol lot V1 exp 01/2029", 6, "V1", JAN_2029, None),
    ("2. Add 6 Paracetamol lot V1 exp 01/2029", 6, "V1", JAN_2029, None),
    ("2 boxes of 10 Paracetamol lot V1 exp 01/2029", 20, "V1", JAN_2029, None),
    ("2 boxes of 10 tablets Paracetamol lot V1 exp 01/2029", 2, "V1", JAN_2029, None),
    ("Paracetamol 500mg 10-strip qty 40 batch P-1 exp 12/2029 price 1.10", 40, "P-1", date(2029, 12, 31), "1.10"),
    ("Paracetamol 500mg batch p500-zz1. exp 01/31/2029", None, "p500-zz1", JAN_2029, None),
])
def test_parser_reads_quantity_batch_expiry_and_cost(text, quantity, batch_no, expiry, cost):
    line = read(text)
    assert (line.quantity, line.batch_no, line.expiry_date) == (quantity, batch_no, expiry)
    assert line.cost_price == (Decimal(cost) if cost else None)
    assert [e.field for e in line.errors] == ([] if quantity else ["quantity"])


@pytest.mark.parametrize(("written", "expected"), [
    ("Jan 2029", JAN_2029), ("January 2029", JAN_2029), ("2029-01-31", JAN_2029), ("31/01/2029", JAN_2029),
    ("31.01.2029", JAN_2029), ("01/2029", JAN_2029), ("2029-01", JAN_2029), ("01/29", JAN_2029),
    ("1/29", JAN_2029), ("31 Jan 2029", JAN_2029), ("2029/01/31", JAN_2029), ("Feb 2028", date(2028, 2, 29)),
    ("02/03/2029", date(2029, 3, 2)),  # day first when both numbers could be months
    ("13/03/2029", date(2029, 3, 13)),
    ("03/13/2029", date(2029, 3, 13)),  # month first only when the second cannot be a month
    ("05/06/29", date(2029, 6, 5)),
    ("Sept 2029", date(2029, 9, 30)), ("dec 2029", date(2029, 12, 31)),
])
def test_expiry_dates_day_first_month_only_means_last_day(written, expected):
    line = read(f"Add 5 units Paracetamol batch B1 exp {written}")
    assert line.expiry_date == expected, line.errors
    assert line.errors == []


def test_a_month_first_reading_is_noted():
    line = read("Add 5 units Paracetamol batch B1 exp 01/31/2029")
    assert line.expiry_date == JAN_2029
    assert any("month first" in note for note in line.notes)


def test_a_past_expiry_date_is_read_and_noted():
    line = read("Add 5 units Paracetamol batch B1 exp 01/2020")
    assert line.expiry_date == date(2020, 1, 31) and line.errors == []
    assert any("already expired" in note for note in line.notes)


@pytest.mark.parametrize(("text", "field", "code"), [
    ("Paracetamol 500mg batch B1 exp 01/2029", "quantity", "missing_quantity"),
    ("qty 0 Paracetamol batch B1 exp 01/2029", "quantity", "quantity_out_of_range"),
    ("qty 2000000 Paracetamol batch B1 exp 01/2029", "quantity", "quantity_out_of_range"),
    ("5 units Paracetamol exp 01/2029", "batch_no", "missing_batch_no"),
    ("5 units Paracetamol batch exp 01/2029", "batch_no", "missing_batch_no"),
    (f"5 units Paracetamol batch {'A' * 65} exp 01/2029", "batch_no", "batch_no_too_long"),
    ("5 units Paracetamol batch B1", "expiry_date", "missing_expiry_date"),
    ("5 units Paracetamol batch B1 exp soon", "expiry_date", "unreadable_expiry_date"),
    ("5 units Paracetamol batch B1 exp 31/02/2029", "expiry_date", "unreadable_expiry_date"),
    ("5 units Paracetamol batch B1 exp 13/14/2029", "expiry_date", "unreadable_expiry_date"),
    ("5 units Paracetamol batch B1 exp 13/2029", "expiry_date", "unreadable_expiry_date"),
    ("5 units Paracetamol batch B1 exp Jan 2150", "expiry_date", "unreadable_expiry_date"),
    ("5 units Paracetamol batch B1 exp 01/2029 cost 3.205", "cost_price", "unreadable_cost"),
])
def test_parser_names_what_it_cannot_read(text, field, code):
    line = read(text)
    assert [(e.field, e.code) for e in line.errors] == [(field, code)]
    assert line.errors[0].message


def test_a_line_with_nothing_readable_reports_every_missing_part():
    line = read("hello there")
    assert {e.field for e in line.errors} == {"quantity", "batch_no", "expiry_date"}


def test_product_words_strengths_packs_and_forms_are_separated():
    product = read("Add 5 units of Paracetamol 500mg 10-strip tabs Teva Batch #P500-ZZ1 exp Jan 2029").product
    assert product.words == ("paracetamol", "teva")
    assert (product.strengths, product.packs, product.forms) == ({"500mg"}, {"10"}, {"tablet"})
    assert "p500-zz1" not in product.tokens  # the batch number is never taken for a SKU code
    assert read("5 x Ceftriaxone 1 g 3x10 exp 01/2029 batch B").product.strengths == {"1000mg"}
    assert read("5 x Ceftriaxone 1 g 3x10 exp 01/2029 batch B").product.packs == {"3x10"}
    assert read("5 x Ibuprofen 100 mg/5 ml lot B exp 01/2029").product.strengths == {"100mg", "5ml"}


def test_search_stems_are_word_beginnings_then_strengths_and_forms():
    product = read("5 x Paracetamol Amox 500mg caps lot B exp 01/2029").product
    assert product.search_stems() == [("para", True), ("amox", True), ("500 mg", False), ("500mg", False),
                                      ("capsul", False)]
    assert read("5 x PARA-10 lot B exp 01/2029").product.tokens == ("PARA-10",)


_PIECES = ["Add", "5", "units", "of", "Paracetamol", "500mg", "10-strip", "Batch", "#", "P500-ZZ1", "lot", ":",
           "B/N", "exp", "expiring", "Jan", "2029", "29", "01/2029", "31/01/2029", "31.01.2029", "2029-01-31", "/",
           ".", "-", "x", "x5", "5x", "3x10", "qty", "five", "boxes of 10", "at", "3.20", "each", "cost", "£",
           "1,250.00", "9" * 40, "0", "13", "mfg", "caps", "100 units/ml", "1 g", "%", "PARA-10", "½", "١٢"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=5), max_size=20))
def test_any_line_is_read_without_raising_and_every_missing_part_is_named(parts):
    line = read(" ".join(parts))
    fields = {e.field for e in line.errors}
    assert (line.quantity is None) == ("quantity" in fields)
    assert (line.batch_no is None) == ("batch_no" in fields)
    assert (line.expiry_date is None) == ("expiry_date" in fields)
    assert line.quantity is None or 1 <= line.quantity <= 1_000_000
    proposal = propose(line, CATALOG)
    assert proposal["ok"] == (proposal["errors"] == [])
    assert proposal["receipt"] is None or proposal["ok"]


# --- scoring (pure) ----------------------------------------------------------------------------

CATALOG = [
    SkuFacts(1, "PARA-10", "Paracetamol 500 mg tablets", "Teva", "10", "tablet"),
    SkuFacts(2, "PARA-3X10", "Paracetamol 500 mg tablets", "Teva", "3x10", "tablet"),
    SkuFacts(3, "PARA1G-10", "Paracetamol 1 g tablets", "Teva", "10", "tablet"),
    SkuFacts(4, "SPARA-28", "Paracetamol 500 mg tablets", "Sandoz", "28", "tablet"),
    SkuFacts(5, "AMOX-21", "Amoxicillin 500 mg capsules", "Sandoz", "21", "capsule"),
    SkuFacts(6, "IBU-SUSP", "Ibuprofen 100 mg/5 ml oral suspension", "Zentiva", "100 ml", "bottle"),
]


def best(text: str):
    return rank(read(text).product, CATALOG)


def test_strength_and_pack_pick_one_sku_clearly():
    ranked = best("Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029")
    assert ranked[0].sku.sku_id == 1 and ranked[0].score >= 0.85
    assert ranked[0].score - ranked[1].score >= 0.1
    assert all(0 <= c.score <= 1 for c in ranked)
    assert 5 not in [c.sku.sku_id for c in ranked]  # amoxicillin does not match at all


def test_an_exact_sku_code_wins_in_any_case():
    ranked = best("Add 5 x spara-28 batch B1 exp 01/2029")
    assert (ranked[0].sku.sku_id, ranked[0].score, ranked[0].by_code) == (4, 1.0, True)


def test_a_wrong_strength_scores_far_below_the_right_one():
    assert score(read("5 x Paracetamol 1g 10 lot B exp 01/2029").product, CATALOG[2]).score > 0.8
    assert score(read("5 x Paracetamol 1g 10 lot B exp 01/2029").product, CATALOG[0]).score < 0.4


def test_abbreviations_typos_manufacturer_and_form_count():
    assert best("5 x Amox 500mg caps lot B exp 01/2029")[0].sku.sku_id == 5
    assert best("5 x Paracetmol 500mg 28 lot B exp 01/2029")[0].sku.sku_id == 4
    sandoz = best("5 x Paracetamol 500mg Sandoz lot B exp 01/2029")
    assert sandoz[0].sku.sku_id == 4 and sandoz[0].score > sandoz[1].score
    ibu = best("5 x Ibuprofen 100mg/5ml suspension 100ml lot B exp 01/2029")
    assert ibu[0].sku.sku_id == 6 and ibu[0].score >= 0.85
    assert score(read("5 x Ibuprofen syrup lot B exp 01/2029").product, CATALOG[5]).score < ibu[0].score


def test_words_matching_nothing_leave_no_candidates():
    assert best("5 x Warfarin 5mg lot B exp 01/2029") == []


# --- the route, end to end ---------------------------------------------------------------------

@pytest.fixture
def catalog(conn):
    """The CATALOG above in the database, plus a SKU and a product no longer on sale, and
    users: staffer (staff), boss (admin), cust (a customer's)."""
    conn.execute("INSERT INTO Customers (customer_id, name) VALUES (1, 'First Pharmacy')")
    conn.execute("INSERT INTO Users (user_id, customer_id, username, password_hash, role) VALUES "
                 "(1, NULL, 'staffer', %(h)s, 'staff'), (2, NULL, 'boss', %(h)s, 'admin'), "
                 "(3, 1, 'cust', %(h)s, 'customer')", {"h": password_hash()})
    conn.execute("INSERT INTO Products (product_id, name, manufacturer, is_active) VALUES "
                 "(1, 'Paracetamol 500 mg tablets', 'Teva', true), (2, 'Paracetamol 1 g tablets', 'Teva', true), "
                 "(3, 'Paracetamol 500 mg tablets', 'Sandoz', true), "
                 "(4, 'Amoxicillin 500 mg capsules', 'Sandoz', true), "
                 "(5, 'Ibuprofen 100 mg/5 ml oral suspension', 'Zentiva', true), "
                 "(6, 'Cetirizine 10 mg film-coated tablets', 'Teva', true), "
                 "(7, 'Loratadine 10 mg tablets', 'Teva', false)")
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, sku_code, package_size, unit_type, base_price, "
                 "is_active) VALUES "
                 "(1, 1, 'PARA-10', '10', 'tablet', 1.00, true), (2, 1, 'PARA-3X10', '3x10', 'tablet', 2.50, true), "
                 "(3, 2, 'PARA1G-10', '10', 'tablet', 1.50, true), (4, 3, 'SPARA-28', '28', 'tablet', 2.00, true), "
                 "(5, 4, 'AMOX-21', '21', 'capsule', 3.00, true), "
                 "(6, 5, 'IBU-SUSP', '100 ml', 'bottle', 4.00, true), "
                 "(7, 6, 'CET-30', '30', 'tablet', 2.00, false), (8, 7, 'LORA-30', '30', 'tablet', 2.00, true)")
    conn.execute("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
                 "VALUES (1, 'OLD-1', '2030-01-31', 4, 0.50)")


def written(conn) -> tuple[int, int, int]:
    row = conn.execute("SELECT (SELECT count(*) FROM Inventory_Batches) AS batches, "
                       "(SELECT coalesce(sum(quantity_on_hand), 0) FROM Inventory_Batches) AS units, "
                       "(SELECT count(*) FROM Stock_Movements) AS movements").fetchone()
    return row["batches"], row["units"], row["movements"]


@pytest.fixture
async def staff(client, catalog):
    return await bearer(client, "staffer")


async def test_one_line_becomes_a_receipt_ready_to_post(client, conn, staff):
    before = written(conn)
    response = await client.post(PARSE, headers=staff, json={
        "text": "Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029"})
    assert response.status_code == 200, response.text
    [line] = response.json()["lines"]
    assert line["ok"] is True and line["errors"] == []
    assert (line["line_no"], line["quantity"], line["batch_no"], line["expiry_date"], line["cost_price"]) == \
        (1, 5, "P500-ZZ1", "2029-01-31", None)
    assert line["receipt"] == {"sku_id": 1, "batch_no": "P500-ZZ1", "quantity": 5, "expiry_date": "2029-01-31"}
    first = line["candidates"][0]
    assert first == {"sku_id": 1, "sku_code": "PARA-10", "product_name": "Paracetamol 500 mg tablets",
                     "manufacturer": "Teva", "package_size": "10", "unit_type": "tablet", "score": first["score"]}
    scores = [c["score"] for c in line["candidates"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 5 and 0 < scores[-1] <= scores[0] <= 1
    assert written(conn) == before


async def test_a_stated_cost_goes_into_the_receipt(client, staff):
    response = await client.post(PARSE, headers=staff, json={
        "text": "qty 12 Amoxicillin 500 mg caps batch AMX-77 exp 31/01/2029 at 3.20 each"})
    [line] = response.json()["lines"]
    assert line["receipt"] == {"sku_id": 5, "batch_no": "AMX-77", "quantity": 12, "expiry_date": "2029-01-31",
                               "cost_price": "3.20"}
    assert line["cost_price"] == "3.20"


async def test_a_proposed_receipt_is_accepted_by_the_receipt_route(client, conn, staff):
    [line] = (await client.post(PARSE, headers=staff, json={
        "text": "Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 exp January 2029 at 0.80 each"})).json()["lines"]
    assert line["notes"] == []
    received = await client.post("/api/admin/inventory/batches", headers=staff, json=line["receipt"])
    assert received.status_code == 201, received.text
    batch = conn.execute("SELECT sku_id, batch_no, expiry_date, quantity_on_hand, cost_price FROM Inventory_Batches "
                         "WHERE batch_no = 'P500-ZZ1'").fetchone()
    assert batch == {"sku_id": 1, "batch_no": "P500-ZZ1", "expiry_date": JAN_2029, "quantity_on_hand": 5,
                     "cost_price": Decimal("0.80")}


async def test_a_receipt_without_a_stated_cost_says_the_cost_is_still_needed(client, staff):
    [line] = (await client.post(PARSE, headers=staff, json={
        "text": "Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 exp January 2029"})).json()["lines"]
    assert "cost_price" not in line["receipt"]
    assert any("cost_price" in note for note in line["notes"])


async def test_several_lines_parse_on_when_one_is_bad(client, conn, admin_or_staff):
    before = written(conn)
    text = ("Add 5 units of Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029\n"
            "\n"
            "Paracetamol 500mg 10-strip batch P-2 exp someday\n"
            "   \n"
            "5 x IBU-SUSP lot S-1 exp 2029-06 £4.10\n"
            "3 x Warfarin 5mg lot W-1 exp 01/2029\n")
    response = await client.post(PARSE, headers=admin_or_staff, json={"text": text})
    assert response.status_code == 200, response.text
    lines = response.json()["lines"]
    assert [line["line_no"] for line in lines] == [1, 3, 5, 6]
    assert [line["ok"] for line in lines] == [True, False, True, False]
    bad = lines[1]
    assert {e["field"] for e in bad["errors"]} == {"quantity", "expiry_date"}
    assert bad["receipt"] is None and bad["candidates"][0]["sku_id"] == 1  # still shows what it matches
    assert lines[2]["receipt"] == {"sku_id": 6, "batch_no": "S-1", "quantity": 5, "expiry_date": "2029-06-30",
                                   "cost_price": "4.10"}
    assert lines[2]["candidates"][0]["score"] == 1.0
    assert [(e["field"], e["code"]) for e in lines[3]["errors"]] == [("sku", "no_matching_sku")]
    assert lines[3]["candidates"] == [] and lines[3]["receipt"] is None
    assert written(conn) == before


@pytest.fixture(params=["staffer", "boss"])
async def admin_or_staff(request, client, catalog):
    return await bearer(client, request.param)


async def test_skus_that_tie_give_candidates_but_no_receipt(client, staff):
    response = await client.post(PARSE, headers=staff, json={"text": "5 units Paracetamol 500mg lot L-1 exp 01/2029"})
    [line] = response.json()["lines"]
    assert line["ok"] is True and line["receipt"] is None
    assert {c["sku_id"] for c in line["candidates"][:3]} == {1, 2, 4}
    assert any("equally" in note for note in line["notes"])
    named = await client.post(PARSE, headers=staff, json={"text": "5 units Paracetamol 500mg Sandoz lot L-1 exp 01/2029"})
    assert named.json()["lines"][0]["receipt"]["sku_id"] == 4


async def test_skus_and_products_not_on_sale_are_never_candidates(client, staff):
    response = await client.post(PARSE, headers=staff, json={"text": "5 units Cetirizine 10mg lot C-1 exp 01/2029\n"
                                                                     "5 units LORA-30 Loratadine lot C-1 exp 01/2029"})
    for line in response.json()["lines"]:
        assert line["candidates"] == [] and line["receipt"] is None
        assert [e["code"] for e in line["errors"]] == ["no_matching_sku"]


async def test_a_line_naming_no_product_says_so(client, staff):
    response = await client.post(PARSE, headers=staff, json={"text": "5 units lot C-1 exp 01/2029"})
    [line] = response.json()["lines"]
    assert [(e["field"], e["code"]) for e in line["errors"]] == [("sku", "missing_product")]


async def test_anonymous_callers_get_401(client, catalog):
    response = await client.post(PARSE, json={"text": "5 units Paracetamol lot L exp 01/2029"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_customers_get_403(client, catalog):
    response = await client.post(PARSE, headers=await bearer(client, "cust"),
                                 json={"text": "5 units Paracetamol lot L exp 01/2029"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("body", "code"), [
    ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "validation_error"),
    ({"text": "5 units Paracetamol lot L exp 01/2029\n" * (MAX_LINES + 1)}, "entry_too_long"),
    ({"text": ""}, "validation_error"),
    ({"text": " \n\n \t\n"}, "entry_empty"),
    ({}, "validation_error"),
    ({"text": "5 units Paracetamol lot L exp 01/2029", "commit": True}, "validation_error"),
    ({"text": 5}, "validation_error"),
])
async def test_bad_or_oversized_input_is_422_and_writes_nothing(client, conn, staff, body, code):
    before = written(conn)
    response = await client.post(PARSE, headers=staff, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert written(conn) == before


async def test_the_largest_allowed_entry_is_answered_line_by_line(client, conn, staff):
    before = written(conn)
    text = "\n".join(f"{n} x Paracetamol 500mg 10-strip batch B-{n} exp 01/2029" for n in range(1, MAX_LINES + 1))
    assert len(text) <= MAX_TEXT_CHARS
    response = await client.post(PARSE, headers=staff, json={"text": text})
    assert response.status_code == 200, response.text
    lines = response.json()["lines"]
    assert len(lines) == MAX_LINES
    assert [line["receipt"]["quantity"] for line in lines] == list(range(1, MAX_LINES + 1))
    assert {line["receipt"]["sku_id"] for line in lines} == {1}
    assert written(conn) == before


async def test_text_that_is_not_valid_unicode_is_422(client, conn, staff):
    body = b'{"text": "5 x Paracetamol 500mg 10-strip lot B exp 01/2029 \\ud800"}'
    response = await client.post(PARSE, headers={**staff, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
