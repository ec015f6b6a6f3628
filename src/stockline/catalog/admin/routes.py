"""Back-office catalog routes (staff or admin): products and SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import StaffUser
from stockline.catalog.admin import service as admin
from stockline.catalog.schemas import ProductCreate, ProductUpdate, SkuCreate, SkuUpdate
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import MaybeText
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["catalog management"])
ProductId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SkuId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Search = Annotated[MaybeText, Query(max_length=200)]
_IN_USE = {409: {"description": "still referenced: deactivate instead"}, 404: {"description": "not found"}}


@router.get("/products", summary="Products (active and inactive) with their SKU counts")
async def list_products(
    ctx: Ctx, user: StaffUser, paging: Paging, search: Search = None, active: bool | None = None
) -> dict:
    return await admin.list_products(ctx, paging, search=search, active=active)


@router.post("/products", status_code=201, summary="Create a product")
async def create_product(body: ProductCreate, ctx: Ctx, user: StaffUser) -> dict:
    return await admin.create_product(ctx, user, body.model_dump())


@router.get("/products/{product_id}", summary="One product", responses={404: {"description": "not found"}})
async def get_product(product_id: ProductId, ctx: Ctx, user: StaffUser) -> dict:
    return await admin.get_product(ctx, product_id)


@router.patch(
    "/products/{product_id}",
    summary="Edit or (de)activate a product",
    responses={404: {"description": "not found"}},
)
async def update_product(
    product_id: ProductId, body: ProductUpdate, ctx: Ctx, user: StaffUser
) -> dict:
    return await admin.update_product(
        ctx, user, product_id, body.model_dump(exclude_unset=True)
    )


@router.delete(
    "/products/{product_id}", status_code=204, summary="Delete a product without SKUs", responses=_IN_USE
)
async def delete_product(product_id: ProductId, ctx: Ctx, user: StaffUser) -> Response:
    await admin.delete_product(ctx, user, product_id)
    return Response(status_code=204)


@router.get("/skus", summary="SKUs with their product and sellable stock")
async def list_skus(
    ctx: Ctx,
    user: StaffUser,
    paging: Paging,
    search: Search = None,
    product_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    active: bool | None = None,
) -> dict:
    return await admin.list_skus(
        ctx, paging, search=search, product_id=product_id, active=active
    )


@router.post(
    "/skus",
    status_code=201,
    summary="Create a SKU (sku_code generated when left out)",
    responses={404: {"description": "no such product"}, 409: {"description": "sku_code taken"},
               422: {"description": "invalid values, or no such tax class (unknown_tax_class)"}},
)
async def create_sku(body: SkuCreate, ctx: Ctx, user: StaffUser) -> dict:
    return await admin.create_sku(ctx, user, body.model_dump())


@router.get("/skus/{sku_id}", summary="One SKU", responses={404: {"description": "not found"}})
async def get_sku(sku_id: SkuId, ctx: Ctx, user: StaffUser) -> dict:
    return await admin.get_sku(ctx, sku_id)


@router.patch(
    "/skus/{sku_id}",
    summary="Edit, reprice, (de)activate or change the tax class of a SKU",
    responses={404: {"description": "not found"}, 409: {"description": "sku_code taken"},
               422: {"description": "invalid values, or no such tax class (unknown_tax_class)"}},
)
async def update_sku(sku_id: SkuId, body: SkuUpdate, ctx: Ctx, user: StaffUser) -> dict:
    return await admin.update_sku(
        ctx, user, sku_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/skus/{sku_id}", status_code=204, summary="Delete a SKU nothing refers to", responses=_IN_USE)
async def delete_sku(sku_id: SkuId, ctx: Ctx, user: StaffUser) -> Response:
    await admin.delete_sku(ctx, user, sku_id)
    return Response(status_code=204)
