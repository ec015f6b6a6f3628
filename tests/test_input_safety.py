"""No 500 from any input (issue 15, item 4): numbers typed into pages and query strings are
read as ASCII digits of bounded length, secrets compare as bytes, every integer parameter is
bounded by its column, text with a NUL character (which PostgreSQL text can not hold) is a 422
naming the field (a search on a page leaves the NUL out), and the plain-words stock-entry
parser runs in linear time."""

from __future__ import annotations

import time

import pytest

from stockline.inventory.entry import parser
from stockline.inventory.entry.parser import parse_line
from stockline.kernel.inputs import INT8_MAX, ascii_digits, read_int, same_secret
from stockline.ordering import quick_order
from stockline.web.customer.forms import read_id, read_quantity, whole_number
from stockline.web.forms import MAX_PAGE, paging
from tests.ordering_world import PASSWORD, bearer
from tests.web_support import HTML, csrf_of, sign_in_by_form

HUGE = "9" * 5000  # more digits than int() converts (4,300), far past any column
PAST_BIGINT = "136286455882892844422135808"
# text that str.isdigit() accepts but int() refuses, or that is no ASCII number at all
NOT_ASCII_NUMBERS = ["²", "1²", "①", "٣", "１２", " 7", "+7", "-7", "7.0", "", HUGE]


# --- reading numbers ------------------------------------------------------------------------

@pytest.mark.parametrize("text", NOT_ASCII_NUMBERS)
def test_read_int_takes_only_ascii_digits_and_never_raises(text):
    assert read_int(text, maximum=INT8_MAX) is None
    assert not ascii_digits(text) or text == HUGE


def test_read_int_reads_valid_numbers_as_before():
    assert read_int("42") == 42 and read_int("0") == 0 and read_int("007", minimum=1) == 7
    assert read_int("0" * 40 + "5") == 5  # leading zeros do not count against the length
    assert read_int(str(INT8_MAX), maximum=INT8_MAX) == INT8_MAX
    assert read_int(str(INT8_MAX + 1), maximum=INT8_MAX) is None
    assert read_int("0", minimum=1) is None and read_int("11", maximum=10) is None
    assert read_int(None) is None


@pytest.mark.parametrize("text", ["²", "1²", "①", "٣", HUGE, "12" * 50_000])
def test_form_readers_answer_in_words_for_any_text(text):
    assert read_id(text) is None
    assert whole_number(text, 3, maximum=100) == 3
    with pytest.raises(Exception) as refused:
        read_quantity(text)
    assert type(refused.value).__name__ == "ValidationFailed"
    assert paging(text).page in (1, MAX_PAGE)


def test_form_readers_keep_their_answers_for_valid_text():
    assert read_quantity(" 1,200 ") == 1200 and read_quantity("0", minimum=0) == 0
    assert read_id(" 17 ") == 17 and whole_number("4", 1, maximum=10) == 4
    assert paging("3").page == 3 and paging("0").page == 1 and paging(None).page == 1
    assert paging(str(MAX_PAGE + 1)).page == MAX_PAGE and paging("9" * 30).page == MAX_PAGE


@pytest.mark.parametrize("amount", ["²", "1²", HUGE])
def test_quick_order_lines_refuse_odd_quantities_in_words(amount):
    parsed = quick_order.parse(f"AMOX-1 {amount}")
    assert parsed.lines[0].quantity is None and parsed.lines[0].error


def test_quick_order_lines_read_valid_quantities():
    parsed = quick_order.parse("AMOX-1 12\nPARA-3 0")
    assert parsed.lines[0].quantity == 12 and parsed.lines[0].error is None
    assert parsed.lines[1].quantity is None and "between 1" in parsed.lines[1].error


# --- pages and query strings ----------------------------------------------------------------

