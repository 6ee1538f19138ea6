"""Seq allocation from two store instances (issue 16): a transaction that loses a race retries.

Chat allocates a message's ``seq`` by reading the thread's counter, writing it +1 and creating the
message at that seq, in one transaction. Two instances of the same store (two function instances)
allocating at once must each get a distinct seq, and neither may see ALREADY_EXISTS: a create that
collides because the counter read was stale is contention, to be retried, not an answer.

Every adapter runs this through a ``store`` fixture and a ``second_store`` fixture: another
instance (own connection or client) over the same data.
"""
from __future__ import annotations

import threading
from typing import Any

COUNTER = "threads/t"


def _message(seq: int) -> str:
    return f"threads/t/messages/{seq:012d}"


def allocate(tx: Any, author: str) -> int:
    counter = tx.get(COUNTER)
    seq = (counter.data["last_seq"] if counter else 0) + 1
    tx.put(COUNTER, {"last_seq": seq})
    tx.create(_message(seq), {"seq": seq, "author": author})
    return seq


class SeqRaceContract:
    def test_a_stale_counter_read_is_retried_not_answered(self, store: Any, second_store: Any) -> None:
        """A reads the counter (2) and buffers 3; B commits message 3 before A creates it.

        Where the store lets B in (Firestore: optimistic), A's create collides and must run again
        with a fresh read; where B waits for A's lock (SQLite), B runs after A. Either way both
        posts succeed with seqs 3 and 4."""
        store.put(COUNTER, {"last_seq": 2})
        other: list[Any] = []
        attempts: list[int] = []

        def b_commits() -> None:
            try:
                other.append(second_store.run_transaction(lambda tx: allocate(tx, "b")))
            except Exception as exc:  # noqa: BLE001 - the assertion below reports it
                other.append(exc)

        b = threading.Thread(target=b_commits)

        def a_fn(tx: Any) -> int:
            attempts.append(1)
            counter = tx.get(COUNTER)
            seq = counter.data["last_seq"] + 1
            tx.put(COUNTER, {"last_seq": seq})
            if len(attempts) == 1:
                b.start()
                b.join(timeout=1.0)  # a store that serialises writers keeps B waiting on our lock
            tx.create(_message(seq), {"seq": seq, "author": "a"})
            return seq

        a_seq = store.run_transaction(a_fn)
        b.join(timeout=30)
        assert not b.is_alive()
        assert len(other) == 1 and isinstance(other[0], int), other
        assert sorted([a_seq, other[0]]) == [3, 4]
        assert store.get(COUNTER).data["last_seq"] == 4
        assert {store.get(_message(s)).data["author"] for s in (3, 4)} == {"a", "b"}
        self.check_attempts(len(attempts))

    def check_attempts(self, attempts: int) -> None:
        """Adapters may say how the race played out (Firestore: A ran twice)."""

    def test_many_writers_on_two_instances_get_distinct_seqs(self, store: Any, second_store: Any) -> None:
        seqs: list[int] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def writer(s: Any, name: str) -> None:
            for _ in range(6):
                try:
                    seq = s.run_transaction(lambda tx: allocate(tx, name))
                except Exception as exc:  # noqa: BLE001 - every failure is reported below
                    with lock:
                        failures.append(exc)
                else:
                    with lock:
                        seqs.append(seq)

        threads = [threading.Thread(target=writer, args=(s, f"{i}"))
                   for i, s in enumerate([store, second_store, store, second_store])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures
        assert sorted(seqs) == list(range(1, 25))
        assert store.get(COUNTER).data["last_seq"] == 24
