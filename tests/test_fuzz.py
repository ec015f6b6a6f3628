"""Fuzzing the API (issue 15, item 8). schemathesis reads the app's own OpenAPI document
(/openapi.json) and, for every operation, sends requests that fit it and requests that do not,
as four callers: anonymous, a customer's user, staff and an admin. Every answer must be below
500; every 4xx in the one error shape ({"error": {"code", "message", "details"}}); an anonymous
caller gets no 2xx/3xx outside the public operations, a customer's user none under /api/admin;
and schemathesis' conformance checks hold each answer to what the document says of its status
codes, content type, headers and body. Then two stateful runs chain calls along the links
between operations (those schemathesis infers, and the ones the document declares for a
placed order): an admin creates products, SKUs, customers and pricing rules, then reads,
changes and deletes them; a customer with two lines in the cart checks out, then reads and
cancels the order; schemathesis' use-after-free and resource-availability checks included.

Bounded and repeatable: Hypothesis is derandomized (the same cases on every run, no example
database) and nothing is shrunk (a failure is reported with its curl command instead). Each
operation gets PROBE cases of valid data first; if the caller was refused at the door every time
(401/403 for its token or its role, not for what it sent) PROBE cases of invalid data follow,
otherwise MAX_EXAMPLES of each. The module takes about 80 s on two cores.

Destructive operations: the callers are users of the fuzz's own (fuzz_customer, fuzz_staff,
fuzz_admin) with ids far above anything the fuzz draws or the world has, so no generated
request resets, demotes or deactivates them (the stateful runs, which take real ids from the
answers, leave the four user-changing operations out); every operation starts from the same
world (tests/ordering_world.py), re-seeded whenever an earlier request changed something; and
after every operation each caller's token must still work, or the run says which operation
broke it (after POST /api/logout, which revokes it on purpose, the callers sign in again).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from psycopg.rows import dict_row
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from stockline.app import create_app
from stockline.cache import TtlCache
from stockline.config import Settings
from stockline.errors import error_response, install_error_handlers
from tests.conftest import TEST_SECRET, _truncate_all
from tests.ordering_world import PASSWORD, build_world, password_hash

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 16  # per operation, per mode (valid and invalid data), per caller let in
PROBE = 4  # cases that show a caller is refused at the door (all DOOR refusals): no more are sent
# the refusals of a caller as such (no, a bad or a revoked token; the wrong role), not of its input
DOOR = {"unauthorized", "invalid_token", "token_expired", "token_revoked", "forbidden", "csrf_failed",
        "password_change_required"}
STATEFUL_EXAMPLES = 30  # scenarios per stateful run, each of up to STATEFUL_STEPS calls
STATEFUL_STEPS = 6
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# the fuzz's callers: ids no drawn path parameter hits (Hypothesis draws small numbers, the
# column's bounds and a few random ones out of two billion, the same ones every run), so only the
# stateful runs could name them, and they leave the user-changing operations out
CALLERS = {  # name -> (user_id, username, role, customer_id)
    "customer": (900_001, "fuzz_customer", "customer", 1),
    "staff": (900_002, "fuzz_staff", "staff", None),
    "admin": (900_003, "fuzz_admin", "admin", None),
}
# what an anonymous caller may be answered 2xx/3xx by
PUBLIC = {"GET /health", "GET /ready", "GET /metrics", "POST /api/login", "GET /api/products",
          "GET /api/products/{sku_id}"}
# revokes the token it is called with, on purpose: the callers sign in again after it
SIGNS_OUT = {"POST /api/logout"}
# the operations that change users, left out of the stateful run (see the module's docstring)
CHANGES_USERS = r"^/api/admin/users/\{user_id\}/(password|deactivate|reactivate|role)$"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]


# --- the checks of our own ---------------------------------------------------------------------

def one_error_shape(ctx, response, case) -> None:
    """Every 4xx and 5xx is JSON {"error": {"code": str, "message": str, "details": any}}."""
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), f"an error answered as {content_type!r}"
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"an error whose body is not JSON: {response.text[:200]!r}") from None
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the one error shape: {body!r}"[:300]
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}, \
        f"not the one error shape: {body!r}"[:300]
    assert isinstance(error["code"], str) and error["code"], f"no error code: {body!r}"[:300]
    assert isinstance(error["message"], str) and error["message"], f"no error message: {body!r}"[:300]


def kept_out(caller: str) -> Callable:
    """An anonymous caller gets no 2xx/3xx outside PUBLIC, a customer's user none under
    /api/admin."""

    def check(ctx, response, case) -> None:
        label = f"{case.method.upper()} {case.path}"
        if response.status_code >= 400:
            return
        if caller == "anonymous":
            assert label in PUBLIC, f"an anonymous caller was answered {response.status_code}"
        if caller == "customer":
            assert not case.path.startswith("/api/admin"), \
                f"a customer's user was answered {response.status_code}"

    check.__name__ = f"kept_out_{caller}"
    return check


# --- running it ----------------------------------------------------------------------------------

@dataclass
class Report:
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, what) -> example
    cases: Counter = field(default_factory=Counter)  # operation -> requests sent
    statuses: Counter = field(default_factory=Counter)  # status code -> answers
    succeeded: Counter = field(default_factory=Counter)  # operation -> 2xx answers

    def fail(self, operation: str, what: str, example: str) -> None:
        self.failures.setdefault((operation, what), example)

    def record(self, case, response, failures: list[Failure] | None = None,
               error: BaseException | None = None) -> None:
        label = case.operation.label
        self.cases[label] += 1
        if error is not None:
            self.fail(label, f"unhandled {type(error).__name__}", f"{case.as_curl_command()}\n    {error!r}"[:1500])
            return
        self.statuses[response.status_code] += 1
        if response.status_code < 300:
            self.succeeded[label] += 1
        for failure in failures or ():
            self.fail(label, failure.title, f"{case.as_curl_command()}\n    [{response.status_code}] "
                                            f"{response.text[:300]!r}\n    {failure.message[:500]}")

    def text(self) -> str:
        return "\n".join(f"{operation}: {what}\n    {example}"
                         for (operation, what), example in sorted(self.failures.items()))


def validate(case, response, checks, additional, report: Report, **kwargs: Any) -> None:
    try:
        case.validate_response(response, checks=checks, additional_checks=additional, **kwargs)
    except FailureGroup as group:
        report.record(case, response, list(group.exceptions))
    except Failure as failure:
        report.record(case, response, [failure])
    else:
        report.record(case, response)


def at_the_door(response) -> bool:
    """The caller was refused as such (DOOR), whatever it sent."""
    if response.status_code not in (401, 403):
        return False
    try:
        return response.json()["error"]["code"] in DOOR
    except (ValueError, KeyError, TypeError):
        return False


def fuzz_operation(operation, mode: GenerationMode, send: Callable, checks: list[Callable],
                   report: Report, max_examples: int = MAX_EXAMPLES) -> Counter:
    """At most `max_examples` cases of `operation` in `mode`, each sent and checked; every
    failure is recorded in `report` (the first example of each kind), none raised. Returns how
    many answers were refusals at the door (True) and how many were not (False)."""
    outcomes: Counter = Counter()

    @hypothesis.settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        try:
            response = send(case)
        except Exception as exc:  # an unhandled error in the app reaches the test client
            report.record(case, None, error=exc)
            outcomes[False] += 1
            return
        outcomes[at_the_door(response)] += 1
        validate(case, response, CHECKS, checks, report)

    try:
        run()
    except Unsatisfiable:  # nothing in it can be made invalid (no parameters, no body)
        if mode is not GenerationMode.NEGATIVE:
            raise
    return outcomes


def fuzz_as(operation, send: Callable, checks: list[Callable], report: Report) -> None:
    """`operation` with valid and with invalid data: PROBE cases of valid data first, and if
    all were refused at the door as many of invalid data; else MAX_EXAMPLES of each
    (Hypothesis being derandomized, the first cases repeat the probe's)."""
    probe = fuzz_operation(operation, GenerationMode.POSITIVE, send, checks, report, max_examples=PROBE)
    refused = not probe[False]
    if not refused:
        fuzz_operation(operation, GenerationMode.POSITIVE, send, checks, report)
    fuzz_operation(operation, GenerationMode.NEGATIVE, send, checks, report,
                   max_examples=PROBE if refused else MAX_EXAMPLES)


@dataclass
class Fuzz:
    """The app on the session database, its OpenAPI document loaded by schemathesis, a test
    client that keeps its lifespan, and a bearer header for each caller."""

    app: Any
    schema: Any
    client: Any
    url: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    dirty: bool = True

    def seed(self) -> None:
        """The world, the fuzz's callers, and the app's caches of users and figures emptied."""
        _truncate_all(self.url)
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            build_world(conn)
            for user_id, username, role, customer_id in CALLERS.values():
                conn.execute("INSERT INTO Users (user_id, customer_id, username, password_hash, role) "
                             "VALUES (%s, %s, %s, %s, %s)", (user_id, customer_id, username, password_hash(), role))
        context = self.app.state.context
        self.app.state.context = dataclasses.replace(
            context, user_cache=TtlCache(context.user_cache.ttl, context.user_cache.max_entries),
            dashboard_cache=TtlCache(context.dashboard_cache.ttl, context.dashboard_cache.max_entries))
        self.dirty = False

    def seed_if_changed(self) -> None:
        if self.dirty:
            self.seed()

    def sign_in(self) -> None:
        self.headers = {"anonymous": {}}
        for name, (_, username, _, _) in CALLERS.items():
            response = self.client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.headers[name] = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def send(self, caller: str) -> Callable:
        def send(case):
            response = case.call(session=self.client, headers=self.headers[caller])
            if case.method.upper() not in SAFE_METHODS and response.status_code < 400:
                self.dirty = True
            return response

        return send

    def broken_callers(self) -> list[str]:
        broken = []
        for name, (_, username, _, _) in CALLERS.items():
            response = self.client.get("/api/me", headers=self.headers[name])
            if response.status_code != 200 or response.json().get("username") != username:
                broken.append(name)
        return broken


@pytest.fixture(scope="module")
def fuzz(database_url: str) -> Iterator[Fuzz]:
    settings = Settings(env="test", database_url=database_url, secret_key=TEST_SECRET,
                        db_pool_min=1, db_pool_max=5)
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = asgi.get_client(app)
    with client:  # starts the app's lifespan (the pool, the caches), kept until the module ends
        fuzzing = Fuzz(app=app, schema=schema, client=client, url=database_url)
        fuzzing.seed()
        fuzzing.sign_in()
        yield fuzzing
    asgi.shutdown_lifespans()
    _truncate_all(database_url)


def operations(schema) -> list:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda operation: (operation.path, operation.method))


