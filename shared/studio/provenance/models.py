"""API shapes of the provenance domain: the record producers send (in their events' ``provenance``
object, or through ``append_entry``), the entries, the lineage graph, the verification and C2PA reports."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, StrictInt, UtcDatetime
from studio.provenance.ids import ID_PATTERN

SHA256_PATTERN = r"^[0-9a-f]{64}$"
Action = Literal["upload", "derive", "edit", "delete", "register", "render", "ai"]
ActorType = Literal["user", "agent", "tool", "system"]
SubjectKind = Literal["asset", "artifact"]
MAX_REFS = 64
MAX_PARAMS_BYTES = 16 * 1024


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True, allow_inf_nan=False)


class Actor(_In):
    type: ActorType
    id: str = Field(pattern=ID_PATTERN)


class Subject(_In):
    kind: SubjectKind
    id: str = Field(pattern=ID_PATTERN)


class Ref(_In):
    """An input or output: what it is, its id, and its content hash. An output may name its stored
    file (``blob``: the object name in the tenant's bucket of role ``bucket``), so its C2PA manifest
    can be read back."""

    kind: str = Field(pattern=r"^[a-z][a-z_]{1,31}$")
    id: str = Field(pattern=ID_PATTERN)
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    blob: str | None = Field(default=None, min_length=1, max_length=1024)
    bucket: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{1,62}$")
    mime: str | None = Field(default=None, pattern=r"^[a-z]+/[A-Za-z0-9.+-]{1,100}$")

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ProvenanceRecord(_In):
    """One action to record: the ``provenance`` object of a domain event, or ``append_entry``'s argument."""

    action: Action
    actor: Actor
    subject: Subject
    inputs: list[Ref] = Field(default_factory=list, max_length=MAX_REFS)
    params: dict[str, Any] = Field(default_factory=dict)
    outputs: list[Ref] = Field(default_factory=list, max_length=MAX_REFS)

    @field_validator("params")
    @classmethod
    def _small_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        import json

        if len(json.dumps(value, separators=(",", ":"), default=str)) > MAX_PARAMS_BYTES:
            raise ValueError(f"params are limited to {MAX_PARAMS_BYTES} bytes of JSON")
        return value


class EntryOut(ApiModel):
    seq: int
    time: str
    action: str
    actor: dict[str, Any]
    subject: dict[str, Any]
    inputs: list[dict[str, Any]]
    params: dict[str, Any]
    outputs: list[dict[str, Any]]
    source_event_id: str | None
    prev_hash: str
    hash: str


class EntryQuery(ApiModel):
    """Filters of GET /provenance/entries: newest first. Times are RFC 3339 with an offset; ``until``
    is exclusive."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    subject: str | None = Field(default=None, pattern=ID_PATTERN, description="The subject's id")
    action: Action | None = None
    actor: str | None = Field(default=None, pattern=ID_PATTERN, description="The actor's id")
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    limit: StrictInt = Field(default=50, ge=1, le=500)
    page_token: PageToken | None = None

    @model_validator(mode="after")
    def _range(self) -> EntryQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class EntryPage(ApiModel):
    entries: list[EntryOut]
    next_page_token: str | None = None


class LineageQuery(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    direction: Literal["up", "down", "both"] = "both"


class LineageNode(ApiModel):
    id: str
    kind: str
    sha256: str | None = None


class LineageEdge(ApiModel):
    # "from" is a Python keyword: the fields serialise under their aliases (the API dumps by alias).
    source: str = Field(serialization_alias="from", description="The input's id (made from)")
    target: str = Field(serialization_alias="to", description="The output's id (made)")
    action: str
    seq: int


class Lineage(ApiModel):
    root: str
    direction: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    entries: list[int] = Field(description="The seqs of the ledger entries the graph was read from")
    truncated: bool = Field(description="True when the graph was cut at its node or depth limit")


class Verification(ApiModel):
    ok: bool
    length: int = Field(description="Entries checked (the chain's length when ok)")
    head: str | None = Field(description="The head's hash (null for an empty ledger)")
    first_bad: int | None = Field(description="The seq of the first entry that fails, null when ok")
    reason: str | None = Field(default=None, description="Why first_bad fails")


class C2paIssue(ApiModel):
    code: str
    explanation: str


class C2paReport(ApiModel):
    artifact_id: str
    mime: str
    sha256: str = Field(description="The sha256 of the file as read now")
    sha256_matches_ledger: bool | None = Field(description="Whether it equals the ledger's (null: the ledger has none)")
    validation_state: str = Field(description="Trusted, Valid or Invalid, as c2pa-python reads it")
    manifest_location: Literal["embedded", "sidecar"] = Field(
        default="embedded", description="In the file, or a sidecar manifest store beside it (formats c2pa cannot embed in: WebM)")
    manifest: dict[str, Any]
    errors: list[C2paIssue]
