"""Who is asking: the roles and the signed-in user every route and page is guarded by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "staff", "customer"]
STAFF_ROLES: tuple[Role, ...] = ("admin", "staff")


@dataclass(frozen=True)
class CurrentUser:
    user_id: int
    username: str
    role: Role
    customer_id: int | None
    must_change_password: bool

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_customer(self) -> bool:
        """A customer's user, tied to its customer (what the customer routes and pages need)."""
        return self.role == "customer" and self.customer_id is not None
