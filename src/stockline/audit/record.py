"""Recording privileged changes in the audit log (Audit_Log in db/schema.sql).

Every back-office change (pricing rules, customers, users and roles, products and SKUs,
batches and their stock, an order's status moved by staff) calls `record` or `record_many`
on the connection of its own transaction, so the entry commits with the change or rolls
back with it: a committed change always has its entry, a refused one never. The insert is
sent, not waited for (pipeline mode); should it fail, the whole transaction fails with it.

`before` and `after` are the entity's meaningful columns as they were and as they became
(None before: created; None after: deleted); never a password hash (a reset is written as
`"password": "reset"`). An update that changed none of them is not recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

import psycopg

from stockline import db
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

Action = Literal[
    "pricing_rule.create", "pricing_rule.update", "pricing_rule.delete",
    "customer.create", "customer.update", "customer.delete",
    "invitation.create", "invitation.revoke",
    "user.create", "user.password_reset", "user.deactivate", "user.reactivate", "user.role_change",
    "product.create", "product.update", "product.delete",
    "sku.create", "sku.update", "sku.delete",
    "batch.receive", "batch.adjust", "batch.write_off", "batch.edit", "batch.delete",
    "order.status_change",
    "tax_class.create", "tax_class.update", "tax_class.delete", "tax_class.schedule_rate",
    "tax_class.delete_rate", "invoice.payment", "return.approve", "return.reject",
    "supplier.create", "supplier.update", "supplier.set_sku", "supplier.remove_sku",
    "purchase_order.create", "purchase_order.update", "purchase_order.send", "purchase_order.receive",
    "purchase_order.close", "purchase_order.cancel",
    "batch.quarantine", "batch.release",
    "recall.create", "recall.return", "recall.destroy", "recall.close",
]
EntityType = Literal["batch", "customer", "invitation", "order", "pricing_rule", "product", "sku", "user",
                     "tax_class", "invoice", "return", "supplier", "purchase_order", "recall"]
ACTIONS: tuple[str, ...] = get_args(Action)
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)

State = Mapping[str, Any] | None


def entity_type_of(action: str) -> str:
    """An action names its entity type first: 'pricing_rule.update' -> 'pricing_rule'."""
    return action.partition(".")[0]


assert {entity_type_of(action) for action in ACTIONS} == set(ENTITY_TYPES)


@dataclass(frozen=True)
class Change:
    entity_id: int
    before: State
    after: State


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact, as the column holds it ("12.50")
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    raise TypeError(f"the audit log cannot store a {type(value).__name__}")


async def record(conn: psycopg.AsyncConnection, actor: CurrentUser, action: Action, entity_id: int,
                 before: State, after: State) -> None:
    """One entry, in the transaction `conn` is in."""
    await record_many(conn, actor, action, [Change(entity_id, before, after)])


async def record_many(conn: psycopg.AsyncConnection, actor: CurrentUser, action: Action,
                      changes: Iterable[Change]) -> None:
    """An entry per change that changed something, in one statement (a bulk write-off)."""
    entries = [{"entity_id": change.entity_id, "before": change.before, "after": change.after}
               for change in changes if change.before != change.after]
    if not entries:
        return
    await db.send(conn, Q["insert_entries"], {
        "actor_user_id": actor.user_id, "actor_username": actor.username, "action": action,
        "entity_type": entity_type_of(action), "entries": json.dumps(entries, default=_json_value)})
