"""Back-office catalog routes (staff or admin): products and SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from stockline.auth.dependencies import StaffUser
from stockline.catalog.admin import service as admin
from stockline.catalog.schemas import ProductCreate, ProductUpdate, SkuCreate, SkuUpdate
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["catalog management"])
ProductId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SkuId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Search = Annotated[str | None, Query(max_length=200)]
_IN_USE = {409: {"description": "still referenced: deactivate instead"}, 404: {"description": "not found"}}


@router.get("/products", summary="Products (active and inactive) with their SKU counts")
async def list_products(
    request: Request, user: StaffUser, paging: Paging, search: Search = None, active: bool | None = None
) -> dict:
    return await admin.list_products(request.app.state.pool, paging, search=search, active=active)


@router.post("/products", status_code=201, summary="Create a product")
async def create_product(body: ProductCreate, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await admin.create_product(state.pool, state.catalog_version, state.settings, body.model_dump())


@router.get("/products/{product_id}", summary="One product", responses={404: {"description": "not found"}})
async def get_product(product_id: ProductId, request: Request, user: StaffUser) -> dict:
    return await admin.get_product(request.app.state.pool, product_id)


@router.patch(
    "/products/{product_id}",
    summary="Edit or (de)activate a product",
    responses={404: {"description": "not found"}},
)
async def update_product(
    product_id: ProductId, body: ProductUpdate, request: Request, user: StaffUser
) -> dict:
    state = request.app.state
    return await admin.update_product(
        state.pool, state.catalog_version, state.settings, product_id, body.model_dump(exclude_unset=True)
    )


@router.delete(
    "/products/{product_id}", status_code=204, summary="Delete a product without SKUs", responses=_IN_USE
)
async def delete_product(product_id: ProductId, request: Request, user: StaffUser) -> Response:
    state = request.app.state
    await admin.delete_product(state.pool, state.catalog_version, state.settings, product_id)
    return Response(status_code=204)


@router.get("/skus", summary="SKUs with their product and sellable stock")
async def list_skus(
    request: Request,
    user: StaffUser,
    paging: Paging,
    search: Search = None,
    product_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    active: bool | None = None,
) -> dict:
    state = request.app.state
    return await admin.list_skus(
        state.pool, state.settings, paging, search=search, product_id=product_id, active=active
    )


@router.post(
    "/skus",
    status_code=201,
    summary="Create a SKU (sku_code generated when left out)",
    responses={404: {"description": "no such product"}, 409: {"description": "sku_code taken"}},
)
async def create_sku(body: SkuCreate, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await admin.create_sku(state.pool, state.catalog_version, state.settings, body.model_dump())


@router.get("/skus/{sku_id}", summary="One SKU", responses={404: {"description": "not found"}})
async def get_sku(sku_id: SkuId, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await admin.get_sku(state.pool, state.settings, sku_id)


@router.patch(
    "/skus/{sku_id}",
    summary="Edit, reprice or (de)activate a SKU",
    responses={404: {"description": "not found"}, 409: {"description": "sku_code taken"}},
)
async def update_sku(sku_id: SkuId, body: SkuUpdate, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await admin.update_sku(
        state.pool, state.catalog_version, state.settings, sku_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/skus/{sku_id}", status_code=204, summary="Delete a SKU nothing refers to", responses=_IN_USE)
async def delete_sku(sku_id: SkuId, request: Request, user: StaffUser) -> Response:
    state = request.app.state
    await admin.delete_sku(state.pool, state.catalog_version, state.settings, sku_id)
    return Response(status_code=204)
