"""The identity API's shapes: what the frontend codes against."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision
from studio.kernel.roles import Role

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignupIn(_In):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str | None = Field(default=None, max_length=100)


class SignupOut(ApiModel):
    user_id: str
    email: str
    email_verified: bool = False


class LoginIn(_In):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class RefreshIn(_In):
    refresh_token: str = Field(min_length=1, max_length=512)


class MembershipRef(ApiModel):
    tenant_id: str
    role: Role


class MeOut(ApiModel):
    user_id: str
    email: str | None
    email_verified: bool = False
    display_name: str | None = None
    memberships: list[MembershipRef]


class BootstrapIn(_In):
    tenant_name: str = Field(min_length=1, max_length=100)


class BootstrapOut(ApiModel):
    tenant_id: str = Field(pattern=r"^t_[a-z0-9]{3,}$")
    role: Literal["owner"] = "owner"


class TenantOut(ApiModel):
    tenant_id: str
    name: str
    rev: int
    created_at: str
    updated_at: str


class TenantPatch(_In):
    name: str = Field(min_length=1, max_length=100)
    base_rev: Revision | None = None


class MemberOut(ApiModel):
    tenant_id: str
    user_id: str
    email: str | None
    role: Role
    rev: int


class MemberList(ApiModel):
    members: list[MemberOut]


class MemberPatch(_In):
    role: Role
    base_rev: Revision | None = None


class Jwks(ApiModel):
    keys: list[dict[str, str]]


# -- verification, passwords, sessions ------------------------------------------------------------
_TOKEN = Field(min_length=1, max_length=256)


class VerifyIn(_In):
    token: str = _TOKEN


class VerificationOut(ApiModel):
    user_id: str
    email: str
    email_verified: bool


class PasswordChangeIn(_In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetRequestIn(_In):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)


class Accepted(ApiModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class ResetConfirmIn(_In):
    token: str = _TOKEN
    new_password: str = Field(min_length=1, max_length=1024)


class SessionsEnded(ApiModel):
    sessions_ended: int = Field(ge=0)


# -- invitations ----------------------------------------------------------------------------------
class InvitationIn(_In):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    role: Role


class InvitationOut(ApiModel):
    invitation_id: str
    tenant_id: str
    email: str
    role: Role
    status: Literal["pending", "accepted", "revoked", "expired"]
    invited_by: str
    created_at: str
    expires_at: str
    rev: int


class InvitationList(ApiModel):
    invitations: list[InvitationOut]


class InvitationForMe(InvitationOut):
    tenant_name: str | None = None


class InvitationsForMe(ApiModel):
    invitations: list[InvitationForMe]
