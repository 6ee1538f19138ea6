"""Durable training preferences: may a user's DatasetEvents be used to train models?

One document per user per tenant and env, ``tenants/{t}/envs/{e}/training_prefs/{user_id}``,
revisioned like every mutable resource (BLUEPRINT 3). Preconditions:

* Every write states the revision it is based on (``If-Match`` or ``base_rev``); none -> 428.
  This holds for the first write too: a never-set preference reads as ``rev`` 0 (with
  ``ETag: "0"``), and ``base_rev`` 0 means "create, it must not exist yet". One rule for
  every write, so two tabs answering the consent prompt at once cannot both win.
* A stale revision -> REVISION_CONFLICT with ``current_rev`` (409 for base_rev, 412 for If-Match).
* Each change emits ``privacy.training_prefs_changed`` through the outbox in the same commit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from studio.kernel import repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.kernel.paths import tenant_collection
from studio.ports.store import Document, DocumentStore

if TYPE_CHECKING:  # imported where a preference is shown (decision 0097)
    from studio.events.models import TrainingPrefs

COLLECTION = "training_prefs"
CHANGED = "privacy.training_prefs_changed"

# Privacy-safe default: no answer is no consent. Consent must be an affirmative act (GDPR
# Art. 4(11), Recital 32: silence or inactivity is not consent), and the two errors are not
# symmetric: wrongly leaving an event out loses one training sample, wrongly putting it in
# cannot be undone once a model has learned from it. Events with no user also get False.
DEFAULT_TRAIN_OK = False


def prefs_path(tenant_id: str, env: str, user_id: str) -> str:
    return f"{tenant_collection(tenant_id, env, COLLECTION)}/{user_id}"


def _view(user_id: str, doc: Document | None) -> TrainingPrefs:
    from studio.events.models import TrainingPrefs

    if doc is None:
        return TrainingPrefs(user_id=user_id, train_ok=DEFAULT_TRAIN_OK, rev=0, updated_at=None, source="default")
    return TrainingPrefs(user_id=user_id, train_ok=bool(doc.data.get("train_ok", DEFAULT_TRAIN_OK)), rev=doc.rev,
                         updated_at=doc.update_time, source="user")


class TrainingPrefsRepo:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, tenant_id: str, env: str, user_id: str) -> TrainingPrefs:
        return _view(user_id, self._store.get(prefs_path(tenant_id, env, user_id)))

    def train_ok(self, tenant_id: str, env: str, user_id: str | None) -> bool:
        """The value a new DatasetEvent gets: the user's stored choice, else the default."""
        if user_id is None:
            return DEFAULT_TRAIN_OK
        return self.get(tenant_id, env, user_id).train_ok

    def set_prefs(self, ctx: RequestContext, train_ok: bool, base_rev: int) -> TrainingPrefs:
        """The caller's own preference; ``base_rev`` 0 creates it."""
        user_id = ctx.user_id
        path = prefs_path(ctx.tenant_id, ctx.env, user_id)

        # upsert: a missing document with base_rev > 0 is a conflict at rev 0 (the client's view
        # is stale), not a 404.
        done = self._store.run_transaction(lambda tx: repository.upsert(
            tx, path, base_rev, change=lambda _: {"user_id": user_id, "train_ok": train_ok, "updated_at": utc_now()},
            event=lambda _, after: DomainEvent(CHANGED, ctx.tenant_id, ctx.env, path,
                                               {"user_id": user_id, "train_ok": train_ok, "rev": after.rev})))
        return _view(user_id, done.after)
