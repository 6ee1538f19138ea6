"""The fleet simulation (bench/fleet_sim.py) against figures worked out by hand: the k-th subscriber
of a fan-out batch waits for the k-1 writes before it, a client process reads deliveries one at a
time, fewer cores slow every process in proportion, and a garbage collection holds up the batch."""
from __future__ import annotations

import pytest

from bench.common import percentile
from bench.fleet_sim import Calibration, Capacity, predict_local, run

COSTS = Calibration(floor_ms=1.0, post_ms=2.0, feed_ms=1.0, delivery_us=100.0, client_us=0.0, wake_ms=0.5)


def test_a_batch_delivers_one_subscriber_after_another() -> None:
    # One post at 0, not ours to run: it reaches the instance at 2 + 1 ms, the feed takes 1 ms, then
    # 10 writes of 0.1 ms each on one free core.
    out = run([{0: 10}], [(0.0, 0)], COSTS, Capacity(1.0))
    assert [round(ms, 6) for ms in out.ms()] == [round(4.0 + 0.1 * k, 6) for k in range(1, 11)]


def test_the_posting_instance_runs_the_post_and_the_other_waits_for_the_wake_up() -> None:
    out = run([{0: 1}, {0: 1}], [(0.0, 0)], COSTS, Capacity(2.0), posting=0)
    mine, other = sorted(ms for ms in out.ms())
    assert mine == pytest.approx(2.0 + 1.0 + 1.0 + 0.1)  # post CPU, listener, feed, one write
    assert other == pytest.approx(mine + 0.5)


def test_a_client_on_the_same_machine_reads_deliveries_one_at_a_time() -> None:
    slow_reader = Calibration(floor_ms=0.0, post_ms=0.0, feed_ms=0.0, delivery_us=10.0, client_us=100.0)
    out = run([{0: 5}], [(0.0, 0)], slow_reader, Capacity(2.0), clients_local=True)
    reads = out.ms(read=True)
    # The reader takes 0.1 ms per delivery and starts after the first write (0.01 ms).
    assert reads == pytest.approx([0.01 + 0.1 * k for k in range(1, 6)])
    assert max(out.ms()) < min(reads[1:])  # the gateway is done long before the client


def test_the_cores_left_by_others_slow_the_round_window_by_window() -> None:
    free = run([{0: 100}], [(0.0, 0)], COSTS, Capacity(1.0)).ms()
    # Half the core is taken from 0 on: every CPU step takes twice as long (the 3 ms of listener and
    # post before the feed are not CPU here, so they do not stretch).
    half = run([{0: 100}], [(0.0, 0)], COSTS, Capacity(1.0, [0.0], [0.5])).ms()
    assert max(half) - 3.0 == pytest.approx(2 * (max(free) - 3.0))


def test_a_garbage_collection_holds_up_the_rest_of_the_batch() -> None:
    plain = run([{0: 10}], [(0.0, 0)], COSTS, Capacity(1.0)).ms()
    stalled = run([{0: 10}], [(0.0, 0)], COSTS, Capacity(1.0), pauses=[[(0.0045, 0.020)]]).ms()
    assert stalled[0] == pytest.approx(plain[0])  # written before the collection started
    assert stalled[-1] == pytest.approx(plain[-1] + 20.0)


def test_two_processes_split_a_round_and_the_tail_shrinks() -> None:
    posts = [i * 0.1 for i in range(10)]
    one = predict_local(1, 1000, COSTS, posts, Capacity(4.0), warmup=2)
    two = predict_local(2, 1000, COSTS, posts, Capacity(4.0), warmup=2)
    assert percentile(two.ms(), 99) < percentile(one.ms(), 99)
    assert len(one.ms()) == len(two.ms()) == 8 * 1000


def test_stalls_are_drawn_as_often_and_as_long_as_seen() -> None:
    import random

    from bench.fleet_sim import Stalls

    seen = Stalls(per_s=4.0, seconds=(0.002, 0.010))
    drawn = seen.draw(1000.0, random.Random(3))
    assert 3600 < len(drawn) < 4400  # Poisson at 4/s over 1,000 s
    assert {s for _t, s in drawn} == {0.002, 0.010}
    assert all(0 <= t < 1000.0 for t, _s in drawn)
    assert Stalls().draw(1000.0, random.Random(3)) == []


def test_members_pinned_to_one_core_share_it_and_on_two_do_not() -> None:
    # Two instances of 10 subscribers, one post reaching both at 3 ms (not ours to run); the client
    # is not simulated here, so the placement lists the two instances and an unused client slot.
    apart = run([{0: 10}, {0: 10}], [(0.0, 0)], COSTS, Capacity(2.0), placement=[0, 1, 1]).ms()
    together = run([{0: 10}, {0: 10}], [(0.0, 0)], COSTS, Capacity(2.0), placement=[0, 0, 1]).ms()
    # Feed 1 ms + 10 writes of 0.1 ms each, at full speed apart and at half speed together.
    assert max(apart) == pytest.approx(3.0 + 1.0 + 1.0)
    assert max(together) == pytest.approx(3.0 + 2 * (1.0 + 1.0))
