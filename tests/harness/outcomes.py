"""Outcomes as the tests read them back: by answered event id (dead letters by reason), one per event."""

from __future__ import annotations

import asyncio
import json
from typing import Protocol

from gateway.kafka.records import Received


class Reader(Protocol):
    """Outcomes written since it started (``gateway.devstack.demo.OutcomeReader``, or the in-memory one)."""

    async def read(self, timeout_ms: int = 200) -> list[Received]: ...


async def collect(
    reader: Reader, expected_ids: set[str], timeout_s: float, found: dict[str, list[Received]] | None = None
) -> dict[str, list[Received]]:
    """Outcomes read until every expected event id has one (or the time runs out): event id -> outcomes; dead
    letters under ``dead-letter:<reason>``."""
    found = {} if found is None else found
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline and not expected_ids <= set(found):
        for received in await reader.read():
            if received.outcome == "dead-letter":
                found.setdefault(f"dead-letter:{received.letter.reason}", []).append(received)
                continue
            data = received.body()["data"]
            assert isinstance(data, dict)
            found.setdefault(str(data["answered_event_id"]), []).append(received)
    return found


def one_outcome_each(found: dict[str, list[Received]], ids: set[str]) -> dict[str, str]:
    """event id -> its single outcome (after deduplicating by outcome id)."""
    single = {}
    for event_id in ids:
        received = found.get(event_id, [])
        assert received, f"no outcome for {event_id}"
        outcome_ids = {json.loads(r.value)["id"] for r in received}
        assert len(outcome_ids) == 1, f"{event_id} has different outcomes {outcome_ids}"
        single[event_id] = received[0].outcome
    return single
