"""Move the three public key stores into the kernel's one (docs/decisions/0095-site-keys.md).

Before: analytics write keys under ``analytics_write_keys/<sha256>``, OFREP SDK keys under
``sdk_key_digests/<sha256>`` (a revoked key's lookup was deleted), font site keys under
``font_site_keys/<the key itself>``. After: one record per key under ``site_keys/<sha256>`` with its
scope (kernel/site_keys.py); a font key also gets the tenant listing its admins revoke it by, and its
plaintext document is gone. Each key moves in one transaction (record created, legacy document
deleted), so the run can stop anywhere and be run again.

    python -m infra.migrations.site_keys_0095      # against the store STUDIO_* settings name
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from studio.fonts import paths as font_paths
from studio.kernel.clock import utc_now
from studio.kernel.site_keys import SiteKeyGrant, digest, issue, record_path
from studio.ports.store import Document, DocumentStore, Query, Transaction

ANALYTICS = "analytics_write_keys"
EXPERIMENTS = "sdk_key_digests"
FONTS = "font_site_keys"


def _legacy(store: DocumentStore, collection: str) -> Iterator[Document]:
    cursor = None
    while True:
        page = store.query(Query(collection, limit=200, cursor=cursor))
        yield from page.docs
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _record(tx: Transaction, secret_digest: str, grant: SiteKeyGrant, revoked: bool) -> None:
    """``site_keys.issue`` for a key known only by its digest (the secret was never stored)."""
    if tx.get(record_path(secret_digest)) is None:
        tx.create(record_path(secret_digest), {
            "scope": grant.scope, "tenant_id": grant.tenant_id, "env": grant.env, "key_id": grant.key_id,
            "subject": dict(grant.subject), "revoked": revoked, "created_at": utc_now()})


def _move_analytics(doc: Document) -> Callable[[Transaction], None]:
    d = doc.data

    def move(tx: Transaction) -> None:
        grant = SiteKeyGrant("analytics.ingest", d["tenant_id"], d["env"], d["key_id"], {"site_id": d["site_id"]})
        _record(tx, doc.doc_id, grant, bool(d.get("revoked")))
        tx.delete(doc.path)

    return move


def _move_experiments(doc: Document) -> Callable[[Transaction], None]:
    d = doc.data

    def move(tx: Transaction) -> None:
        _record(tx, doc.doc_id, SiteKeyGrant("experiments.evaluate", d["tenant_id"], d["env"], d["key_id"]), False)
        tx.delete(doc.path)

    return move


def _move_font(doc: Document) -> Callable[[Transaction], None]:
    d, key = doc.data, doc.doc_id
    # A stable id: a run stopped after this key's commit and run again finds the same listing.
    key_id = "fsk_" + hashlib.sha256(("fsk\x00" + key).encode()).hexdigest()[:16]

    def move(tx: Transaction) -> None:
        listing = font_paths.site_key(d["tenant_id"], d["env"], key_id)
        if tx.get(listing) is None:
            tx.create(listing, {"prefix": key[:7], "digest": digest(key), "revoked": False,
                                "created_at": d.get("created_at") or utc_now(), "created_by": d.get("created_by")})
        if tx.get(record_path(digest(key))) is None:
            issue(tx, key, SiteKeyGrant("fonts.css", d["tenant_id"], d["env"], key_id))
        tx.delete(doc.path)

    return move


def migrate(store: DocumentStore) -> dict[str, int]:
    """Move every legacy key; how many of each moved."""
    moved = {ANALYTICS: 0, EXPERIMENTS: 0, FONTS: 0}
    for collection, mover in ((ANALYTICS, _move_analytics), (EXPERIMENTS, _move_experiments), (FONTS, _move_font)):
        for doc in list(_legacy(store, collection)):
            store.run_transaction(mover(doc))
            moved[collection] += 1
    return moved


def main() -> None:
    from studio.bootstrap import bootstrap

    print(migrate(bootstrap().store))  # noqa: T201 - a command's report


if __name__ == "__main__":
    main()
