"""The explicit table of command types (CAPABILITIES C10): each names its payload model, least role and
handler. No pydantic here: the envelope and result models are in kernel/commands.py (decision 0097)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.kernel.roles import Role

if TYPE_CHECKING:
    from pydantic import BaseModel

    from studio.kernel.deps import Deps


@dataclass(frozen=True)
class CommandOutcome:
    new_rev: int
    events: list[dict[str, str]] = field(default_factory=list)


Handler = Callable[["Deps", RequestContext, str, int, Any], CommandOutcome]


@dataclass(frozen=True)
class CommandType:
    name: str
    target_kind: str
    payload: type[BaseModel]
    role: Role
    handler: Handler  # (deps, ctx, target_id, base_rev, payload) -> outcome
    summary: str = ""


class CommandRegistry:
    """``types``: the table, or a function that gives it on first use (every domain's command module
    imports its payload models: a function that holds the registry for a rare route, governance's
    three-wise questions, need not pay that on its first request)."""

    def __init__(self, types: Iterable[CommandType] | Callable[[], Iterable[CommandType]]) -> None:
        self._source = types
        self._table: dict[str, CommandType] | None = None

    @property
    def _types(self) -> dict[str, CommandType]:
        if self._table is None:
            source = self._source() if callable(self._source) else self._source
            self._table = {t.name: t for t in source}
        return self._table

    def get(self, name: str) -> CommandType:
        try:
            return self._types[name]
        except KeyError:
            raise errors.StudioError(errors.UNKNOWN_COMMAND_TYPE, f"unknown command type {name!r}") from None

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"type": t.name, "target_kind": t.target_kind, "role": t.role.value, "summary": t.summary,
             "payload_schema": t.payload.model_json_schema()}
            for t in sorted(self._types.values(), key=lambda t: t.name)
        ]
