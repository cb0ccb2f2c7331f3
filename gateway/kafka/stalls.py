"""Stalled partitions: records wait behind a position that does not move, and nobody paused it on purpose.

    housekeeping tick -> StallWatch.observe(partition, position, highwater, paused) per assigned partition
        -> stalled() -> the ``partition_stalled_seconds`` gauge and ``/readyz`` (``partitions_moving``)

A partition is stalled when, for ``stall_after_s`` at least, records waited (``highwater > position``), its
position did not move, and consumption was not deliberately paused (backpressure, open circuit). The clock of a
partition restarts whenever its position moves, whenever nothing waits (caught up, or highwater not known yet),
and whenever it is seen paused: after a resume it gets a full ``stall_after_s`` again, counted from the first tick
that sees it unpaused. Where everything below the
pipeline works, a stall means something the gateway could not turn into a dead letter keeps the partition in
place (see ``gateway.kafka.unreadable``). A partition *held* (``hold``: the broker refused a dead letter for good,
see ``gateway.kafka.publisher``) is stalled from that moment until it is forgotten, whatever is observed.

Nothing here knows Kafka clients: partitions are ``(topic, partition)`` pairs, positions and highwaters offsets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway.kafka.flow import Partition


@dataclass(slots=True)
class _Seen:
    position: int
    waiting: bool  # records waited behind the position, unpaused, at the last observation
    since: float  # when the clock of this partition last restarted: a move, or the first tick waiting unpaused


class StallWatch:
    def __init__(self, stall_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if stall_after_s <= 0:
            raise ValueError(f"stall_after_s must be positive, not {stall_after_s}")
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._seen: dict[Partition, _Seen] = {}
        self._held: dict[Partition, float] = {}  # partition -> when it was held

    def observe(self, partition: Partition, position: int, highwater: int | None, paused: bool) -> None:
        """What a housekeeping tick sees of one assigned partition."""
        now = self._clock()
        waiting = not paused and highwater is not None and highwater > position
        seen = self._seen.get(partition)
        # Records that began to wait, or a resume, are seen at the first tick after: the clock starts there.
        if seen is None or not waiting or not seen.waiting or position != seen.position:
            self._seen[partition] = _Seen(position, waiting, now)

    def stalled(self) -> dict[Partition, float]:
        """The stalled partitions: for each, how long its records have waited behind a position that did not move
        (since its last move, resume, or the moment records began to wait), in seconds; ``stall_after_s`` at least."""
        now = self._clock()
        found = {
            partition: now - seen.since
            for partition, seen in self._seen.items()
            if seen.waiting and now - seen.since >= self.stall_after_s
        }
        return found | {partition: now - since for partition, since in self._held.items()}

    def hold(self, partition: Partition) -> None:
        """``partition`` cannot move on its own (see the module docstring): stalled until forgotten."""
        self._held.setdefault(partition, self._clock())

    def stalled_for(self, partition: Partition) -> float:
        """How long ``partition`` has been stalled, 0 when it is not (the gauge's value)."""
        return self.stalled().get(partition, 0.0)

    def forget(self, partitions: Iterable[Partition]) -> None:
        """Partitions no longer assigned (revoked, or the consumer stopped)."""
        for partition in partitions:
            self._seen.pop(partition, None)
            self._held.pop(partition, None)

    def watched(self) -> set[Partition]:
        return set(self._seen) | set(self._held)
