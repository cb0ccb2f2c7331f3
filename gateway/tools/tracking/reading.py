"""Reading the outcome topics for ``case`` and ``tail``: a case's timeline up to now, or every outcome live.

Part of ``gateway.tools.tracking``: it reads the acknowledgments, rejections and dead-letter topics (only Kafka,
never the input topic and never customs) and turns each record into an ``entries.Entry``.

- ``case_timeline(settings, case_id)`` reads the three topics from their beginning up to where they ended when
  called (every partition, one group-less consumer), keeps the records of one case (Kafka key, or the
  ``dlq.original.key`` header of a dead letter) and returns them in time order: the outcome's CloudEvents ``time``,
  or the record timestamp of a dead letter.
- ``follow(settings)`` follows the same three topics live (from their current end, or from their beginning) with
  the demo's group-less ``OutcomeReader`` and yields each outcome as it arrives, until cancelled. On Tansu, which
  reports a partition's end one record batch early, following "from now on" may first show the last outcomes
  already there.
- ``tail(settings, printer, until=…)`` prints what ``follow`` yields, and customs' notifications as they arrive
  (``notices.follow_notices``), until a stop signal or a closed stdout.
- Both read records through the one decoder of outcome records (``gateway.kafka.records.received``).
  Acknowledgments and rejections are deduplicated by their outcome ``id`` (a redelivered event gets the same one),
  dead letters are all kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING

from gateway.devstack.demo import OutcomeReader
from gateway.kafka import records
from gateway.kafka.reading import read_to_end, reading_errors
from gateway.kafka.records import OUTCOMES
from gateway.kafka.security import kafka_errors
from gateway.settings import Settings
from gateway.tools.tracking.entries import Entry, entry_from_record
from gateway.tools.tracking.notices import follow_notices

if TYPE_CHECKING:
    from gateway.tools.tracking.rendering import Printer


async def case_timeline(settings: Settings, case_id: str) -> list[Entry]:
    """Every outcome known for ``case_id`` up to now, oldest first (empty: nothing is known about the case)."""
    contents = await read_to_end(settings, _topics(settings))
    seen = _Seen()
    entries: list[Entry] = []
    for outcome, found in zip(OUTCOMES, contents, strict=True):
        for record in found:
            received = records.received(outcome, record)
            if received.case_id != case_id:
                continue
            entry = entry_from_record(received)
            if entry is not None and seen.first(entry):
                entries.append(entry)
    return sorted(entries, key=lambda entry: entry.time)


async def follow(
    settings: Settings, *, from_beginning: bool = False, on_ready: Callable[[], None] | None = None
) -> AsyncGenerator[Entry, None]:
    """Outcomes of every case as they arrive (from the topics' current end unless ``from_beginning``), until
    cancelled. ``on_ready`` is called once the reader holds its position: outcomes published after it are seen."""
    reader = OutcomeReader(settings)
    try:
        async with reading_errors(settings.kafka, "follow the outcome topics"), kafka_errors(settings.kafka):
            await reader.start(from_beginning=from_beginning)
        if on_ready is not None:
            on_ready()
        seen = _Seen()
        while True:
            for received in await reader.read(timeout_ms=500):
                entry = entry_from_record(received)
                if entry is not None and seen.first(entry):
                    yield entry
    finally:
        await reader.stop()


async def tail(
    settings: Settings,
    printer: Printer,
    *,
    until: Awaitable[None],
    from_beginning: bool = False,
    notice: Callable[[str], None] | None = None,
) -> None:
    """Print outcomes as they arrive until ``until`` completes (a stop signal) or the reader of stdout goes away."""
    say = notice or (lambda text: print(text, file=sys.stderr, flush=True))
    topics = ", ".join(_topics(settings))
    where = "from their beginning" if from_beginning else "from now on"

    async def outcomes() -> None:
        entries = follow(
            settings, from_beginning=from_beginning, on_ready=lambda: say(f"following {topics} {where}; Ctrl-C stops")
        )
        async with contextlib.aclosing(entries):
            async for entry in entries:
                printer.show(entry)

    async def notifications() -> None:  # customs' notifications too, when the intake has a topic for them
        notices = follow_notices(settings, from_beginning=from_beginning)
        async with contextlib.aclosing(notices):
            async for notice in notices:
                printer.show(notice)

    async def pump() -> None:
        await asyncio.gather(outcomes(), notifications())

    pumping = asyncio.create_task(pump(), name="tail")
    stopping = asyncio.ensure_future(until)
    try:
        await asyncio.wait({pumping, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, stopping):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
        with contextlib.suppress(asyncio.CancelledError, BrokenPipeError):
            await pumping  # re-raises what stopped it, unless the cancellation or a closed stdout


def _topics(settings: Settings) -> list[str]:
    """The outcome topics, in the order of ``OUTCOMES``."""
    return list(records.outcome_topics(settings.topics))


class _Seen:
    """Outcome ids already yielded (the most recent 10 000): a redelivered event's outcome is shown once."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._capacity = capacity

    def first(self, entry: Entry) -> bool:
        if entry.outcome_id is None:
            return True
        key = (entry.outcome, entry.outcome_id)
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True
