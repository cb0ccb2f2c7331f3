"""Flow control between the consumer and the pipeline: per-case ordering, bounded concurrency, safe commits.

- ``OffsetTracker`` knows, per partition, which offsets were handed out and which are done; the commit position of
  a partition is its lowest unfinished offset (or one past the last handed out when nothing is pending), so a
  commit never covers an event whose outcome is not out. An offset *held* (nothing could be published for it) is
  no longer waited for, and stays the limit of the partition's commits.
- ``CaseScheduler`` runs each case's events one after the other (same Kafka key, same order as the partition)
  and different cases concurrently, up to ``max_in_flight`` at a time. A case waiting for a retry holds only its
  own later events.

Nothing here knows Kafka clients: partitions are ``(topic, partition)`` pairs, and the work is a coroutine factory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Partition = tuple[str, int]


@dataclass
class _PartitionState:
    pending: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)  # done with, yet never to be committed past
    next_offset: int | None = None  # one past the highest offset handed out
    committed: int | None = None
    suspect: tuple[int, int] = (0, 0)  # offsets a previous owner may have filed already


class OffsetTracker:
    def __init__(self) -> None:
        self._partitions: dict[Partition, _PartitionState] = {}

    def started(self, partition: Partition, offset: int, *, last: int | None = None) -> None:
        """``offset`` handed out; ``last``: it stands for the range up to ``last`` (records the client could not
        read), which its outcome settles too."""
        state = self._partitions.setdefault(partition, _PartitionState())
        state.pending.add(offset)
        state.next_offset = max((offset if last is None else last) + 1, state.next_offset or 0)

    def finished(self, partition: Partition, offset: int) -> None:
        state = self._partitions.get(partition)
        if state is not None:
            state.pending.discard(offset)

    def hold(self, partition: Partition, offset: int) -> None:
        """``offset`` is done with, but its outcome is not out: commits of ``partition`` stop below it."""
        state = self._partitions.get(partition)
        if state is not None and offset in state.pending:
            state.pending.discard(offset)
            state.held.add(offset)

    def pending(self, partitions: set[Partition] | None = None) -> int:
        return sum(
            len(state.pending)
            for partition, state in self._partitions.items()
            if partitions is None or partition in partitions
        )

    def position(self, partition: Partition) -> int | None:
        """The offset that may be committed for ``partition``: everything below it has its outcome out."""
        state = self._partitions.get(partition)
        if state is None or state.next_offset is None:
            return None
        waiting = state.pending | state.held
        return min(waiting) if waiting else state.next_offset

    def to_commit(self, partitions: set[Partition] | None = None) -> dict[Partition, int]:
        """Positions that moved since the last ``committed()`` call."""
        moves = {}
        for partition, state in self._partitions.items():
            if partitions is not None and partition not in partitions:
                continue
            position = self.position(partition)
            if position is not None and position != state.committed:
                moves[partition] = position
        return moves

    def committed(self, positions: dict[Partition, int]) -> None:
        for partition, position in positions.items():
            state = self._partitions.get(partition)
            if state is not None:
                state.committed = position

    def suspect(self, partition: Partition, start: int, end: int) -> None:
        """Offsets ``start <= offset < end`` of a newly assigned partition were there before it was assigned: a
        previous owner may have filed them without committing (it crashed, or was still working)."""
        self._partitions.setdefault(partition, _PartitionState()).suspect = (start, end)

    def maybe_redelivered(self, partition: Partition, offset: int) -> bool:
        state = self._partitions.get(partition)
        return state is not None and state.suspect[0] <= offset < state.suspect[1]

    def forget(self, partitions: set[Partition]) -> None:
        """Partitions revoked from this instance: their next owner starts from the committed position."""
        for partition in partitions:
            self._partitions.pop(partition, None)


Work = Callable[[], Awaitable[None]]


class CaseScheduler:
    def __init__(self, max_in_flight: int, on_finished: Callable[[], None] | None = None) -> None:
        self._on_finished = on_finished  # after each event, with ``in_flight`` already lowered
        self._slots = asyncio.Semaphore(max_in_flight)
        self._queues: dict[Hashable, deque[Work]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.max_in_flight = max_in_flight
        self.in_flight = 0  # submitted and not finished: queued or running

    def submit(self, case: Hashable, work: Work) -> None:
        """Queue ``work`` behind the earlier work of the same case; never blocks."""
        self.in_flight += 1
        self._idle.clear()
        queue = self._queues.get(case)
        if queue is not None:
            queue.append(work)
            return
        self._queues[case] = deque([work])
        worker = asyncio.create_task(self._run_case(case), name=f"case-{case!r}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _run_case(self, case: Hashable) -> None:
        queue = self._queues[case]
        while queue:
            work = queue[0]
            try:
                async with self._slots:
                    await work()
            except Exception:  # the work reports its own failures; a bug must not stall the case
                log.exception("unexpected failure running an event of case %r", case)
            finally:
                queue.popleft()
                self.in_flight -= 1
                if self._on_finished is not None:
                    self._on_finished()
        del self._queues[case]
        if self.in_flight == 0:
            self._idle.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every submitted event has finished; False if the time ran out first."""
        try:
            async with asyncio.timeout(timeout_s):  # not wait_for: on 3.11 it can swallow a cancellation
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def cancel(self) -> None:
        """Abandon what is running or queued (shutdown after the drain timeout): it will be redelivered. The
        scheduler is then empty and idle."""
        for worker in list(self._workers):
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._queues.clear()
        self.in_flight = 0
        self._idle.set()
