"""The demo's other half: what customs notified about the demo's cases, read from the notifications topic as an
agency's back-end would, printed as it arrives, until every accepted warehouse entry reached ``exit-authorized``.

Only accepted warehouse entries set customs' lifecycle off (the mock's ``lifecycle.py``); at the dev pace a case
takes seconds, a physical inspection a few more. The examples' references hold no magic values, so each case gets
its drawn channel and the plain path, which always ends in ``exit-authorized``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from gateway.contract.notifications import EXIT_AUTHORIZED
from gateway.intake.records import Notice, notice_from_record
from gateway.kafka.security import client_security
from gateway.settings import Settings


class NotificationWatcher:
    """Reads the notifications topic from where it ended when started (before the demo publishes anything)."""

    def __init__(self, settings: Settings) -> None:
        self._topic = settings.topics.notifications
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.kafka.fetch_max_wait_ms,
            **client_security(settings.kafka),
        )

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()  # refresh metadata
        partitions = [
            TopicPartition(self._topic, p) for p in sorted(self._consumer.partitions_for_topic(self._topic) or ())
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def until_exits(
        self, entries: Iterable[str], out: Callable[[str], None], timeout_s: float = 90.0
    ) -> set[str]:
        """Print each notification until every warehouse entry of ``entries`` (official numbers) has its exit
        authorised; the entries still waiting when ``timeout_s`` ran out."""
        waiting = set(entries)
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=200)
            for record in (record for polled in batches.values() for record in polled):
                notice = notice_from_record(record)
                if notice is None:
                    continue
                out(_line(notice))
                if notice.notification_type == EXIT_AUTHORIZED.code:
                    waiting.discard(str(notice.warehouse_entry_number))
        return waiting


def _line(notice: Notice) -> str:
    details = f"  {json.dumps(notice.details, ensure_ascii=False)}" if notice.details else ""
    return (
        f"   notification {notice.notification_id} {notice.notification_type} to {notice.recipient} about case "
        f"{notice.case_id} (DAE {notice.declaration_number}, entry {notice.warehouse_entry_number or '—'}): "
        f"{notice.status_group}{details}"
    )
