"""The document-store contract. Every adapter (SQLite now, Firestore next) runs this suite
through a ``store`` fixture returning a fresh, empty store."""
from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

from studio.kernel import errors
from studio.ports.store import Filter, OutboxMessage, Query, iter_all


class StoreContract:
    def test_create_get_put_delete_with_revisions(self, store: Any) -> None:
        doc = store.create("things/a", {"n": 1})
        assert doc.rev == 1 and doc.data == {"n": 1} and doc.doc_id == "a"
        with pytest.raises(errors.AlreadyExists):
            store.create("things/a", {"n": 2})
        assert store.put("things/a", {"n": 2}, expected_rev=1).rev == 2
        with pytest.raises(errors.RevisionConflict) as conflict:
            store.put("things/a", {"n": 3}, expected_rev=1)
        assert conflict.value.current_rev == 2
        assert store.get("things/a").data == {"n": 2}
        store.delete("things/a", expected_rev=2)
        assert store.get("things/a") is None

    def test_expected_rev_zero_means_must_not_exist(self, store: Any) -> None:
        assert store.put("things/new", {"x": 1}, expected_rev=0).rev == 1
        with pytest.raises(errors.RevisionConflict):
            store.put("things/new", {"x": 2}, expected_rev=0)

    def test_get_many_returns_documents_in_the_order_asked(self, store: Any) -> None:
        store.put("items/a", {"n": 1})
        store.put("items/c", {"n": 3})
        docs = store.get_many(["items/c", "items/b", "items/a"])
        assert [d.data["n"] if d else None for d in docs] == [3, None, 1]
        assert docs[0].rev == 1 and store.get_many([]) == []
        many = [f"bulk/{i:04d}" for i in range(600)]  # past SQLite's bound-parameter batches
        for path in many[::100]:
            store.put(path, {"p": path})
        got = store.get_many(many)
        assert [d.path for d in got if d] == many[::100]
        with pytest.raises(errors.StudioError):
            store.get_many(["not-a-document"])

    def test_invalid_paths_are_refused(self, store: Any) -> None:
        for bad in ("things", "things/a/b", "things/../a", "things/__x__", ""):
            with pytest.raises(errors.StudioError):
                store.put(bad, {})

    def test_transaction_is_atomic(self, store: Any) -> None:
        store.put("acc/a", {"v": 10})

        def fail(tx: Any) -> None:
            tx.put("acc/a", {"v": 0})
            tx.put("acc/b", {"v": 10})
            raise errors.StudioError(errors.BAD_REQUEST, "abort")

        with pytest.raises(errors.StudioError):
            store.run_transaction(fail)
        assert store.get("acc/a").data == {"v": 10} and store.get("acc/b") is None

    def test_outbox_is_written_only_on_commit(self, store: Any) -> None:
        def ok(tx: Any) -> None:
            tx.put("o/a", {})
            tx.emit(OutboxMessage("m1", "topic", b"{}", {"type": "x"}))

        def bad(tx: Any) -> None:
            tx.emit(OutboxMessage("m2", "topic", b"{}"))
            raise errors.StudioError(errors.BAD_REQUEST, "abort")

        store.run_transaction(ok)
        with pytest.raises(errors.StudioError):
            store.run_transaction(bad)
        pending = store.outbox_pending()
        assert [m.id for m in pending] == ["m1"] and pending[0].attributes == {"type": "x"}
        store.outbox_done(["m1"])
        assert store.outbox_pending() == []

    def test_query_filters_order_limit_and_cursor(self, store: Any) -> None:
        for i in range(25):
            store.put(f"items/i{i:02d}", {"n": i, "even": i % 2 == 0, "tags": ["t" + str(i % 3)]})
        store.put("other/x", {"n": 1})
        page = store.query(Query("items", [Filter("even", "==", True)], [("n", "desc")], limit=5))
        assert [d.data["n"] for d in page.docs] == [24, 22, 20, 18, 16] and page.next_cursor
        rest = list(iter_all(store, Query("items", [Filter("even", "==", True)], [("n", "desc")], limit=5)))
        assert [d.data["n"] for d in rest] == list(range(24, -1, -2))
        assert [d.data["n"] for d in store.query(Query("items", [Filter("n", ">=", 20), Filter("n", "<", 23)],
                                                        [("n", "asc")])).docs] == [20, 21, 22]
        assert {d.data["n"] for d in store.query(Query("items", [Filter("n", "in", [1, 3, 99])])).docs} == {1, 3}
        tagged = store.query(Query("items", [Filter("tags", "array_contains", "t1")], [("n", "asc")])).docs
        assert [d.data["n"] for d in tagged] == [1, 4, 7, 10, 13, 16, 19, 22]

    def test_query_leaves_out_documents_missing_the_order_field(self, store: Any) -> None:
        store.put("mix/a", {"n": 1})
        store.put("mix/b", {"other": True})
        assert [d.doc_id for d in store.query(Query("mix", order_by=[("n", "asc")])).docs] == ["a"]

    def test_bad_cursor_is_a_400(self, store: Any) -> None:
        with pytest.raises(errors.StudioError) as err:
            store.query(Query("items", order_by=[("n", "asc")], cursor="garbage!!"))
        assert err.value.status == 400

    def test_page_tokens_are_client_input_and_checked(self, store: Any) -> None:
        store.put("items/a", {"n": 1})
        forged = [[1e308 * 10], [2**63, "a"], "[" * 5000, "NaN", [float("nan"), "a"]]
        for values in forged:
            raw = values if isinstance(values, str) else json.dumps(values)
            token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            with pytest.raises(errors.StudioError) as err:
                store.query(Query("items", order_by=[("n", "asc")], cursor=token))
            assert err.value.status == 400, values

    def test_non_finite_numbers_are_refused(self, store: Any) -> None:
        for bad in (float("nan"), float("inf"), [1, {"x": float("-inf")}]):
            with pytest.raises(errors.StudioError) as err:
                store.put("things/nan", {"v": bad})
            assert err.value.code is errors.INVALID_JSON
        assert store.get("things/nan") is None

    def test_concurrent_increments_lose_nothing(self, store: Any) -> None:
        store.put("counter/c", {"n": 0})

        def bump() -> None:
            for _ in range(25):
                def inc(tx: Any) -> None:
                    doc = tx.get("counter/c")
                    tx.put("counter/c", {"n": doc.data["n"] + 1}, expected_rev=doc.rev)
                store.run_transaction(inc)

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        doc = store.get("counter/c")
        assert doc.data["n"] == 100 and doc.rev == 101


