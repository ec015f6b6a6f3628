"""PharmAssist's HTTP contract (PHARMASSIST_COMPAT=1), an adapter over Stockline's services.

PharmAssist's clients (its Next.js frontend, scripts, Locust file) call the paths of
/work/shared/compat/pharmassist-api.md. With the setting on, `install` mounts, ahead of
Stockline's own routes on the same port:

- the routes Stockline lacks: GET /api/admin/all-orders, GET /api/admin/orders/{id}/items,
  POST /api/admin/add-inventory-nlp (the offline plain-words parser, then a receipt, at
  once), PUT /api/admin/inventory/batches/{id};
- on the paths both have, Stockline's own answer plus the fields PharmAssist's clients read
  (`total_quantity`, `estimated_total_price`, `batches`, ...), money those clients need as
  JSON numbers (rounded half-up to the cent, only here at the edge), and the bodies PharmAssist
  sends (a `batch_id` order, a `sku_name` receipt, a receipt without a cost);
- `ErrorShape`, an outer layer turning errors on those paths into PharmAssist's
  `{"error": "<message>", "code": ...}` (422 becomes 400).

Every rule stays the service's: pricing, FEFO and the sellable rule (stockline_place_order),
the ledger, the SKU locks, idempotency, roles and the audit log. Nothing here writes SQL
beyond three look-ups (queries.sql beside this file).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockline import db
from stockline.auth.cookies import SESSION_COOKIE
from stockline.auth.dependencies import AnyUser, CustomerUser, StaffUser, optional_user
from stockline.catalog import service as catalog
from stockline.catalog.schemas import Sort
from stockline.errors import NotFound, Unauthorized, ValidationFailed
from stockline.inventory.batches import service as batches
from stockline.inventory.entry import service as entry
from stockline.inventory.stock import service as stock
from stockline.inventory.stock.schemas import InventorySort
from stockline.kernel.context import Ctx
from stockline.kernel.identity import CurrentUser
from stockline.kernel.inputs import INT8_MAX, MaybeText
from stockline.ordering import cart, checkout, orders
from stockline.ordering.routes import IdempotencyKey
from stockline.pagination import MAX_PAGE_SIZE, PageRequest, Paging
from stockline.reporting import dashboard
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)
CENT = Decimal("0.01")
PARSER_SOURCE = "Stockline offline parser"  # the "Powered by ..." of the NLP answer
router = APIRouter(tags=["PharmAssist compatibility"], include_in_schema=False)
BatchId = Annotated[int, Path(ge=1, le=2_147_483_647)]
OrderId = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807)]

# The contract's paths: their errors take PharmAssist's shape
_PATHS = re.compile(r"^/(ready|api/(login|oauth/[^/]+/exchange|products|cart|checkout|my-orders|orders"
                    r"|admin/(all-orders|orders/\d+/(items|status)|inventory|inventory/batches(/\d+)?"
                    r"|products|skus|dashboard-stats|add-inventory-nlp)))/?$")


def number(value: Any) -> float | None:
    """Exact money (Decimal or its text) as a JSON number, rounded half-up to the cent."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


# --- who is calling -------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False)


async def _lenient_user(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> CurrentUser | None:
    """Public routes: a stale or expired Bearer is ignored (the caller is anonymous), as
    PharmAssist's clients send one on every request."""
    try:
        return await optional_user(request, credentials)
    except Unauthorized:
        return None


LenientUser = Annotated[CurrentUser | None, Depends(_lenient_user)]


# --- catalog ---------------------------------------------------------------------------------

@router.get("/api/products")
async def products(
    ctx: Ctx, user: LenientUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    quantity: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    search: Annotated[MaybeText, Query(max_length=200)] = None,
    manufacturer: Annotated[MaybeText, Query(max_length=200)] = None,
    in_stock: bool | None = None,
    low_stock: bool | None = None,
    sort: Sort = Sort.product,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """Stockline's catalog (same parameters, service, cache and prices) with base_price and
    effective_price as numbers."""
    query = catalog.CatalogQuery(page=page, limit=limit, quantity=quantity,
                                 search=(search or "").strip() or None,
                                 manufacturer=(manufacturer or "").strip() or None, in_stock=in_stock,
                                 low_stock=low_stock, sort=sort.value)
    pricing_customer = await catalog.pricing_customer(ctx, user, customer_id)
    await ctx.versions.refresh(ctx.pool)  # a rule PRICE just wrote by SQL shows now, NOTIFY or not
    rendered = await catalog.list_products(ctx, customer_id=pricing_customer, query=query)
    document = json.loads(rendered.body)
    for item in document["items"]:
        item["base_price"] = number(item["base_price"])
        item["effective_price"] = number(item["effective_price"])
    return _json(document)


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document, separators=(",", ":")), status_code=status,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


# --- cart, checkout, orders --------------------------------------------------------------------

async def _cart_id(ctx: Any, user: CurrentUser) -> int | None:
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["cart_id"], {"user_id": user.user_id})
    return row["cart_id"] if row else None


