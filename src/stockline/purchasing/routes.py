"""Suppliers and purchase orders (/api/admin/suppliers, /api/admin/purchase-orders): staff only
(purchasing is staff work); no SQL here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from stockline.auth.dependencies import StaffUser
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT4_MAX
from stockline.pagination import Paging
from stockline.purchasing import purchase_orders, receiving, suggestions, suppliers
from stockline.purchasing.schemas import (
    FromSuggestions,
    FromSuggestionsResult,
    PoStatus,
    PurchaseOrder,
    PurchaseOrderCreate,
    PurchaseOrderNote,
    PurchaseOrderPage,
    PurchaseOrderReceipt,
    PurchaseOrderUpdate,
    SupplierCreate,
    SupplierDetail,
    SupplierPage,
    SupplierSkuSet,
    SupplierUpdate,
)

router = APIRouter(prefix="/api/admin", tags=["purchasing"])

SupplierId = Annotated[int, Path(ge=1, le=INT4_MAX)]
SkuId = Annotated[int, Path(ge=1, le=INT4_MAX)]
PoId = Annotated[int, Path(ge=1, le=INT4_MAX)]
ActiveFilter = Annotated[bool | None, Query(description="only active (true) or inactive (false) ones")]
_NO_SUPPLIER = {404: {"description": "no such supplier"}}
_NO_ORDER = {404: {"description": "no such purchase order"}}
_TRANSITION = {409: {"description": "the order's status does not allow this (invalid_transition, with "
                                    "from, to and allowed)"}}


# --- suppliers -----------------------------------------------------------------------------

@router.get("/suppliers", summary="Suppliers, active first, by name")
async def list_suppliers(ctx: Ctx, user: StaffUser, paging: Paging,
                         active: ActiveFilter = None) -> SupplierPage:
    return await suppliers.list_suppliers(ctx, paging, active=active)


@router.post("/suppliers", status_code=201, summary="Add a supplier",
             responses={409: {"description": "the name is taken, ignoring case (supplier_name_taken)"}})
async def create_supplier(body: SupplierCreate, ctx: Ctx, user: StaffUser) -> SupplierDetail:
    return await suppliers.create_supplier(ctx, user, body.model_dump())


@router.get("/suppliers/{supplier_id}", summary="One supplier with the SKUs it supplies",
            responses=_NO_SUPPLIER)
async def get_supplier(supplier_id: SupplierId, ctx: Ctx, user: StaffUser) -> SupplierDetail:
    return await suppliers.get_supplier(ctx, supplier_id)


@router.patch("/suppliers/{supplier_id}",
              summary="Change a supplier (is_active false: no new purchase orders)",
              responses=_NO_SUPPLIER | {409: {"description": "the name is taken (supplier_name_taken)"},
                                        422: {"description": "a required field set to null"}})
async def update_supplier(supplier_id: SupplierId, body: SupplierUpdate, ctx: Ctx, user: StaffUser
                          ) -> SupplierDetail:
    return await suppliers.update_supplier(ctx, user, supplier_id, body.model_dump(exclude_unset=True))


@router.put("/suppliers/{supplier_id}/skus/{sku_id}",
            summary="Set what the supplier charges for a SKU; is_preferred un-prefers the SKU's other "
                    "supplier",
            responses={404: {"description": "no such supplier or SKU"}})
async def set_supplier_sku(supplier_id: SupplierId, sku_id: SkuId, body: SupplierSkuSet, ctx: Ctx,
                           user: StaffUser) -> SupplierDetail:
    return await suppliers.set_supplier_sku(ctx, user, supplier_id, sku_id, body)


@router.delete("/suppliers/{supplier_id}/skus/{sku_id}", summary="The supplier no longer supplies the SKU",
               responses={404: {"description": "the supplier does not supply that SKU"}})
async def remove_supplier_sku(supplier_id: SupplierId, sku_id: SkuId, ctx: Ctx, user: StaffUser
                              ) -> SupplierDetail:
    return await suppliers.remove_supplier_sku(ctx, user, supplier_id, sku_id)


# --- purchase orders -----------------------------------------------------------------------

@router.post("/purchase-orders", status_code=201, summary="Draft a purchase order",
             responses={409: {"description": "the supplier is inactive (supplier_inactive)"},
                        422: {"description": "no such supplier (unknown_supplier) or SKU (unknown_sku), a "
                                             "line without a unit cost the supplier has none for "
                                             "(unit_cost_required), a SKU twice"}})
async def create_purchase_order(body: PurchaseOrderCreate, ctx: Ctx, user: StaffUser) -> PurchaseOrder:
    return await purchase_orders.create_order(ctx, user, body.supplier_id, body.lines, body.note)


@router.get("/purchase-orders", summary="Purchase orders, newest first")
async def list_purchase_orders(ctx: Ctx, user: StaffUser, paging: Paging, status: PoStatus | None = None,
                               supplier_id: Annotated[int | None, Query(ge=1, le=INT4_MAX)] = None
                               ) -> PurchaseOrderPage:
    return await purchase_orders.list_orders(ctx, paging, status=status, supplier_id=supplier_id)


@router.post("/purchase-orders/from-suggestions",
             summary="Draft a purchase order per preferred supplier from the reorder suggestions")
async def draft_from_suggestions(ctx: Ctx, user: StaffUser, body: FromSuggestions | None = None
                                 ) -> FromSuggestionsResult:
    return await suggestions.draft_from_suggestions(ctx, user, body.sku_ids if body else None)


@router.get("/purchase-orders/{po_id}", summary="One purchase order with its lines", responses=_NO_ORDER)
async def get_purchase_order(po_id: PoId, ctx: Ctx, user: StaffUser) -> PurchaseOrder:
    return await purchase_orders.get_order(ctx, po_id)


@router.patch("/purchase-orders/{po_id}", summary="Change a draft's note or replace its lines",
              responses=_NO_ORDER | _TRANSITION)
async def update_purchase_order(po_id: PoId, body: PurchaseOrderUpdate, ctx: Ctx, user: StaffUser
                                ) -> PurchaseOrder:
    changes = body.model_dump(exclude_unset=True, exclude={"lines"})
    return await purchase_orders.update_order(ctx, user, po_id, changes, body.lines)


@router.post("/purchase-orders/{po_id}/send", summary="Send a draft: expected on today + the lead time",
             responses=_NO_ORDER | {409: {"description": "not a draft (invalid_transition) or the supplier "
                                                         "is inactive (supplier_inactive)"}})
async def send_purchase_order(po_id: PoId, ctx: Ctx, user: StaffUser) -> PurchaseOrder:
    return await purchase_orders.send_order(ctx, user, po_id)


@router.post("/purchase-orders/{po_id}/cancel",
             summary="Cancel a draft, or a sent order nothing of which arrived",
             responses=_NO_ORDER | _TRANSITION)
async def cancel_purchase_order(po_id: PoId, ctx: Ctx, user: StaffUser, body: PurchaseOrderNote | None = None
                                ) -> PurchaseOrder:
    return await purchase_orders.cancel_order(ctx, user, po_id, body.note if body else None)


@router.post("/purchase-orders/{po_id}/close",
             summary="Close a partly received order short: the rest will not come, nor count as incoming",
             responses=_NO_ORDER | _TRANSITION)
async def close_purchase_order(po_id: PoId, ctx: Ctx, user: StaffUser, body: PurchaseOrderNote | None = None
                               ) -> PurchaseOrder:
    return await purchase_orders.close_order(ctx, user, po_id, body.note if body else None)


@router.post("/purchase-orders/{po_id}/receive",
             summary="Receive a delivery: each line a batch receipt at the order line's cost, all or nothing",
             responses=_NO_ORDER | {409: {"description": (
                 "the order is not sent, partly received or received, or was closed short "
                 "(invalid_transition); more units than a line still expects without accept_over_delivery "
                 "(over_delivery, each such line with ordered, received, arriving); a batch number already "
                 "used with another expiry (batch_expiry_mismatch)")},
                 422: {"description": "a line of another order (unknown_po_line) or an expiry date the goods "
                                      "could not be sold by (expiry_not_sellable)"}})
async def receive_purchase_order(po_id: PoId, body: PurchaseOrderReceipt, ctx: Ctx, user: StaffUser
                                 ) -> PurchaseOrder:
    return await receiving.receive(ctx, user, po_id, body)
