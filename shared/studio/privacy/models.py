"""API shapes of the privacy domain: the tenant's policy, and what a text would trigger."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision

ActionName = Literal["allow", "redact", "block"]
EntityName = Literal["EMAIL", "PHONE", "CARD", "IBAN", "IP_ADDRESS", "SECRET", "DE_IDNR", "FR_NIR", "NL_BSN",
                     "BE_NN", "AT_SVNR", "ES_DNI", "IT_CF", "PL_PESEL"]  # studio.privacy.entities.PiiType


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PolicyIn(_In):
    actions: dict[EntityName, ActionName] = Field(
        description="Action per entity type; a type left out gets the default (allow)")
    base_rev: Revision | None = Field(default=None, description="Or the If-Match header; 0 for the first write")


class PolicyOut(ApiModel):
    actions: dict[EntityName, ActionName] = Field(description="The action for every entity type")
    default: ActionName
    rev: int
    updated_at: str | None


class ScanIn(_In):
    text: str = Field(max_length=200_000)


class ScanFindingOut(ApiModel):
    type: EntityName
    start: int = Field(description="Offset of the first character, in Unicode code points")
    end: int
    action: ActionName


class ScanOut(ApiModel):
    findings: list[ScanFindingOut] = Field(description="Entity type, span and action; never the matched text")
    blocked: bool = Field(description="Whether the policy would refuse this text (422 POLICY_BLOCKED)")
