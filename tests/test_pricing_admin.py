"""Pricing rules in the back office and the price preview, through the real ASGI app: CRUD,
validation, role checks, the one-rule-per-key-and-window check (also under concurrency), the
preview checked against stockline.pricing.rules.price_line, and the catalog showing a changed
rule at once."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from stockline.kernel.expiry import business_day
from stockline.kernel.money import money
from stockline.pricing.admin.service import Q as ADMIN_Q
from stockline.pricing.rules import PricingRule, net_unit_price, price_line
from tests.ordering_world import bearer
from tests.races import wait_until_blocked

RULES = "/api/admin/pricing/rules"
PREVIEW = "/api/admin/pricing/preview"
TODAY = business_day()

# The world's rules (tests/ordering_world.py): 1 = every SKU, every customer, from 10 units, 5 %;
# 2 = SKU 1 for customer 1, from 1 unit, 20 %. SKU base prices: 10.00, 30.00, 2.50, 4.00 (4 not
# on sale). New rules are numbered from 3.


@pytest.fixture
async def admin(client, world):
    return await bearer(client, "boss")


def all_rules(conn) -> list[dict]:
    return conn.execute("SELECT * FROM Pricing_Rules ORDER BY rule_id").fetchall()


def as_rules(rows: list[dict]) -> list[PricingRule]:
    return [PricingRule(rule_id=r["rule_id"], sku_id=r["sku_id"], customer_id=r["customer_id"],
                        min_quantity=r["min_quantity"], discount_percentage=r["discount_percentage"],
                        valid_from=r["valid_from"], valid_to=r["valid_to"]) for r in rows]


async def create(client, headers, **rule) -> dict:
    response = await client.post(RULES, json=rule, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def catalog_price(client, headers, sku_id: int, quantity: int = 1) -> str:
    page = (await client.get("/api/products", params={"quantity": quantity, "limit": 50}, headers=headers)).json()
    return next(item["effective_price"] for item in page["items"] if item["sku_id"] == sku_id)


# --- role checks ---------------------------------------------------------------------------

async def test_rule_routes_are_for_admins_and_the_preview_for_staff(client, world, conn):
    callers = {"anonymous": {}, "customer": await bearer(client, "cust_1"), "staff": await bearer(client, "staffer"),
               "admin": await bearer(client, "boss")}
    routes = [("GET", RULES, None), ("POST", RULES, {"min_quantity": 3, "discount_percentage": 1}),
              ("GET", f"{RULES}/1", None), ("PATCH", f"{RULES}/1", {"discount_percentage": 9}),
              ("DELETE", f"{RULES}/1", None)]
    for method, path, body in routes:
        for who, expected in (("anonymous", 401), ("customer", 403), ("staff", 403)):
            response = await client.request(method, path, json=body, headers=callers[who])
            assert response.status_code == expected, (method, path, who, response.text)
    assert len(all_rules(conn)) == 2
    assert conn.execute("SELECT discount_percentage FROM Pricing_Rules WHERE rule_id = 1").fetchone() == \
        {"discount_percentage": Decimal("5.00")}
    params = {"sku_id": 1, "customer_id": 1, "quantity": 3}
    for who, expected in (("anonymous", 401), ("customer", 403), ("staff", 200), ("admin", 200)):
        response = await client.get(PREVIEW, params=params, headers=callers[who])
        assert response.status_code == expected, (who, response.text)


# --- reading -------------------------------------------------------------------------------

async def test_rules_list_paginates_and_filters(client, admin):
    soon = TODAY + timedelta(days=30)
    await create(client, admin, sku_id=3, min_quantity=5, discount_percentage="7.5",
                 valid_from=soon.isoformat(), valid_to=(soon + timedelta(days=10)).isoformat())
    await create(client, admin, customer_id=2, discount_percentage=3)

    async def ids(**params) -> list[int]:
        response = await client.get(RULES, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [rule["rule_id"] for rule in response.json()["items"]]

    assert await ids() == [1, 2, 3, 4]
    assert await ids(sku_id=1) == [2]
    assert await ids(customer_id=2) == [4]
    assert await ids(active_on=TODAY.isoformat()) == [1, 2, 4]
    assert await ids(active_on=soon.isoformat(), sku_id=3) == [3]
    assert await ids(sku_id=4) == []
    page = (await client.get(RULES, params={"limit": 3, "page": 2}, headers=admin)).json()
    assert [r["rule_id"] for r in page["items"]] == [4]
    assert (page["total_items"], page["total_pages"], page["current_page"], page["page_size"]) == (4, 2, 2, 3)
    assert (page["sku_id"], page["customer_id"], page["active_on"]) == (None, None, None)


@pytest.mark.parametrize("params", [{"sku_id": 0}, {"customer_id": "x"}, {"active_on": "tomorrow"}, {"limit": 0}])
async def test_bad_rule_list_filters_are_422(client, admin, params):
    assert (await client.get(RULES, params=params, headers=admin)).status_code == 422


async def test_one_rule_is_read_with_names_and_scope(client, admin):
    rule = (await client.get(f"{RULES}/2", headers=admin)).json()
    assert rule == rule | {"rule_id": 2, "sku_id": 1, "sku_code": "AMOX-1", "product_name": "Amoxicillin 500 mg capsules",
                           "customer_id": 1, "customer_name": "First Pharmacy", "min_quantity": 1,
                           "discount_percentage": "20.00", "valid_from": None, "valid_to": None,
                           "scope": "sku+customer"}
    assert (await client.get(f"{RULES}/1", headers=admin)).json()["scope"] == "global"
    missing = await client.get(f"{RULES}/99", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No pricing rule 99"


# --- creating and validation ---------------------------------------------------------------

async def test_an_admin_creates_a_rule(client, admin, conn):
    rule = await create(client, admin, sku_id=2, customer_id=2, min_quantity=20, discount_percentage="12.5",
                        valid_from="2026-01-01", valid_to="2099-12-31")
    assert rule == rule | {"rule_id": 3, "sku_id": 2, "customer_id": 2, "min_quantity": 20,
                           "discount_percentage": "12.50", "valid_from": "2026-01-01", "valid_to": "2099-12-31",
                           "scope": "sku+customer", "customer_name": "Second Pharmacy", "sku_code": "AMOX-2"}
    stored = conn.execute("SELECT * FROM Pricing_Rules WHERE rule_id = 3").fetchone()
    assert stored["discount_percentage"] == Decimal("12.50") and stored["valid_to"] == date(2099, 12, 31)
    defaults = await create(client, admin, discount_percentage=0, customer_id=1)
    assert (defaults["min_quantity"], defaults["sku_id"], defaults["scope"]) == (1, None, "customer")


@pytest.mark.parametrize(("body", "code"), [
    ({"discount_percentage": 101}, "validation_error"),
    ({"discount_percentage": -1}, "validation_error"),
    ({"discount_percentage": "12.345"}, "validation_error"),
    ({"discount_percentage": "lots"}, "validation_error"),
    ({"discount_percentage": None}, "validation_error"),
    ({}, "validation_error"),
    ({"discount_percentage": 5, "min_quantity": 0}, "validation_error"),
    ({"discount_percentage": 5, "min_quantity": 2.5}, "validation_error"),
    ({"discount_percentage": 5, "sku_id": 0}, "validation_error"),
    ({"discount_percentage": 5, "is_active": True}, "validation_error"),
    ({"discount_percentage": 5, "valid_from": "2030-02-01", "valid_to": "2030-01-31"}, "invalid_validity_window"),
    ({"discount_percentage": 5, "valid_from": "31/01/2030"}, "validation_error"),
    ({"discount_percentage": 5, "sku_id": 99}, "unknown_sku"),
    ({"discount_percentage": 5, "sku_id": 1, "customer_id": 99}, "unknown_customer"),
])
async def test_invalid_rules_are_422_with_a_clear_code_and_nothing_is_added(client, admin, conn, body, code):
    before = all_rules(conn)
    response = await client.post(RULES, json={"min_quantity": 3} | body, headers=admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if code == "unknown_sku":
        assert error["message"] == "SKU 99 does not exist" and error["details"] == {"sku_id": 99}
    assert all_rules(conn) == before


async def test_a_second_rule_for_the_same_key_and_window_is_409_naming_the_first(client, admin, conn):
    # NULLs compare equal: another "every SKU, every customer, from 10 units" clashes with rule 1
    clash = await client.post(RULES, json={"min_quantity": 10, "discount_percentage": 7}, headers=admin)
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "duplicate_rule" and error["details"] == {"rule_id": 1}
    assert "Rule 1 " in error["message"] and "every SKU, every customer, from 10 units" in error["message"]
    clash = await client.post(RULES, json={"sku_id": 1, "customer_id": 1, "discount_percentage": 15}, headers=admin)
    assert clash.status_code == 409 and clash.json()["error"]["details"] == {"rule_id": 2}
    # another tier of the same SKU and customer is a different key
    await create(client, admin, sku_id=1, customer_id=1, min_quantity=2, discount_percentage=21)
    assert len(all_rules(conn)) == 3


async def test_windows_of_one_key_may_follow_each_other_but_not_overlap(client, admin):
    key = {"sku_id": 3, "min_quantity": 1, "discount_percentage": 10}
    first = await create(client, admin, **key, valid_from="2030-01-01", valid_to="2030-12-31")
    await create(client, admin, **key, valid_from="2031-01-01", valid_to="2031-06-30")
    later = await create(client, admin, **key, valid_from="2032-01-01")  # open-ended
    for window, clashing in ((("2030-12-31", "2031-01-01"), first), (("2029-01-01", "2030-01-01"), first),
                             ((None, "2030-03-01"), first), (("2031-07-01", None), later),
                             (("2040-01-01", "2040-01-01"), later)):
        body = key | {"valid_from": window[0], "valid_to": window[1]}
        response = await client.post(RULES, json=body, headers=admin)
        assert response.status_code == 409, (window, response.text)
        assert response.json()["error"]["details"] == {"rule_id": clashing["rule_id"]}
    await create(client, admin, **key, valid_from="2031-07-01", valid_to="2031-12-31")  # the gap left


async def test_identical_rules_created_at_once_leave_one(client, admin, conn):
    body = {"sku_id": 2, "customer_id": 1, "min_quantity": 5, "discount_percentage": 9}
    responses = await asyncio.gather(*(client.post(RULES, json=body, headers=admin) for _ in range(6)))
    created = [r.json() for r in responses if r.status_code == 201]
    assert len(created) == 1 and sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert all(r.json()["error"]["details"] == {"rule_id": created[0]["rule_id"]}
               for r in responses if r.status_code == 409)
    assert len(all_rules(conn)) == 3


async def test_a_writer_of_the_same_key_waits_for_one_in_flight_and_then_sees_it(client, admin, clean_db, conn):
    """Deterministic form of the race: another transaction holds the key's lock and has
    inserted a rule it has not committed yet. The API's create must wait, then refuse."""
    key = {"sku_id": 3, "customer_id": 2, "min_quantity": 4}
    with psycopg.connect(clean_db, autocommit=True, row_factory=dict_row) as rival:
        with rival.transaction():
            rival.execute(ADMIN_Q["lock_rule_key"].sql, key)
            rival_id = rival.execute("INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, "
                                     "discount_percentage) VALUES (3, 2, 4, 8) RETURNING rule_id").fetchone()["rule_id"]
            attempt = asyncio.create_task(client.post(RULES, json=key | {"discount_percentage": 11}, headers=admin))
            await wait_until_blocked(clean_db, rival.info.backend_pid, attempt)
        response = await attempt
    assert response.status_code == 409 and response.json()["error"]["details"] == {"rule_id": rival_id}
    assert len(all_rules(conn)) == 3