# --- the fuzz ----------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", ["anonymous", "customer", "staff", "admin"])
def test_every_operation_as_every_caller_answers_below_500_in_the_one_shape(fuzz, caller):
    report, started = Report(), time.monotonic()
    ops = operations(fuzz.schema)
    assert len(ops) > 50, "the OpenAPI document lost its operations"
    for operation in ops:
        fuzz.seed_if_changed()
        fuzz_as(operation, fuzz.send(caller), [one_error_shape, kept_out(caller)], report)
        broken = fuzz.broken_callers()
        for name in broken if operation.label not in SIGNS_OUT else ():
            report.fail(operation.label, f"the {name} caller's token stopped working", "")
        if broken:
            fuzz.seed()
            fuzz.sign_in()
    elapsed = time.monotonic() - started
    print(f"\n{caller}: {sum(report.cases.values())} requests over {len(report.cases)} operations "
          f"in {elapsed:.1f} s; answers {dict(sorted(report.statuses.items()))}")
    assert not report.failures, f"{len(report.failures)} kinds of failure as {caller}:\n{report.text()}"
    # not vacuous: every operation was called, and the callers got past authentication
    assert set(report.cases) == {operation.label for operation in ops}
    if caller != "anonymous":
        assert report.statuses[200] + report.statuses[201] > 100