async def _pharmassist_cart(ctx: Any, user: CurrentUser, answer: dict[str, Any]) -> dict[str, Any]:
    for line in answer["items"]:
        line["cart_item_id"] = line["sku_id"]  # one line per SKU in a cart
        line["available_stock"] = line["available"]  # sellable units: expired batches excluded
    return answer | {"cart_id": await _cart_id(ctx, user), "total_quantity": answer["total_units"],
                     "estimated_total_price": number(answer["total_amount"])}


@router.get("/api/cart")
async def get_cart(ctx: Ctx, user: CustomerUser) -> dict:
    return await _pharmassist_cart(ctx, user, await cart.get_cart(ctx, user))


class CartLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=2_147_483_647)
    quantity: int = Field(ge=0, le=1_000_000)


@router.post("/api/cart")
async def set_cart_line(body: CartLine, ctx: Ctx, user: CustomerUser) -> dict:
    answer = await cart.set_line(ctx, user, sku_id=body.sku_id, quantity=body.quantity)
    return await _pharmassist_cart(ctx, user, answer) | {"removed": body.quantity == 0}


def _order_extras(order: dict[str, Any]) -> dict[str, Any]:
    return order | {"total_price": number(order["total_amount"]), "total_quantity": order["total_units"],
                    "order_item_rows": len(order["items"])}


@router.post("/api/checkout", status_code=201)
async def check_out(ctx: Ctx, response: Response, user: CustomerUser,
                    idempotency_key: IdempotencyKey = None) -> dict:
    """No body is read: none, an empty one with Content-Type: application/json, or `{}`."""
    placed = await checkout.checkout(ctx, user, idempotency_key=idempotency_key)
    response.status_code = 200 if placed.replayed else 201
    return _order_extras(placed.order)


class DirectOrder(BaseModel):
    """Stockline's direct order (sku_id) or PharmAssist's (batch_id): one of the two."""
    model_config = ConfigDict(extra="forbid")
    sku_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    batch_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    quantity: int = Field(ge=1, le=1_000_000)
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


@router.post("/api/orders", status_code=201)
async def place_order(body: DirectOrder, ctx: Ctx, response: Response, user: AnyUser,
                      idempotency_key: IdempotencyKey = None) -> dict:
    if (body.sku_id is None) == (body.batch_id is None):
        raise ValidationFailed("Give sku_id or batch_id (one of them)")
    if user.is_staff:
        if body.customer_id is None:
            raise ValidationFailed("Staff must name the customer_id the order is for")
        customer_id = body.customer_id
    elif user.customer_id is None:
        raise ValidationFailed("No customer_id associated with this user")
    else:
        customer_id = user.customer_id  # never the body's: a customer orders for itself only
    if body.batch_id is not None:
        placed = await checkout.place_batch_order(ctx, user, customer_id=customer_id, batch_id=body.batch_id,
                                                  quantity=body.quantity, idempotency_key=idempotency_key)
    else:
        placed = await checkout.place_direct_order(ctx, user, customer_id=customer_id, sku_id=body.sku_id,
                                                   quantity=body.quantity, idempotency_key=idempotency_key)
    response.status_code = 200 if placed.replayed else 201
    order = placed.order
    first = order["items"][0] if order["items"] else {}
    return _order_extras(order) | {"order_item_id": first.get("order_item_id"),
                                   "sale_price": number(first.get("sale_price"))}


