"""API shapes of the cloud probes: one shape for every provider (gcp, aws), ok or not with the reason."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from studio.kernel.api_model import ApiModel


class IdentityProbe(ApiModel):
    provider: Literal["gcp", "aws"]
    ok: bool
    identity: str | None = Field(description='Who the runtime runs as: a service account, an ARN, or "local"')
    source: str | None = Field(description="Where it was read: metadata-server, adc, environment, local")
    project: str | None
    reason: str | None = Field(description="Why ok is false; null when ok")
    checked_at: str


class BillingProbe(ApiModel):
    provider: Literal["gcp", "aws"]
    ok: bool = Field(description="Whether billing data was reachable; false with the reason otherwise")
    billing_enabled: bool | None
    billing_account: str | None
    reason: str | None
    checked_at: str
