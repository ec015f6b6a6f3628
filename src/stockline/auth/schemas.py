"""Request and response bodies of the auth routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from stockline.kernel.identity import Role
from stockline.kernel.inputs import Text


class LoginRequest(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int
    role: Role
    customer_id: int | None
    must_change_password: bool


class MeResponse(BaseModel):
    user_id: int
    username: str
    role: Role
    customer_id: int | None
    must_change_password: bool


class PasswordChange(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)