# --- stateful: chains of calls along the links schemathesis infers -------------------------------

def stateful_run(fuzz: Fuzz, caller: str, schema, cart: dict[int, int]) -> Report:
    """Scenarios of calls as `caller`, each from the world with `cart` (sku_id: quantity) in the
    caller's cart."""
    report = Report()
    send = fuzz.send(caller)
    checks = [one_error_shape, kept_out(caller)]

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            fuzz.seed_if_changed()
            for sku_id, quantity in cart.items():
                response = fuzz.client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity},
                                            headers=fuzz.headers[caller])
                assert response.status_code == 200, response.text
                fuzz.dirty = True

        def call(self, case, **kwargs):
            return send(case)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            validate(case, response, STATEFUL_CHECKS, checks, report, recorder=self.recorder)

    Workflow.run(settings=hypothesis.settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, derandomize=True, database=None,
        deadline=None, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        print_blob=False))
    return report


@pytest.mark.parametrize(("caller", "paths", "cart", "linked"), [
    # an admin creates products, SKUs, customers, pricing rules, then reads, changes, deletes them
    ("admin", r"^/api/admin/(products|skus|customers|pricing|inventory|orders)", {}, 3),
    # a customer with two lines in the cart checks out, then reads and cancels the order
    ("customer", r"^/api/(products|cart|checkout|orders|my-orders)", {1: 2, 2: 1}, 2),
])
def test_chains_of_calls_along_the_links_answer_below_500_in_the_one_shape(fuzz, caller, paths, cart, linked):
    schema = fuzz.schema.include(path_regex=paths).exclude(path_regex=CHANGES_USERS)
    report = stateful_run(fuzz, caller, schema, cart)
    print(f"\n{caller} (stateful): {sum(report.cases.values())} requests over {len(report.cases)} "
          f"operations; answers {dict(sorted(report.statuses.items()))}; 2xx {dict(report.succeeded)}")
    assert not report.failures, f"{len(report.failures)} kinds of failure:\n{report.text()}"
    assert not fuzz.broken_callers()
    # not vacuous: ids from earlier answers reached operations that need one (drawn ids rarely exist)
    reached = {label for label in report.succeeded if "{" in label}
    assert len(reached) >= linked, f"only {sorted(reached)} answered 2xx with an id in the path"


