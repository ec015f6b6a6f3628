"""A model-based (hypothesis stateful) test of ordering: random sequences of receiving stock,
setting cart lines, checking out, direct orders, repeated checkouts with an Idempotency-Key,
cancellations, and pairs of those run concurrently, against the real ASGI app and database.

A small pure-Python model predicts every answer (status, error code and details, the FEFO
allocation of each order) and after every step the database is compared with the model:
each batch's stock, the ledger (quantity_on_hand = sum of its movements, movements of each
order), no negative stock, units received = units on hand + units sold (not cancelled) per
batch and in total, the orders with their allocations, and the carts.

Pairs of requests at once must answer, and leave the database, as the same two requests one
after the other would, in one order or the other.

Each hypothesis example runs on a freshly emptied database with the world of
tests/ordering_world.py (minimum shelf life 0 or 2 days), its own event loop, app (lifespan
included) and logins.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from psycopg import sql
from psycopg.rows import dict_row

from stockline import db
from stockline.config import Settings
from stockline.invariants import check_invariants
from stockline.kernel.expiry import sellable_after
from tests.conftest import serve
from tests.ordering_world import TODAY, bearer, build_world, receive

# user_id -> (username, customer_id), as build_world creates them
USERS = {1: ("cust_1", 1), 2: ("cust_1b", 1), 3: ("cust_2", 2)}
ON_SALE = {1: True, 2: True, 3: True, 4: False}  # SKU 4 exists but is not sold; SKU 99 does not exist
MISSING_SKU = 99
NO_SUCH_ORDER = 999_999

# ---------------------------------------------------------------------------------------------
# the model


@dataclass
class Batch:
    sku_id: int
    expiry: date
    quantity: int
    received: int


@dataclass
class ModelOrder:
    customer_id: int
    user_id: int
    items: tuple[tuple[int, int, int], ...]  # (sku_id, batch_id, quantity), sku then FEFO order
    status: str = "pending"


@dataclass(frozen=True)
class Outcome:
    """One answer of the API, reduced to what the model predicts."""

    status: int
    code: str | None = None  # error code
    details: Any = None  # error details, or the cart's lines
    order_id: int | None = None  # orders: negative ids are the model's placeholders for new orders
    order_status: str | None = None
    items: tuple[tuple[int, int, int], ...] = ()


@dataclass
class Model:
    batches: dict[int, Batch]
    after: date  # batches expiring after this day are sellable
    carts: dict[int, dict[int, int]] = field(default_factory=lambda: {uid: {} for uid in USERS})
    orders: dict[int, ModelOrder] = field(default_factory=dict)
    keys: dict[tuple[int, str], tuple[int, tuple]] = field(default_factory=dict)  # -> (order_id, request)
    next_placeholder: int = -1

    # --- stock

    def sellable(self, batch: Batch) -> bool:
        return ON_SALE.get(batch.sku_id, False) and batch.quantity > 0 and batch.expiry > self.after

    def fefo(self, sku_id: int) -> list[tuple[int, Batch]]:
        found = [(bid, b) for bid, b in self.batches.items() if b.sku_id == sku_id and self.sellable(b)]
        return sorted(found, key=lambda pair: (pair[1].expiry, pair[0]))

    def available(self, sku_id: int) -> int:
        return sum(b.quantity for _, b in self.fefo(sku_id))

    def allocate(self, lines: dict[int, int]) -> tuple[list[tuple[int, int, int]], list[dict[str, int]]]:
        items, shortages = [], []
        for sku_id, wanted in sorted(lines.items()):
            candidates = self.fefo(sku_id)
            available = sum(b.quantity for _, b in candidates)
            if available < wanted:
                shortages.append({"sku_id": sku_id, "requested": wanted, "available": available})
                continue
            remaining = wanted
            for batch_id, batch in candidates:
                if remaining == 0:
                    break
                taken = min(remaining, batch.quantity)
                items.append((sku_id, batch_id, taken))
                remaining -= taken
        return items, shortages

    # --- operations: each returns the answer the API must give, and changes the model

    def apply(self, action: tuple) -> Outcome:
        kind, user_id, *args = action
        return getattr(self, f"do_{kind}")(user_id, *args)

    def cart_view(self, user_id: int) -> Outcome:
        lines = []
        for sku_id, quantity in sorted(self.carts[user_id].items()):
            available = self.available(sku_id)
            problem = None if quantity <= available else f"only {available} available"
            lines.append((sku_id, quantity, available, problem))
        return Outcome(200, details=tuple(lines))

    def do_cart(self, user_id: int, sku_id: int, quantity: int) -> Outcome:
        if quantity == 0:
            self.carts[user_id].pop(sku_id, None)
            return self.cart_view(user_id)
        if not ON_SALE.get(sku_id, False):
            return Outcome(404, "not_found")
        available = self.available(sku_id)
        if quantity > available:
            return Outcome(409, "insufficient_stock",
                           {"lines": [{"sku_id": sku_id, "requested": quantity, "available": available}]})
        self.carts[user_id][sku_id] = quantity
        return self.cart_view(user_id)

    def _order_answer(self, status: int, order_id: int) -> Outcome:
        order = self.orders[order_id]
        return Outcome(status, order_id=order_id, order_status=order.status, items=order.items)

    def _place(self, user_id: int, lines: dict[int, int], key: str | None, request: tuple) -> Outcome:
        customer_id = USERS[user_id][1]
        items, shortages = self.allocate(lines)
        if shortages:  # all or nothing: every short line listed, nothing changes
            return Outcome(409, "insufficient_stock", {"lines": shortages})
        order_id = self.next_placeholder
        self.next_placeholder -= 1
        for _, batch_id, quantity in items:
            self.batches[batch_id].quantity -= quantity
        self.orders[order_id] = ModelOrder(customer_id, user_id, tuple(items))
        if key is not None:
            self.keys[(customer_id, key)] = (order_id, request)
        return self._order_answer(201, order_id)

    def do_checkout(self, user_id: int, key: str | None) -> Outcome:
        customer_id = USERS[user_id][1]
        lines = dict(self.carts[user_id])
        request = ("checkout", customer_id, tuple(sorted(lines.items())))
        if key is not None and (customer_id, key) in self.keys:
            order_id, first_request = self.keys[(customer_id, key)]
            # A retry: the same cart again, or the cart the first checkout emptied. Keys are
            # per customer, so another user of the same customer replays it too.
            # NOTE: an empty cart replays only a key first used by a *checkout*: a key first
            # used for a direct order (POST /api/orders) is "another request" -> 409. See the
            # report: the app answers 200 with the direct order here.
            if first_request == request or (not lines and first_request[0] == "checkout"):
                return self._order_answer(200, order_id)
            return Outcome(409, "idempotency_key_reused", {"order_id": order_id})
        if not lines:
            return Outcome(422, "cart_empty")
        answer = self._place(user_id, lines, key, request)
        if answer.status == 201:
            self.carts[user_id].clear()
        return answer

    def do_order(self, user_id: int, sku_id: int, quantity: int, key: str | None) -> Outcome:
        customer_id = USERS[user_id][1]
        request = ("order", customer_id, ((sku_id, quantity),))
        if key is not None and (customer_id, key) in self.keys:
            order_id, first_request = self.keys[(customer_id, key)]
            if first_request == request:
                return self._order_answer(200, order_id)
            return Outcome(409, "idempotency_key_reused", {"order_id": order_id})
        if sku_id not in ON_SALE:
            return Outcome(404, "not_found", {"sku_ids": [sku_id]})
        return self._place(user_id, {sku_id: quantity}, key, request)  # not on sale: 0 available

    def do_cancel(self, user_id: int, order_id: int) -> Outcome:
        order = self.orders.get(order_id)
        if order is None or order.customer_id != USERS[user_id][1]:
            return Outcome(404, "not_found")
        if order.status != "pending":
            return Outcome(409, "invalid_transition", {"from": order.status, "to": "cancelled", "allowed": []})
        order.status = "cancelled"
        for _, batch_id, quantity in order.items:  # every unit back to the batch it came from
            self.batches[batch_id].quantity += quantity
        return self._order_answer(200, order_id)

    def do_read(self, user_id: int, order_id: int) -> Outcome:
        order = self.orders.get(order_id)
        if order is None or order.customer_id != USERS[user_id][1]:
            return Outcome(404, "not_found")
        return self._order_answer(200, order_id)

    def do_list(self, user_id: int, status: str | None) -> Outcome:
        return Outcome(200, details=tuple(sorted(
            (oid, o.status, sum(q for _, _, q in o.items), len({sku for sku, _, _ in o.items}))
            for oid, o in self.orders.items()
            if o.customer_id == USERS[user_id][1] and status in (None, o.status))))

    # --- placeholders of new orders become the ids the database gave them

    def settle(self, expected: list[Outcome], actual: list[Outcome]) -> dict[int, int] | None:
        """The placeholder -> order id mapping under which the expected answers are the actual
        ones; None when they differ."""
        mapping: dict[int, int] = {}
        for exp, act in zip(expected, actual, strict=True):
            placed = exp.order_id is not None and exp.order_id < 0 and act.order_id is not None
            if placed and mapping.setdefault(exp.order_id, act.order_id) != act.order_id:
                return None
        if len(set(mapping.values())) != len(mapping) or set(mapping.values()) & set(self.orders):
            return None

        def resolved(outcome: Outcome) -> Outcome:
            details = outcome.details
            if isinstance(details, dict) and details.get("order_id", 0) < 0:
                details = {**details, "order_id": mapping.get(details["order_id"])}
            order_id = mapping.get(outcome.order_id, outcome.order_id)
            return replace(outcome, order_id=order_id, details=details)

        return mapping if [resolved(e) for e in expected] == actual else None

    def rename(self, mapping: dict[int, int]) -> None:
        for placeholder, order_id in mapping.items():
            self.orders[order_id] = self.orders.pop(placeholder)
        self.keys = {k: (mapping.get(oid, oid), request) for k, (oid, request) in self.keys.items()}
        assert all(oid > 0 for oid in self.orders), "a new order's answer did not name its id"

    # --- what the database must hold

    def received_total(self) -> int:
        return sum(b.received for b in self.batches.values())

    def sold(self) -> dict[int, int]:
        sold = {batch_id: 0 for batch_id in self.batches}
        for order in self.orders.values():
            if order.status != "cancelled":
                for _, batch_id, quantity in order.items:
                    sold[batch_id] += quantity
        return sold


# ---------------------------------------------------------------------------------------------
# the database side

# Emptying the tables between examples: DELETE, children first (db.TABLES lists parents before
# children), is many times faster than TRUNCATE (which makes new files) for a world this small.
# Ids are not reset and need not be: the model reads batch ids back and learns order ids from
# the answers.
EMPTY_SQL = sql.SQL("; ").join([*(sql.SQL("DELETE FROM {}").format(sql.Identifier(table))
                                  for table in reversed(db.TABLES)), sql.SQL(db.SCHEMA_ROWS_SQL)])

CONSERVATION_SQL = """
SELECT b.batch_id, b.quantity_on_hand AS on_hand,
       coalesce((SELECT sum(m.quantity_delta) FROM Stock_Movements AS m
                 WHERE m.batch_id = b.batch_id AND m.reason = 'receipt'), 0)::int AS received,
       coalesce((SELECT sum(oi.quantity_ordered) FROM Order_Items AS oi JOIN Orders AS o USING (order_id)
                 WHERE oi.batch_id = b.batch_id AND o.status <> 'cancelled'), 0)::int AS sold,
       coalesce((SELECT sum(m.quantity_delta) FROM Stock_Movements AS m
                 WHERE m.batch_id = b.batch_id), 0)::int AS ledger