class FeedContract:
    """The global change feed (``changes``/``wait_for_change``): the embedded store's. Firestore has
    no global change log; its feed is ``watch`` (WatchContract)."""

    def test_change_feed_by_prefix_in_commit_order(self, store: Any) -> None:
        start = store.changes("", 0)[-1].seq if store.changes("", 0) else 0
        store.put("tenants/t_a/envs/dev/threads/x", {"v": 1})
        store.put("tenants/t_b/envs/dev/threads/y", {"v": 1})
        store.put("tenants/t_a/envs/dev/threads/x", {"v": 2})
        store.delete("tenants/t_a/envs/dev/threads/x")
        feed = store.changes("tenants/t_a", start)
        assert [(c.op, c.rev) for c in feed] == [("put", 1), ("put", 2), ("delete", 3)]
        assert feed[1].data == {"v": 2} and all(c.path.startswith("tenants/t_a/") for c in feed)
        assert store.changes("tenants/t_", start) == []  # a prefix is whole segments, not a string prefix
        assert [c.seq for c in store.changes("tenants/t_a", feed[0].seq)] == [feed[1].seq, feed[2].seq]

    def test_wait_for_change_wakes_on_a_write(self, store: Any) -> None:
        latest = store.wait_for_change(0, 0)
        timer = threading.Timer(0.05, lambda: store.put("w/a", {}))
        timer.start()
        assert store.wait_for_change(latest, 5.0) > latest
        timer.join()


class WatchContract:
    """Listeners on a collection: every later change of its direct documents, in order."""

    def test_watch_delivers_changes_in_order_and_stops_on_close(self, store: Any) -> None:
        import time

        seen: list[tuple[str, str, Any]] = []
        store.put("feeds/f1/items/old", {"v": 0})  # before the watch: not delivered
        watch = store.watch("feeds/f1/items", lambda c: seen.append((c.path.rsplit("/", 1)[-1], c.op, c.data)))
        try:
            store.put("feeds/f1/items/a", {"v": 1})
            store.put("feeds/f2/items/x", {"v": 9})  # another collection
            store.put("feeds/f1/items/a/sub/deep", {"v": 8})  # a subcollection, not a direct child
            store.put("feeds/f1/items/a", {"v": 2})
            store.delete("feeds/f1/items/a")
            deadline = time.monotonic() + 10
            while len(seen) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            watch.close()
        assert seen == [("a", "put", {"v": 1}), ("a", "put", {"v": 2}), ("a", "delete", None)]
        store.put("feeds/f1/items/b", {"v": 3})
        time.sleep(0.2)
        assert len(seen) == 3