def _summary(order: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return order | {"total_quantity": order["units"], "total_price": number(order["total_amount"])} | extra


@router.get("/api/my-orders")
async def my_orders(request: Request, ctx: Ctx, user: CustomerUser, paging: Paging,
                    status: str | None = None) -> dict:
    """Stockline's page of orders plus PharmAssist's `orders`; without `limit`, a page of
    MAX_PAGE_SIZE (PharmAssist's clients page nothing)."""
    if "limit" not in request.query_params:
        paging = PageRequest(paging.page, MAX_PAGE_SIZE)
    if status is not None and status not in orders.STATUSES:
        raise ValidationFailed(f"Unknown status {status!r}")
    page = await orders.customer_orders(ctx, user.customer_id, paging, status)
    page["items"] = [_summary(order) for order in page["items"]]
    return page | {"customer_id": user.customer_id, "orders": page["items"]}


@router.get("/api/admin/all-orders")
async def all_orders(ctx: Ctx, user: StaffUser) -> dict:
    """Every order, newest first, one row each (PharmAssist pages nothing here): one page as
    large as a bigint offset allows, so one query rather than a query per page, each deeper."""
    answer = await orders.all_orders(ctx, PageRequest(1, INT8_MAX), status=None,
                                     customer_id=None, date_from=None, date_to=None)
    return {"orders": [_summary(order) for order in answer["items"]]}


@router.get("/api/admin/orders/{order_id}/items")
async def order_items(order_id: OrderId, ctx: Ctx, user: StaffUser) -> dict:
    order = await orders.get_order(ctx, order_id, customer_id=None, include_costs=True)
    items = []
    for item in order["items"]:
        base, sale, cost = (Decimal(item[key]) for key in ("base_price", "sale_price", "unit_cost"))
        items.append(item | {
            "sku_name": f"{item['product_name']} - {item['package_size']}",
            "base_price": number(base), "sale_price": number(sale), "cost_price": number(cost),
            "discount_pct": number(item["discount_percentage"]),
            "markup_pct": number((sale - cost) / cost * 100) if cost else None,
            "line_total": number(item["line_total"]), "line_profit": number(item["line_profit"])})
    return {"order": {key: order[key] for key in ("order_id", "customer_id", "order_date", "status")},
            "items": items,
            "totals": {"total_quantity": order["total_units"], "total_price": number(order["total_amount"]),
                       "total_profit": number(order["profit"])}}


# --- inventory --------------------------------------------------------------------------------

_FILTERS = {"low-stock": "low_stock", "low_stock": "low_stock", "critical": "critical",
            "expiring": "expiring", "expired": "expired", "recent": "recent"}


def _pharmassist_batch(batch: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": batch["batch_id"], "sku_id": batch["sku_id"],
            "sku_name": f"{batch['product_name']} - {batch['package_size']}", "batch_no": batch["batch_no"],
            "expiry_date": batch["expiry_date"], "quantity_on_hand": batch["quantity_on_hand"],
            "cost_price": number(batch["cost_price"])}


@router.get("/api/admin/inventory")
async def inventory(
    ctx: Ctx, user: StaffUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: int = 50,
    filter: Annotated[str | None, Query(max_length=20)] = None,
    search: Annotated[MaybeText, Query(max_length=200)] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sort: InventorySort = InventorySort.product,
) -> Response:
    """Stockline's inventory page (its parameters too; sorted by product unless asked
    otherwise, as PharmAssist) plus PharmAssist's `batches` and `total_batches`."""
    if filter and filter not in _FILTERS:
        raise ValidationFailed(f"Unknown filter {filter!r}: low-stock, critical, expiring, expired or recent")
    paging = PageRequest(page, limit if 1 <= limit <= MAX_PAGE_SIZE else 50)  # PharmAssist's fallback
    rendered = await stock.inventory_page(ctx, paging, filter_=_FILTERS.get(filter or ""),
                                          search=(search or "").strip() or None, sku_id=sku_id,
                                          sort=sort.value)
    document = json.loads(rendered.body)
    return _json(document | {"batches": [_pharmassist_batch(item) for item in document["items"]],
                             "total_batches": document["total_items"]})


def _day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValidationFailed(f"Invalid expiry_date {text!r}: use YYYY-MM-DD or DD/MM/YYYY")


class Receipt(BaseModel):
    """Stockline's receipt or PharmAssist's: sku_id, sku_code or sku_name; cost optional."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    sku_code: MaybeText = Field(default=None, min_length=1, max_length=64)
    sku_name: MaybeText = Field(default=None, min_length=1, max_length=300)
    batch_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./_#-]*$")
    quantity: int = Field(gt=0, le=1_000_000)
    expiry_date: str = Field(min_length=8, max_length=10)
    cost_price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"))
    note: MaybeText = Field(default=None, max_length=500)


async def _receive(ctx: Any, user: CurrentUser, *, sku_id: int | None, sku_code: str | None,
                   batch_no: str, quantity: int, expiry: date, cost: Decimal | None,
                   note: str | None) -> dict[str, Any]:
    """batches.receive, with PharmAssist's default cost when none is given."""
    if cost is None:
        async with ctx.pool.connection() as conn:
            row = await db.fetch_one(conn, Q["receipt_defaults"],
                                     {"sku_id": sku_id, "sku_code": sku_code, "batch_no": batch_no})
        if row is None:
            raise NotFound(f"SKU not found: {sku_id or sku_code}")
        sku_id = row["sku_id"]
        cost = row["batch_cost"] if row["batch_cost"] is not None else row["default_cost"]
    receipt = batches.Receipt(batch_no=batch_no, quantity=quantity, expiry_date=expiry,
                              cost_price=cost.quantize(CENT, ROUND_HALF_UP), sku_id=sku_id,
                              sku_code=None if sku_id else sku_code, note=note)
    return await batches.receive(ctx, user, receipt)


@router.post("/api/admin/inventory/batches", status_code=201)
async def receive_batch(body: Receipt, ctx: Ctx, user: StaffUser) -> dict:
    """Stockline's receipt (201 for PharmAssist's clients even for more of a batch, which
    Stockline's own route answers 200) with PharmAssist's `message` and `batch`."""
    if sum(value is not None for value in (body.sku_id, body.sku_code, body.sku_name)) != 1:
        raise ValidationFailed("Give sku_id, sku_code or sku_name (one of them)")
    sku_id = body.sku_id
    if body.sku_name is not None:
        async with ctx.pool.connection() as conn:
            row = await db.fetch_one(conn, Q["sku_by_name"], {"name": " ".join(body.sku_name.split())})
        if row is None:
            raise NotFound(f"SKU not found for name: {body.sku_name}")
        sku_id = row["sku_id"]
    result = await _receive(ctx, user, sku_id=sku_id, sku_code=body.sku_code, batch_no=body.batch_no,
                            quantity=body.quantity, expiry=_day(body.expiry_date), cost=body.cost_price,
                            note=body.note)
    return result | {"message": "Batch upserted",
                     "batch": _pharmassist_batch(result) | {"override_used": False}}


class BatchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity_on_hand: int | None = Field(default=None, ge=0, le=1_000_000)
    expiry_date: date | None = None
    cost_price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"))


@router.put("/api/admin/inventory/batches/{batch_id}")
async def update_batch(batch_id: BatchId, body: BatchUpdate, ctx: Ctx, user: StaffUser) -> dict:
    """PharmAssist's partial update, as Stockline's recorded changes in one transaction
    (batches.correct): a new quantity is an adjustment in the ledger (count_correction), cost
    and expiry are batch edits. Fields equal to the batch's are left alone; null fields are
    absent."""
    if body.quantity_on_hand is None and body.expiry_date is None and body.cost_price is None:
        raise ValidationFailed("No fields to update: quantity_on_hand, expiry_date or cost_price")
    cost = body.cost_price.quantize(CENT, ROUND_HALF_UP) if body.cost_price is not None else None
    corrected = await batches.correct(ctx, user, batch_id=batch_id, quantity_on_hand=body.quantity_on_hand,
                                      cost_price=cost, expiry_date=body.expiry_date,
                                      note="PharmAssist client")
    return {"batch": _pharmassist_batch(corrected)}


@router.delete("/api/admin/inventory/batches/{batch_id}")
async def delete_batch(batch_id: BatchId, ctx: Ctx, user: StaffUser) -> Response:
    """Stockline's deletion (204) of a batch nothing but its receipt touched. A batch that
    was sold stays for traceability (409, as Stockline's route). One that was only adjusted
    (PharmAssist's edit-then-delete) also stays, with its stock adjusted to 0 in the ledger:
    200 `{"deleted": false, "quantity_on_hand": 0, ...}` saying so."""
    refusal = await batches.deletion_refusal(ctx, batch_id)
    if refusal is None:
        await batches.delete(ctx, user, batch_id)
        return Response(status_code=204)
    current = await batches.batch(ctx, batch_id)
    if await batches.was_sold(ctx, batch_id):
        await batches.delete(ctx, user, batch_id)  # refused with Stockline's own 409
    if current["quantity_on_hand"]:
        await batches.adjust(ctx, user, batch_id=batch_id, delta=None, new_quantity=0,
                             reason="other", note="deleted by a PharmAssist client; kept for traceability")
    return _json({"deleted": False, "batch_id": batch_id, "quantity_on_hand": 0,
                  "message": f"Batch {current['batch_no']} has stock movements besides its receipt, so it "
                             "stays for traceability; its stock is now 0"})


class NlpText(BaseModel):
    text: str | None = None


@router.post("/api/admin/add-inventory-nlp", status_code=201)
async def add_inventory_nlp(body: NlpText, ctx: Ctx, user: StaffUser) -> dict:
    """PharmAssist's "AI" intake, with Stockline's offline parser (no model, no network):
    one line read, its best SKU taken when the parser is sure, and received at once."""
    if not body.text or not body.text.strip():
        raise ValidationFailed("Missing 'text' field in request body")
    proposal = await entry.propose_receipts(ctx, body.text)
    if len(proposal["lines"]) != 1:
        raise ValidationFailed("Give one receipt per request")
    [line] = proposal["lines"]
    receipt = line.get("receipt")
    if receipt is None:
        problems = "; ".join(error["message"] for error in line.get("errors", ())) or "; ".join(
            note for note in line.get("notes", ()) if "match about equally" in note)
        if not line.get("candidates") and line.get("quantity") and line.get("expiry_date"):
            raise NotFound(f"SKU not found for name: {line['text']}")
        raise ValidationFailed(problems or "Could not read a receipt from the text; name the product, "
                               "quantity, batch number and expiry", details={"notes": line.get("notes")})
    try:
        cost = Decimal(receipt["cost_price"]) if receipt.get("cost_price") else None
    except InvalidOperation:
        cost = None
    result = await _receive(ctx, user, sku_id=receipt["sku_id"], sku_code=None, batch_no=receipt["batch_no"],
                            quantity=receipt["quantity"], expiry=receipt["expiry_date"], cost=cost,
                            note="plain-words entry")
    return {"message": f"Added {receipt['quantity']} units to batch {result['batch_no']}",
            "batch_id": result["batch_id"], "sku_id": result["sku_id"], "batch_no": result["batch_no"],
            "quantity_added": receipt["quantity"], "new_quantity_on_hand": result["quantity_on_hand"],
            "expiry_date": result["expiry_date"], "source": PARSER_SOURCE}


# --- dashboard ----------------------------------------------------------------------------------

@router.get("/api/admin/dashboard-stats")
async def dashboard_stats(ctx: Ctx, user: StaffUser) -> dict:
    figures = dict(await dashboard.stats(ctx))
    for key in ("total_revenue", "total_profit"):
        figures[key] = number(figures[key])
    for series in ("daily", "weekly", "top_products", "top_customers"):
        figures[series] = [entry_ | {"revenue": number(entry_["revenue"]), "profit": number(entry_["profit"])}
                           for entry_ in figures.get(series, [])]
    return figures


# --- errors -------------------------------------------------------------------------------------

def pharmassist_error(path: str, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Stockline's `{"error": {code, message, details}}` as PharmAssist's clients read it:
    `error` is the message string. A validation error is 400, as PharmAssist answered."""
    error = body.get("error")
    if not isinstance(error, dict):
        return status, body
    code, message = error.get("code"), error.get("message")
    if code == "insufficient_stock":
        if path.startswith("/api/cart"):
            message = "Requested quantity exceeds available stock"
        else:
            lines = (error.get("details") or {}).get("lines") or []
            message = f"Insufficient stock for sku_id {', '.join(str(line['sku_id']) for line in lines)}"
    answer = {"error": message, "code": code}
    if error.get("details") is not None:
        answer["details"] = error["details"]
    return (400 if status == 422 else status), answer


def _stockline_page(scope: Scope) -> bool:
    """A request from Stockline's own pages (signed in by its session cookie; PharmAssist's
    clients use no cookies): its errors keep Stockline's shape, which the pages' scripts read."""
    cookies = b"".join(value for name, value in scope.get("headers", ()) if name == b"cookie")
    return SESSION_COOKIE.encode() + b"=" in cookies


class ErrorShape:
    """Outer layer (outside Starlette's 500 handler too): error answers on the contract's
    paths in PharmAssist's shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _PATHS.match(scope["path"]) or _stockline_page(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] >= 400 and kind.startswith(b"application/json"):
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            raw = b"".join(chunks)
            status = start["status"]
            try:
                status, answer = pharmassist_error(scope["path"], status, json.loads(raw))
                raw = json.dumps(answer, separators=(",", ":")).encode()
            except (ValueError, TypeError, KeyError):
                pass
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, rewrite)


def install(app: FastAPI) -> None:
    """Mount the contract's routes ahead of Stockline's (call before including those)."""
    app.include_router(router)
