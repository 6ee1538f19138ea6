"""The idempotency journal on every store adapter: a keyed request's transactions commit with
its key, a retry replays what committed instead of repeating it, and a superseded attempt can
commit nothing more (docs/decisions/0020). Mixed into each adapter's contract test class."""
from __future__ import annotations

from typing import Any

import pytest

from studio.kernel import errors
from studio.kernel.idempotency import LEASE_S, IdempotencyKeys, StoredResponse
from studio.kernel.tx_journal import Journal, journaling
from studio.ports.store import Query


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _post(store: Any, journal: Journal | None, text: str) -> dict[str, Any]:
    """A handler's shape: one transaction that mints an id and writes, then a reply built from it."""

    def write(tx: Any) -> dict[str, Any]:
        count = len(tx.query(Query("notes")).docs)
        note = {"id": f"n{count + 1}", "text": text}
        tx.create(f"notes/{note['id']}", note)
        return note

    with journaling(journal):
        return {"note": store.run_transaction(write)}


class JournalContract:
    def test_a_retry_after_a_crash_replays_the_committed_effect(self, store: Any) -> None:
        clock = Clock()
        keys = IdempotencyKeys(store, clock)
        first = keys.begin("scope", "k1", "fp")
        assert isinstance(first, Journal)
        reply = _post(store, first, "hello")  # committed with its journal entry ... then the process dies
        with pytest.raises(errors.StudioError) as busy:  # within the lease: a twin is told to wait
            keys.begin("scope", "k1", "fp")
        assert busy.value.code is errors.IDEMPOTENCY_KEY_IN_USE and int(busy.value.headers["Retry-After"]) <= LEASE_S

        clock.now += LEASE_S + 1
        retry = keys.begin("scope", "k1", "fp")
        assert isinstance(retry, Journal)
        assert _post(store, retry, "hello") == reply  # the same reply, rebuilt from the journal
        assert retry.replayed == 1
        assert [d.data for d in store.query(Query("notes")).docs] == [{"id": "n1", "text": "hello"}]  # once
        keys.complete(retry, StoredResponse(201, {}, "done"))
        assert keys.begin("scope", "k1", "fp") == StoredResponse(201, {}, "done")

    def test_an_attempt_that_committed_nothing_is_simply_run_again(self, store: Any) -> None:
        clock = Clock()
        keys = IdempotencyKeys(store, clock)
        assert isinstance(keys.begin("scope", "k2", "fp"), Journal)  # claimed, then died before writing
        clock.now += LEASE_S + 1
        retry = keys.begin("scope", "k2", "fp")
        assert isinstance(retry, Journal)
        assert _post(store, retry, "x") == {"note": {"id": "n1", "text": "x"}} and retry.replayed == 0

    def test_a_superseded_attempt_cannot_commit(self, store: Any) -> None:
        clock = Clock()
        keys = IdempotencyKeys(store, clock)
        slow = keys.begin("scope", "k3", "fp")
        assert isinstance(slow, Journal)
        clock.now += LEASE_S + 1
        fast = keys.begin("scope", "k3", "fp")
        assert isinstance(fast, Journal)
        assert _post(store, fast, "x") == {"note": {"id": "n1", "text": "x"}}
        with pytest.raises(errors.StudioError) as taken:
            _post(store, slow, "x")
        assert taken.value.code is errors.IDEMPOTENCY_KEY_IN_USE
        keys.complete(slow, StoredResponse(409, {}, "late"))  # changes nothing: the record is the other's
        keys.complete(fast, StoredResponse(201, {}, "first"))
        assert keys.begin("scope", "k3", "fp") == StoredResponse(201, {}, "first")
        assert len(store.query(Query("notes")).docs) == 1

    def test_a_5xx_after_an_effect_releases_the_key_but_keeps_the_effect(self, store: Any) -> None:
        keys = IdempotencyKeys(store, Clock())
        attempt = keys.begin("scope", "k4", "fp")
        assert isinstance(attempt, Journal)
        reply = _post(store, attempt, "x")
        keys.complete(attempt, StoredResponse(500, {}, ""))  # e.g. a later step failed unexpectedly
        retry = keys.begin("scope", "k4", "fp")  # at once: no lease left to wait for
        assert isinstance(retry, Journal) and _post(store, retry, "x") == reply
        assert len(store.query(Query("notes")).docs) == 1

    def test_a_5xx_before_any_effect_forgets_the_key(self, store: Any) -> None:
        keys = IdempotencyKeys(store, Clock())
        attempt = keys.begin("scope", "k5", "fp")
        assert isinstance(attempt, Journal)
        keys.complete(attempt, StoredResponse(503, {}, ""))
        assert store.query(Query("idempotency")).docs == []

    def test_outside_a_keyed_request_nothing_is_journaled(self, store: Any) -> None:
        _post(store, None, "x")
        _post(store, None, "x")
        assert len(store.query(Query("notes")).docs) == 2 and store.query(Query("idempotency")).docs == []

    def test_stable_tokens_repeat_across_attempts_and_differ_within_one(self, store: Any) -> None:
        """A bus publish (a DatasetEvent) takes its id from here: every attempt of a keyed request
        publishes the same ids, so the consumer's dedupe stores each once."""
        clock = Clock()
        keys = IdempotencyKeys(store, clock)
        first = keys.begin("scope", "k6", "fp")
        assert isinstance(first, Journal)
        ids = [first.stable_token("dataset_event"), first.stable_token("dataset_event"), first.stable_token("other")]
        assert len(set(ids)) == 3
        clock.now += LEASE_S + 1
        retry = keys.begin("scope", "k6", "fp")
        assert isinstance(retry, Journal) and retry.attempt != first.attempt
        assert [retry.stable_token("dataset_event"), retry.stable_token("dataset_event"), retry.stable_token("other")] == ids
        other_key = keys.begin("scope", "k7", "fp")
        assert isinstance(other_key, Journal) and other_key.stable_token("dataset_event") != ids[0]

    def test_single_document_writes_are_journaled_too(self, store: Any) -> None:
        keys = IdempotencyKeys(store, Clock())
        attempt = keys.begin("scope", "k8", "fp")
        assert isinstance(attempt, Journal)
        with journaling(attempt):
            created = store.create("notes/solo", {"v": 1})
        keys.complete(attempt, StoredResponse(500, {}, ""))  # failed after the write: released, journal kept
        retry = keys.begin("scope", "k8", "fp")
        assert isinstance(retry, Journal)
        with journaling(retry):
            again = store.create("notes/solo", {"v": 1})  # run for real, this would be AlreadyExists
        assert again == created and retry.replayed == 1
