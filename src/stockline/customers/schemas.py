"""Request and response bodies of the customer and user admin routes. Password hashes never
appear in any of them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from stockline.kernel.identity import Role
from stockline.kernel.inputs import MaybeText, Text

CustomerType = Literal["pharmacy", "hospital", "clinic", "wholesaler", "other"]

# lenient on purpose: one @, no spaces, a dot in the domain; deliverability is not ours to prove
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()./-]{2,39}$"
# the terms a new customer gets unless told otherwise (the column's default says the same)
DEFAULT_PAYMENT_TERMS_DAYS = 30
PaymentTerms = Annotated[int, Field(ge=0, le=365, description="days from an invoice to its due date")]
CreditLimit = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2,
                                       description="the most the account may owe; null: no limit")]
TaxId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9 ./-]+$",
                             description="the customer's VAT or tax number, printed on their invoices")]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = Field(min_length=1, max_length=200)
    address: MaybeText = Field(default=None, max_length=500)
    customer_type: CustomerType = "pharmacy"
    email: MaybeText = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: MaybeText = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    tax_id: TaxId | None = None
    payment_terms_days: PaymentTerms = DEFAULT_PAYMENT_TERMS_DAYS
    credit_limit: CreditLimit | None = None


class CustomerUpdate(BaseModel):
    """Only the fields sent change; null clears address, email or phone."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: MaybeText = Field(default=None, min_length=1, max_length=200)
    address: MaybeText = Field(default=None, max_length=500)
    customer_type: CustomerType | None = None
    email: MaybeText = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: MaybeText = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    tax_id: TaxId | None = None
    payment_terms_days: PaymentTerms | None = None
    credit_limit: CreditLimit | None = Field(default=None, description="null removes the limit")


class UserRead(BaseModel):
    user_id: int
    username: str
    role: Role
    customer_id: int | None
    customer_name: str | None
    is_active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime


class InvitationRead(BaseModel):
    invitation_id: int
    customer_id: int
    email: str
    invited_by: int | None
    created_at: datetime


class CustomerRead(BaseModel):
    customer_id: int
    name: str
    address: str | None
    customer_type: CustomerType
    email: str | None
    phone: str | None
    tax_id: str | None
    payment_terms_days: int
    credit_limit: str | None = Field(description="null: no limit")
    created_at: datetime
    user_count: int
    order_count: int


class CustomerDetail(CustomerRead):
    users: list[UserRead]
    invitations: list[InvitationRead] = Field(
        default_factory=list, description="emails invited to sign in with the identity provider as its users")


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    search: str | None


class UserPage(BaseModel):
    items: list[UserRead]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Text = Field(min_length=1, max_length=200, description="3-64 of A-Z a-z 0-9 _ . @ -")
    password: str = Field(min_length=1, max_length=256)
    role: Role = "customer"
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                    description="required for role customer; none for staff and admin")
    must_change_password: bool = Field(default=True,
                                       description="make them choose their own at first sign-in")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(min_length=1, max_length=256)


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                    description="required for role customer; none for staff and admin")


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: Text = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN,
                        description="who may sign in with an identity provider as this customer's user")