# --- editing and deleting ------------------------------------------------------------------

async def test_patch_changes_only_the_fields_sent(client, admin, conn):
    changed = await client.patch(f"{RULES}/2", json={"discount_percentage": "25", "valid_to": "2099-01-01"},
                                 headers=admin)
    assert changed.status_code == 200, changed.text
    rule = changed.json()
    assert (rule["discount_percentage"], rule["valid_to"], rule["min_quantity"], rule["sku_id"]) == \
        ("25.00", "2099-01-01", 1, 1)
    widened = await client.patch(f"{RULES}/2", json={"customer_id": None}, headers=admin)
    assert (widened.json()["customer_id"], widened.json()["scope"]) == (None, "sku")
    same = await client.patch(f"{RULES}/2", json={}, headers=admin)
    assert same.status_code == 200 and same.json() == widened.json()


@pytest.mark.parametrize(("rule_id", "body", "status", "code"), [
    (2, {"discount_percentage": 100.5}, 422, "validation_error"),
    (2, {"discount_percentage": None}, 422, "validation_error"),
    (2, {"min_quantity": None}, 422, "validation_error"),
    (2, {"min_quantity": 0}, 422, "validation_error"),
    (2, {"valid_from": "2030-01-01", "valid_to": "2029-01-01"}, 422, "invalid_validity_window"),
    (2, {"sku_id": 99}, 422, "unknown_sku"),
    (2, {"customer_id": 99}, 422, "unknown_customer"),
    (2, {"rule_id": 7}, 422, "validation_error"),
    (2, {"sku_id": None, "customer_id": None, "min_quantity": 10}, 409, "duplicate_rule"),  # becomes rule 1
    (99, {"discount_percentage": 1}, 404, "not_found"),
])
async def test_bad_patches_are_refused_and_change_nothing(client, admin, conn, rule_id, body, status, code):
    before = all_rules(conn)
    response = await client.patch(f"{RULES}/{rule_id}", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    if status == 409:
        assert response.json()["error"]["details"] == {"rule_id": 1}
    assert all_rules(conn) == before


async def test_a_valid_from_after_the_stored_valid_to_is_checked_against_the_stored_one(client, admin):
    await client.patch(f"{RULES}/2", json={"valid_to": "2030-06-30"}, headers=admin)
    response = await client.patch(f"{RULES}/2", json={"valid_from": "2030-07-01"}, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_validity_window"


async def test_deleting_a_rule_keeps_the_prices_of_orders_it_priced(client, admin, conn, world):
    order_id = conn.execute("INSERT INTO Orders (customer_id, user_id, total_amount) VALUES (1, 1, 8) "
                            "RETURNING order_id").fetchone()["order_id"]
    conn.execute("INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, "
                 "discount_percentage, sale_price, pricing_rule_id) VALUES (%s, 1, %s, 1, 10, 20, 8, 2)",
                 (order_id, world["a_later"]))
    response = await client.delete(f"{RULES}/2", headers=admin)
    assert response.status_code == 204
    assert [r["rule_id"] for r in all_rules(conn)] == [1]
    item = conn.execute("SELECT sale_price, pricing_rule_id FROM Order_Items").fetchone()
    assert item == {"sale_price": Decimal("8.00"), "pricing_rule_id": None}
    assert (await client.delete(f"{RULES}/2", headers=admin)).status_code == 404
    assert (await client.delete(f"{RULES}/0", headers=admin)).status_code == 422


# --- the catalog follows at once -----------------------------------------------------------

async def test_the_catalog_shows_a_rule_change_at_once(client, admin):
    customer = await bearer(client, "cust_2")
    assert await catalog_price(client, customer, 3) == "2.50"  # now cached for this version
    rule = await create(client, admin, sku_id=3, customer_id=2, discount_percentage=25)
    assert await catalog_price(client, customer, 3) == "1.88"  # 1.875 rounds half-up
    await client.patch(f"{RULES}/{rule['rule_id']}", json={"discount_percentage": 40}, headers=admin)
    assert await catalog_price(client, customer, 3) == "1.50"
    await client.delete(f"{RULES}/{rule['rule_id']}", headers=admin)
    assert await catalog_price(client, customer, 3) == "2.50"


# --- preview -------------------------------------------------------------------------------

@pytest.fixture
async def contested(client, admin):
    """Rules that tie and lose in every way the precedence knows (ids 3 to 9)."""
    yesterday, tomorrow = (TODAY + timedelta(days=d) for d in (-1, 1))
    for rule in ({"sku_id": 2, "min_quantity": 10, "discount_percentage": 5},          # 3: ties rule 1, more specific
                 {"customer_id": 2, "min_quantity": 10, "discount_percentage": 5},     # 4: ties, customer scope
                 {"sku_id": 3, "min_quantity": 5, "discount_percentage": 5},           # 5: sku scope
                 {"sku_id": 3, "min_quantity": 8, "discount_percentage": 5},           # 6: same scope, higher id
                 {"sku_id": 1, "min_quantity": 50, "discount_percentage": 30},         # 7: a higher tier
                 {"sku_id": 1, "discount_percentage": 90, "valid_to": yesterday.isoformat()},   # 8: expired
                 {"sku_id": 1, "discount_percentage": 90, "valid_from": tomorrow.isoformat()}):  # 9: not yet
        await create(client, admin, **rule)


async def preview(client, headers, **params) -> dict:
    response = await client.get(PREVIEW, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_preview_agrees_with_price_line_everywhere(client, admin, conn, contested):
    rules = as_rules(all_rules(conn))
    bases = {r["sku_id"]: r["base_price"] for r in conn.execute("SELECT sku_id, base_price FROM Product_SKUs")}
    for customer_id in (None, 1, 2):
        for sku_id in (1, 2, 3, 4):
            for quantity in (1, 4, 5, 9, 10, 11, 49, 50, 1000):
                params = {"sku_id": sku_id, "quantity": quantity} | ({"customer_id": customer_id} if customer_id else {})
                shown = await preview(client, admin, **params)
                expected = price_line(customer_id=customer_id, sku_id=sku_id, base_price=bases[sku_id],
                                      quantity=quantity, on=TODAY, rules=rules)
                assert (shown["base_price"], shown["discount_percentage"], shown["unit_price"], shown["line_total"],
                        shown["applied_rule_id"]) == (
                    money(expected.base_price), money(expected.discount_percentage), money(expected.unit_price),
                    money(expected.line_total), expected.rule_id), params
                tier = expected.next_tier
                assert shown["next_tier"] == (tier and {
                    "min_quantity": tier.min_quantity, "discount_percentage": money(tier.discount_percentage),
                    "effective_price": money(net_unit_price(bases[sku_id], tier.discount_percentage))}), params
                matching = [r for r in rules if r.matches(customer_id, sku_id, TODAY)]
                assert [c["rule_id"] for c in shown["candidates"]] == [r.rule_id for r in matching], params
                assert {c["rule_id"]: c["applies"] for c in shown["candidates"]} == \
                    {r.rule_id: r.min_quantity <= quantity for r in matching}
                assert [c["rule_id"] for c in shown["candidates"] if c["won"]] == \
                    ([expected.rule_id] if expected.rule_id else [])


async def test_the_preview_names_why_the_winner_won(client, admin, contested):
    by_discount = await preview(client, admin, sku_id=1, customer_id=1, quantity=3)
    assert by_discount["applied_rule_id"] == 2 and by_discount["unit_price"] == "8.00"
    assert by_discount["explanation"].startswith("Rule 2 (sku+customer) wins: the largest discount that applies "
                                                 "(20.00 %)")
    assert by_discount["explanation"].endswith("From 50 units: 30.00 %, 7.00 a unit")
    reasons = {c["rule_id"]: c["reason"] for c in by_discount["candidates"]}
    assert reasons == {1: "needs at least 10 units; the line has 3",
                       2: "the largest discount that applies (20.00 %)",
                       7: "needs at least 50 units; the line has 3"}  # 8 expired and 9 not yet valid: not candidates

    by_specificity = await preview(client, admin, sku_id=2, customer_id=2, quantity=10)
    assert by_specificity["applied_rule_id"] == 3
    reasons = {c["rule_id"]: c["reason"] for c in by_specificity["candidates"]}
    assert reasons[3] == "ties at 5.00 % with rule(s) 1, 4; the most specific (sku) wins"
    assert reasons[1] == "same discount as rule 3 but less specific (global < sku)"
    assert reasons[4] == "same discount as rule 3 but less specific (customer < sku)"

    by_rule_id = await preview(client, admin, sku_id=3, quantity=10)
    assert by_rule_id["applied_rule_id"] == 5
    reasons = {c["rule_id"]: c["reason"] for c in by_rule_id["candidates"]}
    assert reasons[5] == "ties at 5.00 % and sku with rule(s) 6; the lowest rule_id wins"
    assert reasons[6] == "same discount and specificity as rule 5, which has the lower rule_id"

    by_tier = await preview(client, admin, sku_id=1, customer_id=1, quantity=50)
    assert by_tier["applied_rule_id"] == 7 and by_tier["line_total"] == "350.00" and by_tier["next_tier"] is None
    assert {c["rule_id"]: c["reason"] for c in by_tier["candidates"]}[2] == \
        "smaller discount than rule 7 (20.00 % < 30.00 %)"


async def test_the_preview_without_an_applicable_rule_shows_the_base_price(client, admin):
    below_tier = await preview(client, admin, sku_id=3, quantity=2)
    assert (below_tier["applied_rule_id"], below_tier["unit_price"], below_tier["line_total"]) == (None, "2.50", "5.00")
    assert below_tier["explanation"] == ("No rule applies at a quantity of 2; the base price stands. "
                                         "From 10 units: 5.00 %, 2.38 a unit")
    assert [(c["rule_id"], c["applies"], c["won"]) for c in below_tier["candidates"]] == [(1, False, False)]
    assert below_tier["customer_id"] is None and below_tier["customer_name"] is None


async def test_the_preview_prices_another_day_and_shows_skus_not_on_sale(client, admin):
    assert (await client.delete(f"{RULES}/1", headers=admin)).status_code == 204
    await create(client, admin, sku_id=4, discount_percentage=50, valid_from="2030-01-01", valid_to="2030-01-31")
    inside = await preview(client, admin, sku_id=4, quantity=1, on="2030-01-15")
    assert (inside["on_sale"], inside["priced_on"], inside["unit_price"], inside["applied_rule_id"]) == \
        (False, "2030-01-15", "2.00", 3)
    assert [c["rule_id"] for c in inside["candidates"]] == [3]
    outside = await preview(client, admin, sku_id=4, quantity=1, on="2030-02-01")
    assert (outside["unit_price"], outside["candidates"]) == ("4.00", [])
    assert outside["explanation"] == "No rule matches this customer, SKU and day; the base price stands"


async def test_the_preview_agrees_with_the_catalog(client, admin, contested):
    for customer_id, sku_id, quantity in ((1, 1, 3), (2, 2, 10), (None, 3, 10), (1, 1, 50), (2, 3, 1)):
        customer = {"customer_id": customer_id} if customer_id else {}
        shown = await preview(client, admin, sku_id=sku_id, quantity=quantity, **customer)
        listed = (await client.get(f"/api/products/{sku_id}", params={"quantity": quantity} | customer,
                                   headers=admin)).json()
        assert (listed["effective_price"], listed["applied_rule_id"], listed["line_total"]) == \
            (shown["unit_price"], shown["applied_rule_id"], shown["line_total"])


@pytest.mark.parametrize(("params", "status"), [
    ({"sku_id": 99, "quantity": 1}, 404), ({"sku_id": 1, "customer_id": 99, "quantity": 1}, 404),
    ({"quantity": 1}, 422), ({"sku_id": 1, "quantity": 0}, 422), ({"sku_id": 1, "on": "soon"}, 422),
    ({"sku_id": "one"}, 422),
])
async def test_bad_previews_are_refused(client, admin, params, status):
    response = await client.get(PREVIEW, params=params, headers=admin)
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json()["error"]["message"] in ("No SKU 99", "No customer 99")
