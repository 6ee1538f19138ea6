"""The policy filter as a service (D14): find entities, then allow, redact or block them per the
tenant's policy, at request time, wherever content enters (chat messages, DatasetEvents, tool input and
output, upload metadata).

    privacy_services(deps).policy.apply(tenant_id, env, value, where="chat.message") -> value'
    privacy_services(deps).policy.scan(tenant_id, env, text) -> [ScanFinding, ...]
    privacy_services(deps).policy.check(tenant_id, env, value, where=...)  # the block decision only

``apply`` walks every string inside ``value`` (dict values, lists, tuples; keys are names, left alone),
returns a copy with the ``redact`` entities replaced by ``[REDACTED:<TYPE>]``, or raises
``StudioError(POLICY_BLOCKED)`` naming the blocked entity types and ``where``, never the matched text:
the refusal must not itself leak what it refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.ports.store import DocumentStore
from studio.privacy.errors import POLICY_BLOCKED
from studio.privacy.pii import Finding, PiiType, find_pii, redact
from studio.privacy.policies import Action, Policy, PolicyRepo


@dataclass(frozen=True)
class ScanFinding:
    finding: Finding
    action: Action

    def view(self) -> dict[str, Any]:
        return {"type": str(self.finding.type), "start": self.finding.start, "end": self.finding.end,
                "action": str(self.action)}


class PolicyFilter:
    def __init__(self, store: DocumentStore) -> None:
        self._policies = PolicyRepo(store)

    def policy(self, tenant_id: str, env: str) -> Policy:
        return self._policies.get(tenant_id, env)

    def scan(self, tenant_id: str, env: str, text: str) -> list[ScanFinding]:
        """What ``text`` would trigger under the tenant's policy: entity type, span, action."""
        policy = self.policy(tenant_id, env)
        return [ScanFinding(f, policy.action_for(f.type)) for f in find_pii(text)]

    def apply(self, tenant_id: str, env: str, value: Any, *, where: str) -> Any:
        """``value`` with the policy applied; raises POLICY_BLOCKED (422) when it holds a blocked entity."""
        policy = self.policy(tenant_id, env)
        return apply_policy(policy, value, where=where) if policy.acts else value

    def check(self, tenant_id: str, env: str, value: Any, *, where: str) -> None:
        """Only the block decision: raises POLICY_BLOCKED when ``value`` holds a blocked entity (for callers
        that redact everything anyway, such as the DatasetEvent logger)."""
        policy = self.policy(tenant_id, env)
        if policy.blocks:
            apply_policy(policy, value, where=where)


def apply_policy(policy: Policy, value: Any, *, where: str) -> Any:
    """The pure part of ``PolicyFilter.apply``: one policy, one value."""
    blocked: set[PiiType] = set()
    result = _walk(policy, value, blocked)
    if blocked:
        names = sorted(str(t) for t in blocked)
        raise errors.StudioError(POLICY_BLOCKED, f"{where} holds {', '.join(names)}, which this tenant's policy blocks",
                                 entities=names, where=where)
    return result


def _walk(policy: Policy, value: Any, blocked: set[PiiType]) -> Any:
    if isinstance(value, str):
        return _text(policy, value, blocked)
    if isinstance(value, dict):
        return {key: _walk(policy, item, blocked) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(policy, item, blocked) for item in value]
    if isinstance(value, tuple):
        return tuple(_walk(policy, item, blocked) for item in value)
    return value


def _text(policy: Policy, text: str, blocked: set[PiiType]) -> str:
    findings = find_pii(text)
    if not findings:
        return text  # unchanged, and keeps str subclasses intact
    to_redact: list[Finding] = []
    for finding in findings:
        action = policy.action_for(finding.type)
        if action is Action.BLOCK:
            blocked.add(finding.type)
        elif action is Action.REDACT:
            to_redact.append(finding)
    return redact(text, to_redact) if to_redact else text
