"""Locust scenario for Stockline: seeded customers, a few staff, realistic traffic.

    locust -f bench/locustfile.py --host http://127.0.0.1:5000 CustomerUser StaffUser

`stockline bench load` runs this file headless and sets everything below through the
environment; it can also be run by hand (web UI included) with the same variables.

Virtual users:
- CustomerUser: one seeded customer each (`cust_<id>`, ids from LOAD_CUSTOMER_IDS, handed out
  in turn), logged in once (argon2 makes a login cost 10-20 ms of server CPU), then loops
  through the weighted tasks below with a think time between them.
- StaffUser (LOAD_STAFF_USERS of them, fixed count): dashboard, inventory views, reports,
  the orders list, signed in as LOAD_STAFF_USER.
- ProbeUser (LOAD_PROBE_USERS, fixed count): GET /bench/bare now and then, the cheapest
  thing the app serves, so its latency under the very same load is the baseline for the
  others' (needs BENCH_ENDPOINTS=1 on the server).
- BareUser and BuyerUser: no think time; the capacity phases of `stockline bench load`
  (the bare endpoint flat out; cart + checkout flat out).

Business outcomes are not failures: a checkout or cart line refused with 409
insufficient_stock (contention for the same stock), or a cancellation refused with 409
because the order is no longer pending, are marked successful and reported under their own
name, e.g. "POST /api/checkout [409 insufficient_stock]". Anything else unexpected (every
5xx included) is a failure. Every response's status is also counted per request name and
written as JSON to LOAD_OUTCOMES_FILE when the run stops.

Settings (environment):
  LOAD_PASSWORD          customers' password (default Customer@123, the seed procedure's)
  LOAD_CUSTOMER_IDS      customer ids, e.g. "1-500" or "3,7,9-20" (default 1-500)
  LOAD_STAFF_USER, LOAD_STAFF_PASSWORD, LOAD_STAFF_USERS   staff login and how many (default 0)
  LOAD_PROBE_USERS       bare-endpoint probes during the mix (default 0)
  LOAD_THINK_TIME        seconds between a customer's tasks, "MIN-MAX" (default 1-5)
  LOAD_STAFF_THINK_TIME  the same for staff (default 2-8)
  LOAD_WEIGHTS           task weights, e.g. "catalog=50,product=15,cart=14,checkout=3,orders=8,cancel=1"
  LOAD_STAFF_WEIGHTS     e.g. "dashboard=3,low_stock_inventory=2,low_stock_report=1,expiring_report=1,
                         orders=2"
  LOAD_BUYER_SKUS        SKU ids the capacity buyers order from (default: SKUs seen in the catalog)
  LOAD_SIGN_INS          sign-ins to wait for: once that many users have tried to sign in,
                         the statistics are reset (the steady state starts; default 0: never)
  LOAD_STEADY_SECONDS    then run this long and stop (default 0: until Locust's --run-time)
  LOAD_OUTCOMES_FILE     where the status counts go (default: not written)
  LOAD_REQUEST_LOG       also write every request, as it ends, to this file: JSON Lines of
                         {"start", "end" (epoch seconds), "method", "name", "status" (0: no
                         answer), "read" (the X-Stockline-Read header, or null), "key" (the
                         Idempotency-Key sent, or null), "order_id" (a checkout's 2xx answer)}
                         (default: not written; `stockline cluster test` reads it)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import threading
import time
import uuid
from collections import Counter, deque
from pathlib import Path

import gevent
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

from stockline.seeding.vocabulary import DRUGS, MANUFACTURERS

CUSTOMER_TASKS = {"catalog": 50, "product": 15, "cart": 14, "checkout": 3, "orders": 8, "cancel": 1}
STAFF_TASKS = {"dashboard": 3, "low_stock_inventory": 2, "low_stock_report": 1, "expiring_report": 1,
               "orders": 2}
CATALOG_QUANTITIES = (1, 1, 1, 1, 2, 5, 10, 10, 25, 50, 100)  # units priced per line
CATALOG_SORTS = ("name", "price", "expiry", "availability")
SEARCH_SHARE = 0.35  # catalog requests with a search term
MANUFACTURER_SHARE = 0.05
SORT_SHARE = 0.10  # catalog requests sorted other than by product (most keep the default order)
DOUBLE_SUBMIT_SHARE = 0.05  # checkouts sent again with the same Idempotency-Key (a retry)


def _ids(spec: str) -> list[int]:
    """'1-500' or '3,7,9-20' -> the ids, in order."""
    found: list[int] = []
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        first, _, last = part.partition("-")
        found.extend(range(int(first), int(last or first) + 1))
    if not found:
        raise ValueError(f"no ids in {spec!r}")
    return found


def _seconds(spec: str) -> tuple[float, float]:
    low, _, high = spec.partition("-")
    return float(low), float(high or low)


def _weights(spec: str, defaults: dict[str, int]) -> dict[str, int]:
    weights = dict(defaults)
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        name, _, value = part.partition("=")
        if name.strip() not in weights:
            raise ValueError(f"unknown task {name.strip()!r}; known: {', '.join(weights)}")
        weights[name.strip()] = int(value)
    return weights


PASSWORD = os.environ.get("LOAD_PASSWORD", "Customer@123")
CUSTOMER_IDS = _ids(os.environ.get("LOAD_CUSTOMER_IDS", "1-500"))
STAFF_USER = os.environ.get("LOAD_STAFF_USER", "")
STAFF_PASSWORD = os.environ.get("LOAD_STAFF_PASSWORD", PASSWORD)
THINK = _seconds(os.environ.get("LOAD_THINK_TIME", "1-5"))
STAFF_THINK = _seconds(os.environ.get("LOAD_STAFF_THINK_TIME", "2-8"))
WEIGHTS = _weights(os.environ.get("LOAD_WEIGHTS", ""), CUSTOMER_TASKS)
STAFF_WEIGHTS = _weights(os.environ.get("LOAD_STAFF_WEIGHTS", ""), STAFF_TASKS)
BUYER_SKUS = _ids(os.environ["LOAD_BUYER_SKUS"]) if os.environ.get("LOAD_BUYER_SKUS") else []
OUTCOMES_FILE = os.environ.get("LOAD_OUTCOMES_FILE", "")
REQUEST_LOG = os.environ.get("LOAD_REQUEST_LOG", "")
SIGN_INS = int(os.environ.get("LOAD_SIGN_INS", "0"))
SIGN_IN_ATTEMPTS = 3
STEADY_SECONDS = float(os.environ.get("LOAD_STEADY_SECONDS", "0"))
SEARCH_TERMS = [drug.name.split("/")[0].split()[0][:n].lower() for drug in DRUGS for n in (4, 7)]

_next_customer = itertools.cycle(CUSTOMER_IDS)
_next_customer_lock = threading.Lock()
outcomes: Counter[tuple[str, int]] = Counter()
failures: Counter[str] = Counter()
progress: dict[str, float | int | None] = {"started": None, "sign_ins": 0, "all_signed_in_after_s": None,
                                           "steady_seconds": STEADY_SECONDS or None}


def take_customer() -> int:
    with _next_customer_lock:
        return next(_next_customer)


@events.request.add_listener
def _count_status(name: str, response=None, exception=None, **_kwargs) -> None:
    status = getattr(response, "status_code", None) or 0
    outcomes[(name, int(status))] += 1
    if exception is not None:
        failures[name] += 1


_request_log = open(REQUEST_LOG, "a", buffering=1) if REQUEST_LOG else None  # noqa: SIM115 - for the run


@events.request.add_listener
def _log_request(request_type: str, name: str, response=None, start_time: float | None = None,
                 **_kwargs) -> None:
    """One JSON line per request (LOAD_REQUEST_LOG): when, what, the status, where its reads
    ran, and for a checkout its Idempotency-Key and the order it answered with."""
    if _request_log is None:
        return
    status = int(getattr(response, "status_code", None) or 0)
    headers = getattr(response, "headers", None) or {}
    sent = getattr(getattr(response, "request", None), "headers", None) or {}
    key, order_id = sent.get("Idempotency-Key"), None
    if key is not None and 200 <= status < 300:
        with contextlib.suppress(Exception):  # an answer without a readable body: no order to name
            order_id = response.json().get("order_id")
    _request_log.write(json.dumps({
        "start": start_time, "end": time.time(), "method": request_type, "name": name, "status": status,
        "read": headers.get("X-Stockline-Read"), "key": key, "order_id": order_id}) + "\n")


@events.test_start.add_listener
def _started(**_kwargs) -> None:
    progress["started"] = time.monotonic()


def _tried_to_sign_in(environment) -> None:
    """The steady state starts once every user has tried to sign in (argon2 makes a storm of
    sign-ins the heaviest moment of a run): statistics reset, then LOAD_STEADY_SECONDS more."""
    progress["sign_ins"] += 1
    if progress["sign_ins"] != SIGN_INS:
        return
    environment.runner.stats.reset_all()
    progress["all_signed_in_after_s"] = round(time.monotonic() - (progress["started"] or time.monotonic()), 1)
    if STEADY_SECONDS > 0:
        gevent.spawn_later(STEADY_SECONDS, environment.runner.quit)


@events.test_stop.add_listener
def _write_outcomes(**_kwargs) -> None:
    """Statuses and failures per request name over the whole run (Locust's own stats are
    reset once every user is up)."""
    if not OUTCOMES_FILE:
        return
    statuses: dict[str, dict[str, int]] = {}
    for (name, status), count in sorted(outcomes.items()):
        statuses.setdefault(name, {})[str(status)] = count
    Path(OUTCOMES_FILE).write_text(json.dumps(
        {"statuses": statuses, "failures": dict(failures),
         "sign_ins": progress["sign_ins"], "all_signed_in_after_s": progress["all_signed_in_after_s"]},
        indent=2, sort_keys=True))


def _error_code(response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:  # no body, not JSON, not our error shape
        return ""


def _closed_while_idle(response) -> bool:
    """The server closed a kept-alive connection just as this request went out on it (the
    keep-alive race of HTTP/1.1): browsers send such a request again, and so do we."""
    return response.status_code == 0 and type(getattr(response, "error", None)).__name__ in (
        "HTTPConnectionClosed", "ConnectionResetError", "BrokenPipeError")


class SignedIn(FastHttpUser):
    """A user that signs in on start (up to SIGN_IN_ATTEMPTS times, waiting as a refusal's
    Retry-After asks) and again only if its token is refused."""

    abstract = True
    connection_timeout = 30.0
    network_timeout = 60.0
    username = ""
    password = ""

    def sign_in(self) -> bool:
        with self.client.post("/api/login", json={"username": self.username, "password": self.password},
                              name="POST /api/login", catch_response=True) as response:
            if response.status_code == 200:
                self.auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
                return True
            self.retry_after = float((response.headers or {}).get("Retry-After") or 2)
            response.failure(f"{response.status_code} {_error_code(response)}".strip())
            return False

    def on_start(self) -> None:
        self.auth: dict[str, str] = {}
        signed_in = False
        for attempt in range(1, SIGN_IN_ATTEMPTS + 1):
            signed_in = self.sign_in()
            if signed_in or attempt == SIGN_IN_ATTEMPTS:
                break
            gevent.sleep(min(self.retry_after, 10) * random.uniform(1, 2))
        _tried_to_sign_in(self.environment)
        if not signed_in:
            self.stop()

    def call(self, method: str, path: str, name: str, ok: tuple[int, ...] = (200,),
             normal: dict[tuple[int, str], str] | None = None, **kwargs):
        """One request; `ok` statuses succeed, (status, error code) pairs in `normal` succeed
        under a name of their own, everything else fails. Returns the response, or None.
        Every request here is safe to send twice (cart lines are set, not added; checkouts
        carry an Idempotency-Key), so one that met a connection closed while idle is."""
        headers = self.auth | kwargs.pop("headers", {})
        for attempt in (1, 2):
            with self.client.request(method, path, name=name, headers=headers, catch_response=True,
                                     **kwargs) as response:
                status = response.status_code
                if status in ok:
                    return response
                if attempt == 1 and _closed_while_idle(response):
                    response.request_meta["name"] = f"{name} [connection closed while idle, sent again]"
                    response.success()
                    continue
                code = _error_code(response)
                if normal and (status, code) in normal:
                    response.request_meta["name"] = f"{name} [{status} {normal[(status, code)]}]"
                    response.success()
                    return response
                if status == 401 and self.username:
                    response.request_meta["name"] = f"{name} [401, signing in again]"
                    response.failure(f"401 {code}".strip())
                    self.sign_in()
                    return None
                response.failure(f"{status} {code}".strip() if status else
                                 f"no response: {getattr(response, 'error', None)!r}")
                return None
        return None


class CustomerUser(SignedIn):
    """A pharmacy's or hospital's buyer: browses, prices quantities, fills a cart, orders,
    looks at its orders and now and then cancels one."""

    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.customer_id = take_customer()
        self.username, self.password = f"cust_{self.customer_id}", PASSWORD
        self.seen: deque[dict] = deque(maxlen=60)  # catalog items recently on screen
        self.cart: dict[int, int] = {}
        self.orders: deque[int] = deque(maxlen=20)
        self.pending: deque[int] = deque(maxlen=10)
        self.total_pages = 10
        super().on_start()

    # --- helpers ---

    def _catalog_params(self) -> dict[str, str]:
        params = {"limit": random.choice(("20", "20", "20", "50")),
                  "quantity": str(random.choice(CATALOG_QUANTITIES))}
        roll = random.random()
        if roll < SEARCH_SHARE:
            params["search"] = random.choice(SEARCH_TERMS)
            params["page"] = "1" if random.random() < 0.8 else "2"
        else:
            if roll < SEARCH_SHARE + MANUFACTURER_SHARE:
                params["manufacturer"] = random.choice(MANUFACTURERS)
            # most people stay on the first pages
            params["page"] = str(min(self.total_pages, 1 + int(random.expovariate(0.35))))
        if random.random() < SORT_SHARE:
            params["sort"] = random.choice(CATALOG_SORTS)
        return params

    def _browse(self) -> None:
        params = self._catalog_params()
        response = self.call("GET", "/api/products", "GET /api/products", params=params)
        if response is None:
            return
        page = response.json()
        if "search" not in params and "manufacturer" not in params:
            self.total_pages = max(1, min(page["total_pages"] or 1, 200))
        self.seen.extend(item for item in page["items"] if item["total_on_hand"] > 0)

    def _a_seen_sku(self) -> dict | None:
        if not self.seen:
            self._browse()
        return random.choice(self.seen) if self.seen else None

    # --- tasks ---

    @task(WEIGHTS["catalog"])
    def browse_catalog(self) -> None:
        self._browse()

    @task(WEIGHTS["product"])
    def product_detail(self) -> None:
        item = self._a_seen_sku()
        if item is not None:
            self.call("GET", f"/api/products/{item['sku_id']}", "GET /api/products/{sku_id}",
                      params={"quantity": str(random.choice(CATALOG_QUANTITIES))})

    @task(WEIGHTS["cart"])
    def edit_cart(self) -> None:
        roll = random.random()
        if self.cart and roll < 0.15:
            sku_id = random.choice(list(self.cart))
            removed = self.call("DELETE", f"/api/cart/items/{sku_id}", "DELETE /api/cart/items/{sku_id}")
            if removed is not None:
                self.cart.pop(sku_id, None)
            return
        if roll < 0.30:
            response = self.call("GET", "/api/cart", "GET /api/cart")
            if response is not None:
                self.cart = {line["sku_id"]: line["quantity"] for line in response.json()["items"]}
            return
        item = self._a_seen_sku()
        if item is None:
            return
        quantity = max(1, min(item["total_on_hand"] // 20, random.choice((1, 2, 3, 5, 10))))
        response = self.call("POST", "/api/cart", "POST /api/cart",
                             normal={(409, "insufficient_stock"): "insufficient_stock"},
                             json={"sku_id": item["sku_id"], "quantity": quantity})
        if response is not None and response.status_code == 200:
            self.cart[item["sku_id"]] = quantity

    @task(WEIGHTS["checkout"])
    def check_out(self) -> None:
        if not self.cart:
            self.edit_cart()
            if not self.cart:
                return
        key = {"Idempotency-Key": f"load-{uuid.uuid4().hex}"}
        normal = {(409, "insufficient_stock"): "insufficient_stock"}
        response = self.call("POST", "/api/checkout", "POST /api/checkout", ok=(201,), normal=normal,
                             headers=key)
        if response is None:
            return
        if response.status_code == 409:
            self.cart.clear()  # start afresh: the refused lines stay, so drop them all
            self.call("DELETE", "/api/cart", "DELETE /api/cart", ok=(200, 204))
            return
        order_id = response.json()["order_id"]
        self.cart.clear()
        self.orders.append(order_id)
        self.pending.append(order_id)
        if random.random() < DOUBLE_SUBMIT_SHARE:  # a retry after a lost answer: the same order
            self.retry_checkout(key, order_id)

    def retry_checkout(self, key: dict[str, str], order_id: int) -> None:
        """The same Idempotency-Key again must answer 200 with the first order."""
        with self.client.post("/api/checkout", name="POST /api/checkout [retry, same key]",
                              headers=self.auth | key, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {_error_code(response)}".strip())
            elif response.json()["order_id"] != order_id:
                response.failure(f"a retry placed order {response.json()['order_id']} beside {order_id}")

    @task(WEIGHTS["orders"])
    def my_orders(self) -> None:
        response = self.call("GET", "/api/my-orders", "GET /api/my-orders",
                             params={"page": "1", "limit": "20"})
        if response is None:
            return
        listed = response.json()["items"]
        if listed:
            order = random.choice(listed)
            self.call("GET", f"/api/my-orders/{order['order_id']}", "GET /api/my-orders/{order_id}")

    @task(WEIGHTS["cancel"])
    def cancel_order(self) -> None:
        if not self.pending:
            return
        order_id = self.pending.popleft()
        self.call("POST", f"/api/my-orders/{order_id}/cancel", "POST /api/my-orders/{order_id}/cancel",
                  normal={(409, "invalid_transition"): "no longer pending"})


class StaffUser(SignedIn):
    """Back-office staff watching the dashboard, stock and orders."""

    wait_time = between(*STAFF_THINK)
    fixed_count = int(os.environ.get("LOAD_STAFF_USERS", "0"))

    def on_start(self) -> None:
        self.username, self.password = STAFF_USER, STAFF_PASSWORD
        super().on_start()

    @task(STAFF_WEIGHTS["dashboard"])
    def dashboard(self) -> None:
        self.call("GET", "/api/admin/dashboard-stats", "GET /api/admin/dashboard-stats")

    @task(STAFF_WEIGHTS["low_stock_inventory"])
    def low_stock_inventory(self) -> None:
        self.call("GET", "/api/admin/inventory", "GET /api/admin/inventory?filter=low_stock",
                  params={"filter": "low_stock", "page": str(random.randint(1, 3))})

    @task(STAFF_WEIGHTS["low_stock_report"])
    def low_stock_report(self) -> None:
        self.call("GET", "/api/admin/reports/low-stock", "GET /api/admin/reports/low-stock")

    @task(STAFF_WEIGHTS["expiring_report"])
    def expiring_report(self) -> None:
        self.call("GET", "/api/admin/reports/expiring", "GET /api/admin/reports/expiring")

    @task(STAFF_WEIGHTS["orders"])
    def orders(self) -> None:
        self.call("GET", "/api/admin/orders", "GET /api/admin/orders",
                  params={"page": str(random.randint(1, 3))})


class ProbeUser(FastHttpUser):
    """The bare endpoint, sampled during the mix: its latency under the same load."""

    wait_time = between(0.5, 1.5)
    fixed_count = int(os.environ.get("LOAD_PROBE_USERS", "0"))

    @task
    def bare(self) -> None:
        self.client.get("/bench/bare", name="GET /bench/bare (baseline probe)")


class BareUser(FastHttpUser):
    """Capacity baseline: the bare endpoint, flat out."""

    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bench/bare", name="GET /bench/bare")


class BuyerUser(SignedIn):
    """Order capacity: a customer filling a 3-line cart and checking out, flat out."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.customer_id = take_customer()
        self.username, self.password = f"cust_{self.customer_id}", PASSWORD
        self.skus = BUYER_SKUS
        super().on_start()
        self.call("DELETE", "/api/cart", "DELETE /api/cart", ok=(200, 204))  # lines left by the mix
        if not self.skus:
            response = self.call("GET", "/api/products", "GET /api/products",
                                 params={"limit": "200", "in_stock": "true"})
            self.skus = [item["sku_id"] for item in response.json()["items"]] if response else []

    @task
    def order(self) -> None:
        normal = {(409, "insufficient_stock"): "insufficient_stock"}
        lines = 0
        for sku_id, quantity in zip(random.sample(self.skus, 3), (1, 2, 3), strict=True):
            response = self.call("POST", "/api/cart", "POST /api/cart", normal=normal,
                                 json={"sku_id": sku_id, "quantity": quantity})
            lines += response is not None and response.status_code == 200
        if not lines:
            return
        response = self.call("POST", "/api/checkout", "POST /api/checkout", ok=(201,), normal=normal,
                             headers={"Idempotency-Key": f"capacity-{uuid.uuid4().hex}"})
        if response is None or response.status_code != 201:  # refused lines stay: start afresh
            self.call("DELETE", "/api/cart", "DELETE /api/cart", ok=(200, 204))
