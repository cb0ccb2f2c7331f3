"""Flow control without Kafka: offsets committed only below unfinished work; cases ordered, in parallel."""

from __future__ import annotations

import asyncio

from gateway.kafka.flow import CaseScheduler, OffsetTracker
from tests.harness.waiting import eventually

P0, P1 = ("in", 0), ("in", 1)


def test_commit_position_is_the_lowest_unfinished_offset() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12, 13):
        tracker.started(P0, offset)
    tracker.finished(P0, 11)
    tracker.finished(P0, 13)
    assert tracker.position(P0) == 10  # 10 is still in flight: nothing may be committed past it
    tracker.finished(P0, 10)
    assert tracker.position(P0) == 12
    tracker.finished(P0, 12)
    assert tracker.position(P0) == 14  # all done: one past the last handed out


def test_only_moved_positions_are_committed_and_partitions_are_independent() -> None:
    tracker = OffsetTracker()
    tracker.started(P0, 5)
    tracker.started(P1, 7)
    tracker.finished(P1, 7)
    assert tracker.to_commit() == {P0: 5, P1: 8}
    tracker.committed({P0: 5, P1: 8})
    assert tracker.to_commit() == {}
    tracker.finished(P0, 5)
    assert tracker.to_commit() == {P0: 6}
    assert tracker.to_commit({P1}) == {}
    tracker.forget({P0})
    assert tracker.position(P0) is None and tracker.pending() == 0


def test_suspected_redeliveries() -> None:
    tracker = OffsetTracker()
    tracker.suspect(P0, 100, 150)
    assert tracker.maybe_redelivered(P0, 100) and tracker.maybe_redelivered(P0, 149)
    assert not tracker.maybe_redelivered(P0, 150) and not tracker.maybe_redelivered(P1, 120)
    tracker.started(P0, 100)
    assert tracker.maybe_redelivered(P0, 120)  # handing out records keeps the suspicion


async def test_one_case_in_order_cases_in_parallel() -> None:
    scheduler = CaseScheduler(max_in_flight=10)
    log: list[tuple[str, int, str]] = []
    running = 0
    peak = 0
    side_by_side = asyncio.Event()  # the three cases are running at once

    def work(case: str, n: int, steps: int):  # type: ignore[no-untyped-def]
        async def run() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            if running == 3:
                side_by_side.set()
            log.append((case, n, "start"))
            if n == 0:
                await side_by_side.wait()  # never set if the cases ran one after another: drain() fails
            for _ in range(steps):  # the work: B's takes longer
                await asyncio.sleep(0)
            log.append((case, n, "end"))
            running -= 1

        return run

    for n in range(5):
        for case in ("A", "B", "C"):
            scheduler.submit(case, work(case, n, 1 if case != "B" else 3))
    assert scheduler.in_flight == 15
    assert await scheduler.drain(5)
    assert scheduler.in_flight == 0
    for case in ("A", "B", "C"):
        events = [(n, what) for c, n, what in log if c == case]
        assert events == [(n, what) for n in range(5) for what in ("start", "end")]  # strictly one after another
    assert peak == 3  # the three cases ran side by side


async def test_a_slow_case_holds_only_its_own_events() -> None:
    scheduler = CaseScheduler(max_in_flight=4)
    release = asyncio.Event()
    done: list[str] = []

    async def stuck() -> None:
        await release.wait()
        done.append("slow-1")

    async def quick(name: str) -> None:
        done.append(name)

    scheduler.submit("slow", stuck)
    scheduler.submit("slow", lambda: quick("slow-2"))
    for n in range(6):
        scheduler.submit(f"case-{n}", lambda n=n: quick(f"fast-{n}"))  # type: ignore[misc]

    def others_went_ahead() -> None:
        assert sorted(done) == sorted(f"fast-{n}" for n in range(6))

    await eventually(others_went_ahead)
    assert not await scheduler.drain(0.05)
    release.set()
    assert await scheduler.drain(1)
    assert done[-2:] == ["slow-1", "slow-2"]


async def test_concurrency_is_bounded() -> None:
    scheduler = CaseScheduler(max_in_flight=3)
    running = peak = 0

    async def run() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)  # the work: whoever holds a slot now has started before any ends
        running -= 1

    for n in range(20):
        scheduler.submit(n, run)
    assert await scheduler.drain(5)
    assert peak == 3


async def test_a_failing_event_does_not_stall_its_case() -> None:
    scheduler = CaseScheduler(max_in_flight=2)
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("bug")

    async def fine() -> None:
        done.append(1)

    scheduler.submit("A", boom)
    scheduler.submit("A", fine)
    assert await scheduler.drain(1)
    assert done == [1]


def test_a_held_offset_is_no_longer_waited_for_and_bounds_the_commits() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12):
        tracker.started(P0, offset)
    tracker.finished(P0, 10)
    tracker.hold(P0, 11)  # nothing could be published for it
    tracker.finished(P0, 12)
    assert tracker.pending({P0}) == 0  # a revocation does not wait for it
    assert tracker.position(P0) == 11  # and no commit goes past it
    tracker.forget({P0})
    assert tracker.position(P0) is None


async def test_a_cancelled_scheduler_is_idle_and_counts_nothing_in_flight() -> None:
    scheduler = CaseScheduler(max_in_flight=4)
    never = asyncio.Event()
    for _ in range(3):
        scheduler.submit("case", never.wait)  # one would run, two wait behind it
    scheduler.submit("other", never.wait)
    await scheduler.cancel()
    assert scheduler.in_flight == 0
    assert await scheduler.drain(0.01)