FROM Inventory_Batches AS b
ORDER BY b.batch_id
"""


def answer_of(kind: str, response: httpx.Response, after: date) -> Outcome:
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        return Outcome(response.status_code, error["code"], error["details"])
    if kind == "cart":
        lines = tuple(sorted((line["sku_id"], line["quantity"], line["available"], line["problem"])
                             for line in body["items"]))
        assert body["ready_to_check_out"] == (bool(lines) and all(line[3] is None for line in lines)), body
        return Outcome(response.status_code, details=lines)
    if kind == "list":
        listed = tuple(sorted((o["order_id"], o["status"], o["units"], o["line_count"]) for o in body["items"]))
        assert body["total_items"] == len(listed), body  # one page holds them all
        return Outcome(response.status_code, details=listed)
    if response.status_code == 201:  # a new order: never a unit of a batch that is not sellable
        assert all(date.fromisoformat(item["expiry_date"]) > after for item in body["items"]), body
    items = tuple((item["sku_id"], item["batch_id"], item["quantity"]) for item in body["items"])
    assert body["total_units"] == sum(quantity for _, _, quantity in items), body
    for item in body["items"]:
        assert Decimal(item["line_total"]) == Decimal(item["sale_price"]) * item["quantity"], body
    assert Decimal(body["total_amount"]) == sum(Decimal(item["line_total"]) for item in body["items"]), body
    return Outcome(response.status_code, order_id=body["order_id"], order_status=body["status"], items=items)


# ---------------------------------------------------------------------------------------------
# the state machine

users = st.sampled_from(sorted(USERS))
skus = st.sampled_from([1, 2, 3, 1, 2, 3, 4, MISSING_SKU])  # mostly SKUs on sale
quantities = st.one_of(st.integers(1, 8), st.integers(0, 40))  # mostly what the world can give
keys = st.sampled_from([None, None, "key-a", "key-b", "key-c"])
order_refs = st.one_of(st.integers(0, 50), st.just(-1))  # an index into the orders, or no such order
checkouts = st.tuples(st.just("checkout"), users, keys)
direct_orders = st.tuples(st.just("order"), users, skus, quantities.filter(bool), keys)
cancels = st.tuples(st.just("cancel"), users, order_refs)
concurrent_actions = st.one_of(checkouts, direct_orders, cancels)


class OrderingMachine(RuleBasedStateMachine):
    """The app on a private event loop (the machine itself is synchronous), on a database
    emptied and given the ordering world anew for every example."""

    def __init__(self, app_settings: Settings, url: str) -> None:
        super().__init__()
        self.app_settings, self.url = app_settings, url
        self.loop: asyncio.AbstractEventLoop | None = None
        self.conn: psycopg.Connection | None = None
        self.stack = contextlib.AsyncExitStack()
        self.received_batches = 0

    @initialize(min_shelf_life_days=st.sampled_from([0, 0, 2]))
    def start(self, min_shelf_life_days: int) -> None:
        """Empty the database, build the world, start the app and log every user in."""
        app_settings = self.app_settings.with_overrides(min_shelf_life_days=min_shelf_life_days)
        self.conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
        self.loop = asyncio.new_event_loop()
        with self.conn.transaction():
            self.conn.execute(EMPTY_SQL)
            build_world(self.conn)
        self.client = self.run(self.stack.enter_async_context(serve(app_settings)))
        self.headers = {uid: self.run(bearer(self.client, name)) for uid, (name, _) in USERS.items()}
        rows = self.conn.execute(
            "SELECT b.batch_id, b.sku_id, b.expiry_date, b.quantity_on_hand, "
            "coalesce((SELECT sum(quantity_delta) FROM Stock_Movements AS m WHERE m.batch_id = b.batch_id "
            "AND m.reason = 'receipt'), 0)::int AS received FROM Inventory_Batches AS b").fetchall()
        self.after = sellable_after(app_settings)
        self.model = Model({r["batch_id"]: Batch(r["sku_id"], r["expiry_date"], r["quantity_on_hand"],
                                                 r["received"]) for r in rows}, self.after)

    def run(self, awaitable):
        assert self.loop is not None
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        try:
            if self.loop is not None:
                try:
                    self.run(self.stack.aclose())
                finally:
                    try:
                        self.run(self.loop.shutdown_asyncgens())
                        self.run(self.loop.shutdown_default_executor())
                    finally:
                        self.loop.close()
        finally:
            if self.conn is not None:
                self.conn.close()

    # --- talking to the app

    async def perform(self, action: tuple) -> Outcome:
        kind, user_id, *args = action
        headers = dict(self.headers[user_id])
        if kind == "cart":
            sku_id, quantity = args
            response = await self.client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity},
                                              headers=headers)
        elif kind == "checkout":
            (key,) = args
            if key is not None:
                headers["Idempotency-Key"] = key
            response = await self.client.post("/api/checkout", headers=headers)
        elif kind == "order":
            sku_id, quantity, key = args
            if key is not None:
                headers["Idempotency-Key"] = key
            response = await self.client.post("/api/orders", json={"sku_id": sku_id, "quantity": quantity},
                                              headers=headers)
        elif kind == "cancel":
            (order_id,) = args
            response = await self.client.post(f"/api/my-orders/{order_id}/cancel", headers=headers)
        elif kind == "read":
            (order_id,) = args
            response = await self.client.get(f"/api/my-orders/{order_id}", headers=headers)
        else:
            (status,) = args
            params = {"limit": 200} | ({"status": status} if status else {})
            response = await self.client.get("/api/my-orders", params=params, headers=headers)
        return answer_of(kind, response, self.after)

    def order_id_of(self, ref: int) -> int:
        ids = sorted(self.model.orders)
        return ids[ref % len(ids)] if ids and ref >= 0 else NO_SUCH_ORDER

    def step(self, action: tuple) -> Outcome:
        """One request, its answer compared with the model's."""
        expected = self.model.apply(action)
        actual = self.run(self.perform(action))
        event(f"{action[0]} -> {actual.status} {actual.code or ''}")
        mapping = self.model.settle([expected], [actual])
        assert mapping is not None, f"{action}: the model expected {expected}, the app answered {actual}"
        self.model.rename(mapping)
        return actual

    def concurrently(self, first: tuple, second: tuple) -> None:
        """Two requests at once: the answers and the database after them must be those of the
        two run one after the other, in one order or the other."""
        actions = [first, second]

        async def both() -> list[Outcome]:  # both finish before either's error is raised
            answers = await asyncio.gather(*(self.perform(a) for a in actions), return_exceptions=True)
            for answer in answers:
                if isinstance(answer, BaseException):
                    raise answer
            return list(answers)

        actual = self.run(both())
        tried = []
        for order in ((0, 1), (1, 0)):
            model = copy.deepcopy(self.model)
            expected = [Outcome(0), Outcome(0)]
            for i in order:
                expected[i] = model.apply(actions[i])
            mapping = model.settle(expected, actual)
            if mapping is not None:
                model.rename(mapping)
                self.model = model  # the database is compared with it by the invariant
                event(f"at once: {actions[0][0]} + {actions[1][0]} -> {actual[0].status} + {actual[1].status}")
                return
            tried.append(expected)
        # Fails (see the report): the same cart checked out twice at once places two orders;
        # two identical direct orders with one Idempotency-Key at once: the second is 409
        # insufficient_stock instead of the first order again when the stock is not enough
        # for both.
        raise AssertionError(f"{actions} at once answered {actual}, but one after the other they answer "
                             f"{tried[0]}, or the other way round {tried[1]}")

    # --- rules

    @rule(sku_id=st.sampled_from([1, 2, 3, 4]),
          days=st.sampled_from([-30, -1, 0, 1, 2, 2, 3, 5, 10, 60]),
          quantity=st.one_of(st.just(0), st.integers(1, 30)))
    def receive_batch(self, sku_id: int, days: int, quantity: int) -> None:
        """A new batch and its receipt, as receiving stock does (there is no route for it
        yet). Batches expiring within the minimum shelf life must never be allocated."""
        self.received_batches += 1
        batch_id = receive(self.conn, sku_id, f"M-{self.received_batches}", days, quantity)
        self.model.batches[batch_id] = Batch(sku_id, TODAY + timedelta(days=days), quantity, quantity)

    @rule(user_id=users, sku_id=skus, quantity=quantities)
    def set_cart_line(self, user_id: int, sku_id: int, quantity: int) -> None:
        self.step(("cart", user_id, sku_id, quantity))

    @rule(user_id=users, lines=st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 10)),
                                        min_size=1, max_size=3))
    def fill_cart(self, user_id: int, lines: list[tuple[int, int]]) -> None:
        """Several lines at once, so that checkouts have carts to order."""
        for sku_id, quantity in lines:
            self.step(("cart", user_id, sku_id, quantity))

    @rule(action=checkouts)
    def checkout(self, action: tuple) -> None:
        self.step(action)

    @rule(user_id=users, key=st.sampled_from(["key-a", "key-b", "key-c"]))
    def checkout_repeated(self, user_id: int, key: str) -> None:
        """A retry with the same Idempotency-Key: the same order (200), no second one."""
        first = self.step(("checkout", user_id, key))
        again = self.step(("checkout", user_id, key))
        if first.status in (200, 201):
            assert (again.status, again.order_id) == (200, first.order_id)

    @rule(action=direct_orders)
    def direct_order(self, action: tuple) -> None:
        self.step(action)

    @rule(ref=order_refs, pick=st.integers(0, 2), own=st.sampled_from([True, True, True, False]),
          read=st.booleans())
    def cancel_or_read(self, ref: int, pick: int, own: bool, read: bool) -> None:
        """Cancel an order (or read it), mostly as a user of the order's customer, else as
        anyone (another customer's order is 404 for them)."""
        order_id = self.order_id_of(ref)
        order = self.model.orders.get(order_id)
        if own and order is not None:
            candidates = [uid for uid, (_, customer_id) in USERS.items() if customer_id == order.customer_id]
        else:
            candidates = sorted(USERS)
        self.step(("read" if read else "cancel", candidates[pick % len(candidates)], order_id))

    @rule(user_id=users, status=st.sampled_from([None, "pending", "cancelled"]))
    def list_my_orders(self, user_id: int, status: str | None) -> None:
        self.step(("list", user_id, status))

    @rule(first=concurrent_actions, second=concurrent_actions)
    def two_at_once(self, first: tuple, second: tuple) -> None:
        self.concurrently(*(a if a[0] != "cancel" else (*a[:2], self.order_id_of(a[2])) for a in (first, second)))

    @rule(pair=st.sampled_from([(1, 2), (1, 3), (2, 3), (1, 1), (3, 3)]),
          lines=st.lists(st.tuples(st.integers(0, 1), st.sampled_from([1, 2, 3]), st.integers(1, 10)),
                         min_size=2, max_size=4),
          key=keys)
    def race_for_stock(self, pair: tuple[int, int], lines: list[tuple[int, int, int]], key: str | None) -> None:
        """Two users (or one user twice: a double click) fill their carts, then check out at the
        same time (with the same key, if any)."""
        for which, sku_id, quantity in lines:
            self.step(("cart", pair[which], sku_id, quantity))
        self.concurrently(("checkout", pair[0], key), ("checkout", pair[1], key))

    # --- the database agrees with the model after every step

    @invariant()
    def database_matches_model(self) -> None:
        model, conn = self.model, self.conn
        stock = {r["batch_id"]: (r["sku_id"], r["quantity_on_hand"]) for r in conn.execute(
            "SELECT batch_id, sku_id, quantity_on_hand FROM Inventory_Batches").fetchall()}
        assert stock == {bid: (b.sku_id, b.quantity) for bid, b in model.batches.items()}

        # the app's own checks: quantity_on_hand = sum of movements per batch, no negative stock
        broken = {r.name: r.offenders for r in check_invariants(conn) if not r.holds}
        assert broken == {}

        # units received = units on hand + units sold (orders not cancelled), per batch and in total
        sold = model.sold()
        rows = conn.execute(CONSERVATION_SQL).fetchall()
        for r in rows:
            assert r["on_hand"] >= 0, r
            assert r["ledger"] == r["on_hand"], r
            assert r["received"] == r["on_hand"] + r["sold"], r
            assert (r["received"], r["sold"]) == (model.batches[r["batch_id"]].received, sold[r["batch_id"]]), r
        assert sum(r["received"] for r in rows) == sum(r["on_hand"] + r["sold"] for r in rows) \
            == model.received_total()

        # the orders, their allocations and their ledger movements
        orders = {r["order_id"]: (r["customer_id"], r["user_id"], r["status"]) for r in conn.execute(
            "SELECT order_id, customer_id, user_id, status FROM Orders").fetchall()}
        assert orders == {oid: (o.customer_id, o.user_id, o.status) for oid, o in model.orders.items()}
        items = sorted((r["order_id"], r["sku_id"], r["batch_id"], r["quantity_ordered"]) for r in conn.execute(
            "SELECT order_id, sku_id, batch_id, quantity_ordered FROM Order_Items").fetchall())
        assert items == sorted((oid, *item) for oid, o in model.orders.items() for item in o.items)
        moves = sorted((r["order_id"], r["batch_id"], r["reason"], r["delta"]) for r in conn.execute(
            "SELECT order_id, batch_id, reason, sum(quantity_delta)::int AS delta FROM Stock_Movements "
            "WHERE order_id IS NOT NULL GROUP BY order_id, batch_id, reason").fetchall())
        expected_moves = [(oid, bid, "sale", -q) for oid, o in model.orders.items() for _, bid, q in o.items]
        expected_moves += [(oid, bid, "cancel", q) for oid, o in model.orders.items() if o.status == "cancelled"
                           for _, bid, q in o.items]
        assert moves == sorted(expected_moves)

        # the carts
        carts = sorted((r["user_id"], r["sku_id"], r["quantity"]) for r in conn.execute(
            "SELECT c.user_id, ci.sku_id, ci.quantity FROM Carts AS c JOIN Cart_Items AS ci USING (cart_id)"
        ).fetchall())
        assert carts == sorted((uid, sku, q) for uid, lines in model.carts.items() for sku, q in lines.items())


# A failing run is not shrunk unless STOCKLINE_MODEL_SHRINK=1: every shrinking attempt starts
# the app anew, so shrinking a run takes minutes (hypothesis gives up after five). Unshrunk, the
# failing steps are still printed in full, and the example database replays them next time.
SHRINK = os.environ.get("STOCKLINE_MODEL_SHRINK", "") == "1"


@pytest.mark.slow
def test_ordering_agrees_with_a_model(settings: Settings, clean_db: str) -> None:
    run_state_machine_as_test(
        lambda: OrderingMachine(settings, clean_db),
        settings=hypothesis_settings(
            max_examples=30, stateful_step_count=25, deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])],
            suppress_health_check=[HealthCheck.too_slow]))
