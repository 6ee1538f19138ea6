"""Upload metadata (file names, titles, tags, alt text) through the tenant's privacy policy
(redact or block, per entity type) before it is stored: names are written by people, and
people type their e-mail address and phone number into them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.kernel import errors
from studio.kernel.deps import Deps
from studio.privacy.errors import POLICY_BLOCKED


def filtered(deps: Deps, tenant_id: str, env: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the policy applied to every string (None values pass untouched);
    raises POLICY_BLOCKED (422) when one holds an entity the tenant blocks."""
    present = {k: v for k, v in fields.items() if v is not None}
    if not present:
        return dict(fields)
    from studio.privacy.services import privacy_services  # the policy's recognisers load with the first write

    cleaned = privacy_services(deps).policy.apply(tenant_id, env, present, where="media.metadata")
    return {**fields, **cleaned}


def extracted_filter(deps: Deps) -> Callable[[str, str, dict[str, Any]], dict[str, Any]]:
    """The policy for metadata read out of a file (a PDF's title and author) by the ingest worker:
    redacted as the policy says, and withheld (None, ``withheld: True``) where it blocks, since there
    is no request to refuse: failing the asset over its author's e-mail would lose the document."""

    def apply(tenant_id: str, env: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return filtered(deps, tenant_id, env, fields)
        except errors.StudioError as exc:
            if exc.code != POLICY_BLOCKED:
                raise
            return {**{key: None for key in fields}, "withheld": True}

    return apply