# --- the fuzz is not vacuous ------------------------------------------------------------------

def canary_app() -> FastAPI:
    """Three routes with the faults the fuzz is there to find."""
    app = FastAPI(title="canary")
    install_error_handlers(app)

    @app.get("/crash/{number}")
    async def crash(number: int) -> dict:
        raise RuntimeError("an unhandled error")

    @app.get("/wrong-shape/{number}", responses={400: {"description": "a refusal"}})
    async def wrong_shape(number: int) -> JSONResponse:
        return JSONResponse({"detail": "refused"}, status_code=400)

    @app.get("/server-error/{number}", responses={503: {"description": "down"}})
    async def server_error(number: int) -> JSONResponse:
        return error_response(503, "down", "The one shape, but a server error")

    return app


def test_the_fuzz_reports_crashes_server_errors_and_other_error_shapes():
    schema = schemathesis.openapi.from_asgi("/openapi.json", canary_app())
    report = Report()
    for operation in operations(schema):
        fuzz_operation(operation, GenerationMode.POSITIVE, lambda case: case.call(),
                       [one_error_shape], report, max_examples=3)
    found = {(operation, what.split(":")[0]) for operation, what in report.failures}
    assert ("GET /crash/{number}", "unhandled RuntimeError") in found, report.text()
    assert ("GET /wrong-shape/{number}", "Custom check failed") in found, report.text()
    assert ("GET /server-error/{number}", "Server error") in found, report.text()