@pytest.mark.parametrize("number", ["²", HUGE])
async def test_customer_pages_answer_odd_numbers_without_a_server_error(client, world, number):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for path in (f"/catalog?page={number}", f"/catalog?quantity={number}", f"/catalog/1?quantity={number}",
                 f"/catalog/{number}", f"/orders?page={number}", f"/orders/{number}"):
        response = await client.get(path, headers=HTML)
        assert response.status_code < 500, path
    for form in ({"sku_id": "1", "quantity": number, "mode": "add"}, {"sku_id": number, "quantity": "1"},
                 {"sku_id": "1", "quantity": number}):
        response = await client.post("/cart/lines", data=form | {"csrf_token": csrf}, headers=HTML)
        assert response.status_code < 500, form
    response = await client.post("/quick-order", data={"lines": f"AMOX-1 {number}", "csrf_token": csrf},
                                 headers=HTML)
    assert response.status_code == 422
    assert "not a whole number" in response.text or "between 1 and" in response.text


@pytest.mark.parametrize("number", ["²", HUGE])
async def test_staff_pages_answer_odd_numbers_without_a_server_error(client, world, number):
    await sign_in_by_form(client, "staffer", PASSWORD)
    for path in (f"/staff/inventory?page={number}", f"/staff/inventory?sku_id={number}",
                 f"/staff/reports/expiring?days={number}", f"/staff/reports/low-stock?page={number}",
                 f"/staff/orders?page={number}", f"/staff/batches/{world['a_soon']}?page={number}"):
        response = await client.get(path, headers=HTML)
        assert response.status_code < 500, path
    expiring = await client.get(f"/staff/reports/expiring?days={number}", headers=HTML)
    assert expiring.status_code == 422 and "Days must be a whole number" in expiring.text


async def test_staff_pages_read_valid_numbers_as_before(client, world):
    await sign_in_by_form(client, "staffer", PASSWORD)
    assert (await client.get("/staff/inventory?sku_id=1&page=1", headers=HTML)).status_code == 200
    assert (await client.get("/staff/reports/expiring?days=30", headers=HTML)).status_code == 200


@pytest.mark.parametrize("path", [
    f"/api/admin/stock-movements?order_id={PAST_BIGINT}",
    f"/api/admin/stock-movements?order_id={INT8_MAX + 1}",
    f"/api/products?customer_id={PAST_BIGINT}",
    "/api/products?customer_id=2147483648",
    f"/api/products/1?customer_id={PAST_BIGINT}",
])
async def test_integer_parameters_past_their_column_are_422_in_the_one_shape(client, world, path):
    response = await client.get(path, headers=await bearer(client, "boss"))
    assert response.status_code == 422, response.text
    assert "error" in response.json()


async def test_the_largest_order_id_is_a_plain_empty_answer(client, world):
    response = await client.get(f"/api/admin/stock-movements?order_id={INT8_MAX}",
                                headers=await bearer(client, "boss"))
    assert response.status_code == 200 and response.json()["items"] == []


# --- text the database can not store (found by tests/test_fuzz.py) ------------------------

