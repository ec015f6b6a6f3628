"""The pricing rule: explicit cases pin precedence, tiers, validity and rounding; a property
test proves the SQL form (stockline_price) and the Python form agree on random rule sets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stockline.pricing.rules import NextTier, PricingRule, net_unit_price, price_line
from stockline.pricing.service import Q as PRICING_SQL

DAY = date(2026, 6, 15)
D = Decimal


def rule(rule_id, sku_id=None, customer_id=None, min_quantity=1, discount="5", valid_from=None,
         valid_to=None) -> PricingRule:
    return PricingRule(rule_id, sku_id, customer_id, min_quantity, D(discount), valid_from, valid_to)


def price(rules, quantity=1, customer_id=7, sku_id=3, base="10.00", on=DAY):
    return price_line(customer_id=customer_id, sku_id=sku_id, base_price=D(base), quantity=quantity,
                      on=on, rules=rules)


def test_no_rule_means_base_price():
    result = price([], quantity=4)
    assert (result.discount_percentage, result.unit_price, result.line_total, result.rule_id) == (
        D("0"), D("10.00"), D("40.00"), None)


def test_the_best_discount_wins_and_discounts_never_stack():
    result = price([rule(1, discount="3"), rule(2, sku_id=3, discount="8"),
                    rule(3, customer_id=7, discount="5")])
    assert (result.discount_percentage, result.rule_id, result.unit_price) == (D("8"), 2, D("9.20"))


def test_ties_go_to_the_most_specific_rule_then_the_lowest_id():
    tied = [rule(1, discount="5"), rule(2, customer_id=7, discount="5"), rule(3, sku_id=3, discount="5"),
            rule(4, sku_id=3, customer_id=7, discount="5"), rule(5, sku_id=3, customer_id=7, discount="5")]
    assert price(tied).rule_id == 4
    assert price(tied[:3]).rule_id == 3
    assert price(tied[:2]).rule_id == 2


def test_rules_for_other_skus_or_customers_do_not_apply():
    others = [rule(1, sku_id=4, discount="50"), rule(2, customer_id=8, discount="50")]
    assert price(others).rule_id is None
    assert price([rule(1, customer_id=7, discount="10")], customer_id=None).rule_id is None  # anonymous


def test_tiers_are_all_units_and_name_the_next_tier():
    tiers = [rule(1, sku_id=3, min_quantity=10, discount="5"),
             rule(2, sku_id=3, min_quantity=50, discount="10")]
    below = price(tiers, quantity=9)
    assert below.discount_percentage == 0 and below.next_tier == NextTier(10, D("5"))
    first = price(tiers, quantity=10)
    assert (first.unit_price, first.line_total) == (D("9.50"), D("95.00"))
    assert first.next_tier == NextTier(50, D("10"))
    top = price(tiers, quantity=50)
    assert top.line_total == D("450.00") and top.next_tier is None


def test_validity_windows_are_inclusive():
    window = [rule(1, discount="20", valid_from=DAY, valid_to=DAY + timedelta(days=9))]
    assert price(window, on=DAY).rule_id == 1
    assert price(window, on=DAY + timedelta(days=9)).rule_id == 1
    assert price(window, on=DAY - timedelta(days=1)).rule_id is None
    assert price(window, on=DAY + timedelta(days=10)).rule_id is None


@pytest.mark.parametrize(("base", "discount", "unit"), [
    ("0.99", "50", "0.50"),     # 0.495 rounds half up
    ("10.05", "50", "5.03"),    # 5.025
    ("19.99", "12.5", "17.49"),  # 17.49125
    ("0.01", "50", "0.01"),     # 0.005
    ("123.45", "100", "0.00"),
    ("123.45", "0", "123.45"),
])
def test_net_price_rounds_half_up_to_the_cent(base, discount, unit):
    assert net_unit_price(D(base), D(discount)) == D(unit)


# --- the SQL form agrees with the Python form --------------------------------------------

@pytest.fixture
def priced_world(conn):
    """Two customers and two SKUs the random rules may name."""
    conn.execute("INSERT INTO Customers (customer_id, name) VALUES (1, 'A'), (2, 'B')")
    conn.execute("INSERT INTO Products (product_id, name) VALUES (1, 'P')")
    conn.execute("INSERT INTO Product_SKUs (sku_id, product_id, base_price) VALUES (1, 1, 1), (2, 1, 1)")
    return conn


money = st.decimals(min_value=D("0.00"), max_value=D("999.99"), places=2)
# mostly a few shared values, so rules tie and the tie-breaks are exercised
few_discounts = st.sampled_from([D("0"), D("5"), D("12.5"), D("100")])
discounts = st.one_of(few_discounts, few_discounts, few_discounts,
                      st.decimals(min_value=D("0"), max_value=D("100"), places=2))
days = st.integers(min_value=-5, max_value=5).map(lambda n: DAY + timedelta(days=n))
random_rule = st.tuples(st.sampled_from([None, 1, 2]), st.sampled_from([None, 1, 2]),
                        st.one_of(st.just(1), st.integers(min_value=1, max_value=25)), discounts,
                        st.one_of(st.none(), st.none(), days), st.one_of(st.none(), st.none(), days))


@hypothesis_settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(rules=[(1, None, 1, D("5"), None, None), (None, 1, 1, D("5"), None, None)], quantity=1,
         customer_id=1, base_price=D("1.00"), on=DAY)  # a SKU rule and a customer rule tie
@given(rules=st.lists(random_rule, max_size=8), quantity=st.integers(min_value=1, max_value=30),
       customer_id=st.sampled_from([None, 1, 2]), base_price=money, on=days)
def test_sql_and_python_forms_agree(priced_world, rules, quantity, customer_id, base_price, on):
    conn = priced_world
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE Product_SKUs SET base_price = %s", (base_price,))
        python_rules = []
        for sku_id, rule_customer, min_quantity, discount, start, end in rules:
            if start and end and start > end:
                start, end = end, start
            rule_id = conn.execute(
                "INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage, "
                "valid_from, valid_to) VALUES (%s, %s, %s, %s, %s, %s) RETURNING rule_id",
                (sku_id, rule_customer, min_quantity, discount, start, end)).fetchone()["rule_id"]
            python_rules.append(
                PricingRule(rule_id, sku_id, rule_customer, min_quantity, discount, start, end))
        # the query cart and checkout price with (the catalog inlines the same function)
        rows = conn.execute(PRICING_SQL["price_lines"].sql, {"customer_id": customer_id, "on": on,
                                                              "sku_ids": [1, 2], "quantities": [quantity] * 2}).fetchall()
        for row in rows:
            expected = price_line(customer_id=customer_id, sku_id=row["sku_id"], base_price=base_price,
                                  quantity=quantity, on=on, rules=python_rules)
            next_tier = (NextTier(row["next_tier_min_quantity"], row["next_tier_discount"])
                         if row["next_tier_min_quantity"] is not None else None)
            assert (row["discount_percentage"], row["unit_price"], row["line_total"], row["rule_id"],
                    next_tier) == (expected.discount_percentage, expected.unit_price, expected.line_total,
                                   expected.rule_id, expected.next_tier)
