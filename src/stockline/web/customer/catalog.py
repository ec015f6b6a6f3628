"""The catalog and product pages, priced for the customer's account by the same catalog
service as GET /api/products (its cached JSON, parsed once per page).

The filter form is a plain GET form (works without JS); customer.js re-renders only the
results block (`#results`) as the customer types. One "price for" quantity prices every row
(discount, next tier), and each row's own quantity box re-prices that row from the API."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.catalog import service as catalog_service
from stockline.catalog.schemas import Sort
from stockline.errors import NotFound, ValidationFailed
from stockline.kernel.context import Ctx
from stockline.web.customer.forms import read_id, read_quantity, whole_number
from stockline.web.render import render
from stockline.web.session import CustomerPage

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
SORTS = {Sort.product.value: "Product (default)", Sort.name.value: "Name, A to Z",
         Sort.price.value: "Price, lowest first", Sort.expiry.value: "Earliest expiry first",
         Sort.availability.value: "Most in stock first"}


def _filters(request: Request) -> tuple[dict, str | None]:
    """The catalog's query string as filters; a bad quantity is reported, and 1 used."""
    args = request.query_params
    error = None
    try:
        quantity = read_quantity(args.get("quantity") or "1")
    except ValidationFailed as exc:
        quantity, error = 1, f"Prices are shown for 1 unit. {exc.message}."
    sort = args.get("sort") or Sort.product.value
    return {
        "q": (args.get("q") or "").strip()[:200],
        # no manufacturer's name holds a NUL, and PostgreSQL text can not hold one
        "manufacturer": (args.get("manufacturer") or "").replace("\x00", "").strip()[:200],
        "in_stock": args.get("in_stock") == "1", "sort": sort if sort in SORTS else Sort.product.value,
        "page": whole_number(args.get("page"), 1, maximum=100_000), "quantity": quantity,
    }, error


@router.get("/catalog")
async def catalog_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    filters, error = _filters(request)
    query = catalog_service.CatalogQuery(
        page=filters["page"], limit=PAGE_SIZE, quantity=filters["quantity"], search=filters["q"] or None,
        manufacturer=filters["manufacturer"] or None, in_stock=True if filters["in_stock"] else None,
        sort=filters["sort"])
    rendered = await catalog_service.list_products(ctx, customer_id=user.customer_id, query=query)
    return render(request, "customer/catalog.html", {
        "section": "catalog", "catalog": json.loads(rendered.body), "filters": filters, "error": error,
        "sorts": SORTS, "manufacturers": await catalog_service.manufacturers(ctx),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else "")},
        status_code=422 if error else 200)


@router.get("/catalog/{sku_id}")
async def product_page(request: Request, ctx: Ctx, sku_id: str, user: CustomerPage) -> Response:
    number = read_id(sku_id)
    if number is None:
        raise NotFound(f"No product {sku_id} in the catalog")
    try:
        quantity = read_quantity(request.query_params.get("quantity") or "1")
    except ValidationFailed:
        quantity = 1
    try:
        rendered = await catalog_service.product_detail(ctx, sku_id=number,
                                                        customer_id=user.customer_id, quantity=quantity)
    except NotFound:
        raise NotFound("This product is not in the catalog (it may no longer be sold)") from None
    return render(request, "customer/product.html", {
        "section": "catalog", "product": json.loads(rendered.body), "quantity": quantity,
        "here": f"{request.url.path}?quantity={quantity}"})
