"""HTTP routes of the catalog (public: anonymous callers see non-customer prices)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from stockline.auth.dependencies import OptionalUser
from stockline.catalog import service
from stockline.catalog.schemas import CatalogPage, ProductDetail, Sort
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import MaybeText
from stockline.response_cache import CachedResponse

router = APIRouter(prefix="/api", tags=["catalog"])


def _respond(request: Request, rendered: CachedResponse) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if rendered.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


@router.get("/products", summary="Active SKUs priced for the caller",
            responses={200: {"model": CatalogPage}, 304: {"description": "not modified (ETag)"},
                       404: {"description": "staff/admin: no customer customer_id to preview prices for"}})
async def list_products(
    request: Request, ctx: Ctx, user: OptionalUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    quantity: Annotated[int, Query(ge=1, le=1_000_000, description="units priced per line")] = 1,
    search: Annotated[MaybeText, Query(max_length=200)] = None,
    manufacturer: Annotated[MaybeText, Query(max_length=200)] = None,
    in_stock: bool | None = None,
    low_stock: bool | None = None,
    sort: Sort = Sort.product,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647,
                                             description="staff/admin: preview its prices")] = None,
) -> Response:
    query = service.CatalogQuery(page=page, limit=limit, quantity=quantity,
                                 search=(search or "").strip() or None,
                                 manufacturer=(manufacturer or "").strip() or None, in_stock=in_stock,
                                 low_stock=low_stock, sort=sort.value)
    rendered = await service.list_products(
        ctx,
        customer_id=await service.pricing_customer(ctx, user, customer_id), query=query)
    return _respond(request, rendered)


@router.get("/products/{sku_id}", summary="One SKU: price ladder and sellable batches",
            responses={200: {"model": ProductDetail}, 404: {"description": "no such active SKU"}})
async def product_detail(
    request: Request, ctx: Ctx, user: OptionalUser, sku_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    quantity: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    pricing_customer = await service.pricing_customer(ctx, user, customer_id)
    rendered = await service.product_detail(ctx, sku_id=sku_id, quantity=quantity,
                                            customer_id=pricing_customer)
    return _respond(request, rendered)