def assert_nul_refused(response, where: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["type"] == "nul_character"
    assert error["details"][0]["loc"][-1] == where


@pytest.mark.parametrize(("path", "where"), [
    ("/api/products?search=a%00b", "search"), ("/api/products?manufacturer=%00", "manufacturer"),
    ("/api/admin/products?search=%00", "search"), ("/api/admin/skus?search=%00", "search"),
    ("/api/admin/customers?search=%00", "search"), ("/api/admin/users?search=%00", "search"),
    ("/api/admin/inventory?search=%00", "search"),
])
async def test_a_nul_in_a_search_is_422_naming_it(client, world, path, where):
    assert_nul_refused(await client.get(path, headers=await bearer(client, "boss")), where)


@pytest.mark.parametrize(("method", "path", "body", "where"), [
    ("POST", "/api/admin/products", {"name": "Aspirin\u0000"}, "name"),
    ("PATCH", "/api/admin/products/1", {"description": "\u0000"}, "description"),
    ("POST", "/api/admin/skus", {"product_id": 1, "package_size": "1\u0000", "unit_type": "tablet",
                                 "base_price": "1.00"}, "package_size"),
    ("PATCH", "/api/admin/skus/1", {"unit_type": "cap\u0000sule"}, "unit_type"),
    ("POST", "/api/admin/customers", {"name": "Third", "address": "\u0000"}, "address"),
    ("PATCH", "/api/admin/customers/1", {"email": "a\u0000@b.cd"}, "email"),
    ("POST", "/api/admin/users", {"username": "new\u0000user", "password": "Another@123", "role": "staff"},
     "username"),
    ("POST", "/api/admin/inventory/batches", {"sku_code": "AMOX\u0000-1", "batch_no": "N1", "quantity": 1,
                                              "expiry_date": "2031-01-31", "cost_price": "1.00"}, "sku_code"),
    ("POST", "/api/admin/inventory/batches/2/adjust", {"delta": 1, "reason": "found", "note": "\u0000"}, "note"),
])
async def test_a_nul_in_a_body_is_422_naming_the_field(client, world, method, path, body, where):
    response = await client.request(method, path, json=body, headers=await bearer(client, "boss"))
    assert_nul_refused(response, where)


async def test_staff_pages_search_past_a_nul_and_their_forms_refuse_it(client, world):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    for path in ("/staff/products?search=amox%00", "/staff/customers?search=a%00", "/staff/users?search=%00",
                 "/staff/inventory?search=%00amox"):
        assert (await client.get(path, headers=HTML)).status_code == 200, path
    form = await client.post("/staff/products", data={"name": "Aspi\x00rin", "csrf_token": csrf}, headers=HTML)
    assert form.status_code == 422 and "Name must not contain the NUL character<" in form.text


async def test_customer_pages_search_past_a_nul(client, world):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    for path in ("/catalog?q=amox%00", "/catalog?manufacturer=%00"):
        assert (await client.get(path, headers=HTML)).status_code == 200, path
    response = await client.post("/quick-order", data={"lines": "AMOX-1\x00 2", "csrf_token": csrf}, headers=HTML)
    assert response.status_code == 200 and "AMOX-1" in response.text


async def test_a_nul_in_a_sign_in_is_refused_not_a_server_error(client, world):
    response = await client.post("/api/login", json={"username": "cust\u00001", "password": PASSWORD})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    login = await client.get("/login", headers=HTML)
    page = await client.post("/login", data={"username": "cust\x001", "password": PASSWORD,
                                             "csrf_token": csrf_of(login.text)})
    assert page.status_code == 401


# --- comparing secrets ----------------------------------------------------------------------

def test_same_secret_compares_any_characters():
    assert same_secret("abc", "abc") and same_secret("é", "é") and same_secret(b"x", "x")
    assert not same_secret("abc", "é") and not same_secret("abc", "abd") and not same_secret("", "\udcff")


@pytest.mark.parametrize("token", ["é", "ñandú-☃", "\u0000", "a" * 10_000])
async def test_a_non_ascii_csrf_field_is_refused_not_a_server_error(client, world, token):
    login = await client.get("/login", headers=HTML)
    assert login.status_code == 200
    response = await client.post("/login", data={"username": "cust_1", "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


async def test_a_non_ascii_csrf_header_is_refused_not_a_server_error(client, world):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    assert csrf
    response = await client.post("/api/cart", json={"sku_id": 3, "quantity": 1},
                                 headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


async def test_a_non_ascii_flash_cookie_is_ignored(client, world):
    response = await client.get("/login", headers={"Accept": "text/html",
                                                   "Cookie": "stockline_flash=e30.\xe9\xe9".encode("latin-1")})
    assert response.status_code == 200


# --- the stock-entry parser's regexes -------------------------------------------------------

def _seconds(read, text: str) -> float:
    start = time.perf_counter()
    read(text)
    return time.perf_counter() - start


def _unbounded(text: str):
    """The parser's patterns without the line-length cap: what a line at the cap costs."""
    return parser._read_parts(parser.ParsedLine(1, text), text, None)


LONG_SHAPES = {
    "spaces after a number": "abc 5" + " " * 100_000,
    "spaces after qty": "qty" + " " * 100_000 + "x",
    "spaces after cost": "cost" + " " * 100_000 + "x",
    "spaces after a verb": "add" + " " * 100_000 + "x",
    "spaces after batch": "batch" + " " * 100_000 + "!",
    "spaces after exp": "exp" + " " * 100_000 + "x",
    "spaces after a currency": "£" + " " * 100_000 + "x",
    "spaces after b": "b" + " " * 100_000 + "x",
    "tabs and dashes": "5" + " \t-" * 33_000 + "x",
    "repeated numbers and spaces": "5     " * 16_000,
    "repeated dates": "1 jan" * 20_000,
    "a long number": "Add 5 units batch B1 exp 2030-01-31 " + "1" * 100_000,
    "a long amount": "@ " + "1" * 100_000 + ".5",
    "grouped digits": "@ 1" + ",111" * 25_000 + ".1.1",
    "long dots": "1 jan" + "." * 100_000 + "x",
    "long code": "a" + "-" * 100_000,
    "strengths": "1 / " * 25_000 + "x",
    "packs": "2x" * 50_000,
    "pack sizes apart": "3" + " " * 40_000 + "x" + " " * 40_000 + "10" + " " * 20_000 + "z",
    "a strength apart": "500" + " " * 40_000 + "/" + " " * 40_000 + "5" + " " * 20_000 + "x",
    "words": "paracetamol " * 8_000,
}


@pytest.mark.parametrize("shape", LONG_SHAPES)
def test_a_100000_character_line_is_refused_at_once(shape):
    text = LONG_SHAPES[shape]
    assert len(text) >= 95_000
    elapsed = min(_seconds(lambda t: parse_line(1, t), text) for _ in range(3))
    assert elapsed < 0.01, f"{shape}: {elapsed:.3f} s"  # was 0.3-0.6 s of GIL, minutes before that
    assert [error.code for error in parse_line(1, text).errors] == ["line_too_long"]


@pytest.mark.parametrize("shape", LONG_SHAPES)
def test_a_line_at_the_cap_parses_well_under_100_ms(shape):
    text = LONG_SHAPES[shape][:parser.MAX_LINE_CHARS]
    assert "line_too_long" not in [error.code for error in parse_line(1, text).errors]
    elapsed = min(_seconds(lambda t: parse_line(1, t), text) for _ in range(3))
    assert elapsed < 0.05, f"{shape}: {elapsed:.3f} s"


def test_the_parsers_patterns_run_in_linear_time():
    """Without the cap, 10 times the text takes well under 20 times as long (quadratic
    would be 100 times): the cap is a bound on work, not a cover for a quadratic pattern."""
    def best(text: str) -> float:
        return min(_seconds(_unbounded, text) for _ in range(3))
    for shape in ("abc 5{}x", "qty{}x", "cost{}x", "add{}x", "500{}/{}5{}x"):
        short, long = best(shape.replace("{}", " " * 10_000)), best(shape.replace("{}", " " * 100_000))
        assert long < 1.0 and long < 20 * max(short, 0.002), (shape, short, long)


@pytest.mark.parametrize("text", ["Add ٥ units of Paracetamol batch B1 exp 2030-01-31",
                                  "Add 5 units batch B1 exp 2030-01-31 @ " + HUGE[:400],
                                  "Add " + HUGE[:400] + " units batch B1 exp ²/2030",
                                  "qty ² batch ² exp ² ² mg ²x²"])
def test_odd_numbers_in_an_entry_line_never_raise(text):
    line = parse_line(1, text)
    assert "line_too_long" not in [error.code for error in line.errors]
    assert line.errors or line.quantity is not None
