"""``STUDIO_GATEWAY_PROCESSES=2``: the runtime as two processes on one port. A client on each sees
the same messages in the same order, a stream cut on one resumes exactly on the other, presence
and typing agree, and a kill -9 of one loses no acknowledged message while its presence entries
expire in the stated time (3 heartbeats + 1)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_fleet import (
    Fleet,
    created_seqs,
    new_room,
    owned_thread,
    post_message,
    two_processes,
)
from tests.support.realtime_clients import SseReader, ws_until

pytestmark = pytest.mark.slow


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Fleet]:
    yield from two_processes(tmp_path / "data")


def test_two_processes_agree_on_order_and_resume_across(two: Fleet) -> None:
    owner, tenant, thread_id = owned_thread(two, "Fleet")
    headers = owner.in_tenant(tenant)
    with httpx.Client(base_url=two.url(0), timeout=30) as c0, httpx.Client(base_url=two.url(1), timeout=30) as c1:
        on0 = SseReader(c0, f"/sse/chat/{thread_id}?since=0", headers)
        on1 = SseReader(c1, f"/sse/chat/{thread_id}?since=0", headers)
        seqs = [post_message(two.url(i % 2), owner, tenant, thread_id, f"message {i}") for i in range(6)]
        for reader in (on0, on1):
            reader.wait_for(lambda evs: set(seqs) <= set(created_seqs(evs))
                            and sum(e.event == "message.completed" for e in evs) >= 6, timeout=30)
        # The same messages in the same order, whichever process wrote them or serves the stream.
        ids0 = [e.id for e in on0.events if e.id]
        ids1 = [e.id for e in on1.events if e.id]
        common = min(len(ids0), len(ids1))
        assert ids0[:common] == ids1[:common]
        assert created_seqs(on0.events)[:common] == created_seqs(on1.events)[:common]
        # Cut the stream on process 0, write more, resume on process 1 from the last id seen.
        cut_at = on0.last_id
        seen_before = list(on0.events)
        on0.close()
        later = [post_message(two.url(0), owner, tenant, thread_id, f"later {i}") for i in range(2)]
        resumed = SseReader(c1, f"/sse/chat/{thread_id}", {**headers, "Last-Event-ID": str(cut_at)})
        resumed.wait_for(lambda evs: set(later) <= set(created_seqs(evs)), timeout=30)
        on1.wait_for(lambda evs: set(later) <= set(created_seqs(evs)), timeout=30)
        resumed.close()
        on1.close()
    # Exact resume: nothing seen before the cut again, nothing after it missed. Event ids are cursors
    # (a resumed stream's replay folds a reply's deltas, so its ids differ): compare the messages.
    ids1 = [e.id for e in on1.events]
    after_cut = on1.events[ids1.index(str(cut_at)) + 1:]
    assert not set(created_seqs(seen_before)) & set(created_seqs(resumed.events))
    assert created_seqs(resumed.events) == created_seqs(after_cut)[:len(created_seqs(resumed.events))]
    assert set(later) <= set(created_seqs(resumed.events))


def test_presence_and_typing_agree_and_a_killed_instance_expires(two: Fleet) -> None:
    room = new_room(two.url(0), "Fleet presence")
    owner, friend, tenant, thread_id = room.owner, room.friend, room.tenant, room.thread_id
    with ExitStack() as stack:
        a, b = two.meet_across(room, stack)
        # Process 1 learns of the owner from a roster (answering its hello) or the join itself.
        a.send(json.dumps({"type": "typing", "active": False}))
        seen_by_b = ws_until(b, lambda fs: fs[-1]["type"] == "typing")
        assert seen_by_b[-1]["data"] == {"user_id": owner.user_id, "active": False}
        two.assert_both_present_on(1, room)
        # Acknowledged writes through process 1, then process 1 dies with its clients connected.
        c1 = stack.enter_context(httpx.Client(base_url=two.url(1), timeout=30))
        on_dead = SseReader(c1, f"/sse/chat/{thread_id}?since=0", friend.in_tenant(tenant))
        acked = [post_message(two.url(1), friend, tenant, thread_id, f"before the kill {i}") for i in range(3)]
        on_dead.wait_for(lambda evs: set(acked) <= set(created_seqs(evs)), timeout=30)
        cut_at = on_dead.last_id
        two.assert_killed_user_leaves(a, room)
    # Nothing acknowledged was lost: process 0 serves every message written through process 1, and the
    # dead process's client resumes there exactly where it was cut.
    with httpx.Client(base_url=two.url(0), timeout=30) as c0:
        reader = SseReader(c0, f"/sse/chat/{thread_id}?since=0", owner.in_tenant(tenant))
        reader.wait_for(lambda evs: set(acked) <= set(created_seqs(evs)), timeout=20)
        resumed = SseReader(c0, f"/sse/chat/{thread_id}", {**friend.in_tenant(tenant), "Last-Event-ID": str(cut_at)})
        after = post_message(two.url(0), friend, tenant, thread_id, "after the kill")
        resumed.wait_for(lambda evs: after in created_seqs(evs), timeout=20)
        reader.wait_for(lambda evs: after in created_seqs(evs), timeout=20)
        resumed.close()
        reader.close()
    # Exact: nothing created before the cut comes again, nothing created up to "after" is missed.
    # (Event ids are cursors, which differ between streams with different histories: compare messages.)
    before_cut = set(created_seqs(on_dead.events))
    again = set(created_seqs(resumed.events))
    assert not before_cut & again
    assert {s for s in created_seqs(reader.events) if s <= after} <= before_cut | again
