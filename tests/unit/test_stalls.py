"""Stalled partitions on a fake clock: records wait behind a position that does not move, unpaused."""

from __future__ import annotations

import pytest

from gateway.kafka.stalls import StallWatch

P0, P1 = ("in", 0), ("in", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(clock: Clock) -> StallWatch:
    return StallWatch(10.0, clock=clock)


def run(watch: StallWatch, clock: Clock, seconds: int, *, position: int, highwater: int | None) -> None:
    """One observation of P0, unpaused, per second for ``seconds`` seconds (a housekeeping tick each)."""
    for _ in range(seconds):
        watch.observe(P0, position, highwater, paused=False)
        clock.tick(1)


def test_a_position_that_does_not_move_while_records_wait_is_a_stall(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 10, position=5, highwater=9)
    assert watch.stalled() == {P0: 10.0}
    assert watch.stalled_for(P0) == 10.0 and watch.stalled_for(P1) == 0.0
    clock.tick(5)  # no tick observed meanwhile: the stall goes on growing
    assert watch.stalled() == {P0: 15.0}


def test_not_before_stall_after_s(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 9, position=5, highwater=9)
    assert watch.stalled() == {}
    clock.tick(0.5)
    assert watch.stalled() == {}


def test_a_moving_position_is_no_stall(watch: StallWatch, clock: Clock) -> None:
    for position in range(30):
        watch.observe(P0, position, highwater=100, paused=False)
        clock.tick(1)
    assert watch.stalled() == {}
    run(watch, clock, 9, position=29, highwater=100)  # then it stops: a stall 10 s after its last move
    assert watch.stalled() == {P0: 10.0}


def test_a_partition_caught_up_is_no_stall_and_its_clock_starts_when_records_arrive(
    watch: StallWatch, clock: Clock
) -> None:
    run(watch, clock, 60, position=7, highwater=7)
    assert watch.stalled() == {}
    run(watch, clock, 9, position=7, highwater=8)  # a record arrived 9 s ago and was not consumed
    assert watch.stalled() == {}
    run(watch, clock, 1, position=7, highwater=8)
    assert watch.stalled() == {P0: 10.0}


def test_an_unknown_highwater_is_no_stall(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 30, position=0, highwater=None)
    assert watch.stalled() == {}


def test_a_deliberate_pause_is_no_stall_and_a_resume_gets_a_full_period(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 8, position=5, highwater=9)
    for _ in range(60):  # backpressure or an open circuit: paused on purpose, records waiting
        watch.observe(P0, 5, 9, paused=True)
        clock.tick(1)
    assert watch.stalled() == {}
    run(watch, clock, 9, position=5, highwater=9)  # resumed: 9 s without moving is not yet a stall
    assert watch.stalled() == {}
    run(watch, clock, 1, position=5, highwater=9)
    assert watch.stalled() == {P0: 10.0}


def test_a_pause_ends_a_stall(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 20, position=5, highwater=9)
    assert P0 in watch.stalled()
    watch.observe(P0, 5, 9, paused=True)
    assert watch.stalled() == {}


def test_a_move_ends_a_stall_even_backwards(watch: StallWatch, clock: Clock) -> None:
    run(watch, clock, 20, position=5, highwater=9)
    watch.observe(P0, 3, 9, paused=False)  # sought back (redelivery)
    assert watch.stalled() == {}


def test_partitions_are_independent_and_forgotten(watch: StallWatch, clock: Clock) -> None:
    for n in range(12):
        watch.observe(P0, 5, 9, paused=False)
        watch.observe(P1, n, 20, paused=False)
        clock.tick(1)
    assert set(watch.stalled()) == {P0}
    assert watch.watched() == {P0, P1}
    watch.forget([P0])
    assert watch.stalled() == {} and watch.watched() == {P1}
    watch.forget([P0, ("other", 3)])  # forgetting what is not watched is harmless
    watch.observe(P0, 5, 9, paused=False)  # assigned again: a fresh clock
    assert watch.stalled() == {}


def test_stall_after_s_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        StallWatch(0)


def test_a_held_partition_is_stalled_at_once_whatever_is_observed_until_forgotten(
    watch: StallWatch, clock: Clock
) -> None:
    watch.observe(P0, 5, 5, paused=True)  # caught up and paused: no stall by observation
    watch.hold(P0)
    clock.tick(2)
    watch.observe(P0, 5, 5, paused=True)
    assert watch.stalled() == {P0: 2.0} and watch.stalled_for(P1) == 0.0
    watch.forget([P0])
    assert watch.stalled() == {} and P0 not in watch.watched()
