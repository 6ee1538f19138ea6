"""BYOK keys: a tenant's own provider API keys, held by the secrets port, described by a store record.

The key itself lives only in the secrets port (Secret Manager on Google Cloud, the AES-GCM file
locally), one secret per tenant and provider whose versions are its rotations; the store keeps a record
per key (``tenants/{t}/provider_keys/{provider}``: last four characters, fingerprint, the secret version
in use, rev) so lists never touch a secret. Nothing here logs, returns or puts a key in an event or error.

Two systems, no shared transaction: a new version is added first, then the record is written (revision
check and event in one commit). If the record's write fails (a stale rev), the new version is disabled
again, so what a client was refused can never be read. After a rotation the older versions are disabled.
Deleting removes the record (with its event) and then the secret.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from studio.byok import paths
from studio.byok.errors import KEY_MALFORMED
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.secrets import SecretStore
from studio.ports.store import Document, DocumentStore, Query

ADDED, ROTATED, DELETED = "byok.key_added", "byok.key_rotated", "byok.key_deleted"
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


def fingerprint(key: str) -> str:
    # A key is long and random, so a hash prefix names it without revealing it (16 hex digits: 64 bits,
    # enough to tell a tenant's keys apart, far too few to search for the key).
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _view(doc: Document) -> dict[str, Any]:
    data = doc.data
    return {"provider": doc.doc_id, "last4": data["last4"], "fingerprint": data["fingerprint"],
            "version": data["version"], "rev": doc.rev, "created_at": data["created_at"],
            "rotated_at": data.get("rotated_at")}


class ProviderKeys:
    def __init__(self, store: DocumentStore, secrets: SecretStore) -> None:
        self._store = store
        self._secrets = secrets

    def list_keys(self, tenant_id: str) -> dict[str, Any]:
        page = self._store.query(Query(paths.keys(tenant_id), limit=50))
        return {"keys": [_view(doc) for doc in page.docs]}

    def current_rev(self, tenant_id: str, provider: str) -> int:
        """0 when the tenant has no key for the provider: adding one states base_rev 0."""
        doc = self._store.get(paths.key(tenant_id, provider))
        return 0 if doc is None else doc.rev

    def put(self, ctx: RequestContext, provider: str, key: str, base_rev: int) -> dict[str, Any]:
        """Add (base_rev 0) or rotate (the current rev) the tenant's key for ``provider``."""
        if not _PRINTABLE.fullmatch(key):
            raise errors.StudioError(KEY_MALFORMED)
        name = paths.secret_name(ctx.tenant_id, provider)
        path = paths.key(ctx.tenant_id, provider)
        version = self._secrets.put(name, key.encode())
        record = {"last4": key[-4:], "fingerprint": fingerprint(key), "version": version, "updated_by": ctx.user_id}

        def change(before: Document | None) -> dict[str, Any]:
            now = utc_now()
            if before is None:
                return {**record, "created_at": now, "rotated_at": None}
            return {**record, "created_at": before.data["created_at"], "rotated_at": now}

        def event(before: Document | None, after: Document) -> DomainEvent:
            return DomainEvent(ADDED if before is None else ROTATED, ctx.tenant_id, ctx.env, path,
                               {"provider": provider, "fingerprint": record["fingerprint"], "version": version})

        try:
            done = self._store.run_transaction(lambda tx: repository.upsert(tx, path, base_rev, change=change,
                                                                            event=event))
        except BaseException:
            self._secrets.disable(name, version)  # refused: the version written for it must never be read
            raise
        previous = None if done.before is None else int(done.before.data["version"])
        self._disable_older(name, version, since=previous)
        return _view(done.after)

    def delete(self, ctx: RequestContext, provider: str, base_rev: int) -> None:
        path = paths.key(ctx.tenant_id, provider)
        self._store.run_transaction(lambda tx: repository.delete(
            tx, path, base_rev, what="key",
            event=lambda before: DomainEvent(DELETED, ctx.tenant_id, ctx.env, path,
                                             {"provider": provider, "fingerprint": before.data["fingerprint"]})))
        try:
            self._secrets.delete(paths.secret_name(ctx.tenant_id, provider))
        except errors.NotFound:  # a retry after the record went: nothing left to remove
            pass

    def api_key(self, tenant_id: str, provider: str) -> str | None:
        """The tenant's key for ``provider``, for the call about to be made; None when it has none."""
        doc = self._store.get(paths.key(tenant_id, provider))
        if doc is None:
            return None
        try:
            return self._secrets.get(paths.secret_name(tenant_id, provider), int(doc.data["version"])).decode()
        except errors.NotFound:  # deleted between the two reads
            return None

    def _disable_older(self, name: str, current: int, *, since: int | None) -> None:
        # From the version the record named before (earlier ones were disabled by earlier rotations) up to
        # the new one: that covers versions of writes that lost a race or crashed before disabling.
        for version in self._secrets.versions(name):
            if (since is None or version >= since) and version < current:
                try:
                    self._secrets.disable(name, version)
                except errors.NotFound:  # already disabled, or gone
                    continue
