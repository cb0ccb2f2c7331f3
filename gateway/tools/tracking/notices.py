"""What customs notified about a case, read back from the notifications topic (the intake's CloudEvents): the
``case`` timeline shows them among the outcomes, and ``tail`` as they arrive.

- ``Notice`` (``gateway/intake/records.py``, the one decoder of notification records) is one notification as
  ``case`` prints it; its JSON line starts with ``"notification"`` (its type), where an outcome's starts with
  ``"outcome"``.
- ``case_notices(settings, case_id)`` reads the notifications topic from its beginning up to where it ended (no
  topic: none), keeps the case's records (the Kafka key) and returns them deduplicated by CloudEvent ``id`` (a
  notification published again after a crash has the same one), in customs' time order.
- ``follow_notices(settings)`` follows the topic live, for ``tail``.
- ``readable_notice`` renders one for a person (the feed, an agency's RUC, is masked when read back).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import replace

from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.text import Text

from gateway.intake.records import Notice, notice_from_record
from gateway.kafka.reading import read_to_end, reading_errors
from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings
from gateway.tools.tracking.masking import mask_identifier

__all__ = ["Notice", "case_notices", "follow_notices", "masked_notice", "notice_from_record", "readable_notice"]


async def case_notices(settings: Settings, case_id: str) -> list[Notice]:
    """Every notification of ``case_id`` up to now, once each, oldest first."""
    (found,) = await read_to_end(settings, [settings.topics.notifications])
    seen: set[str] = set()
    notices = []
    for record in found:
        if record.key != case_id.encode():
            continue
        notice = notice_from_record(record)
        if notice is None or (notice.event_id is not None and notice.event_id in seen):
            continue
        seen.add(notice.event_id or "")
        notices.append(notice)
    return sorted(notices, key=lambda notice: notice.time)


def masked_notice(notice: Notice) -> Notice:
    """``notice`` as it may be printed: its feed, when an agency's RUC, masked as outcomes mask identifiers."""
    feed = notice.feed
    return replace(notice, feed=mask_identifier(feed) if feed is not None and feed.isdigit() else feed)


def readable_notice(notice: Notice) -> Text:
    notice = masked_notice(notice)
    text = Text()
    text.append(notice.time.astimezone().isoformat(sep=" ", timespec="seconds"), style="dim")
    text.append("  ")
    text.append(f"{'NOTIFIED':<11}", style="bold blue")
    text.append(f"  {notice.notification_type or 'unknown notification'}")
    if notice.case_id:
        text.append(f"  case {notice.case_id}", style="cyan")
    text.append(f"\n   {notice.status_group or '?'}, to the {(notice.recipient or '?').lower()}")
    text.append(f", about the {notice.document or 'filing'} {notice.message_id or '?'}")
    numbers = [n for n in (notice.declaration_number, notice.warehouse_entry_number) if n]
    if numbers:
        text.append(f"\n   numbers {', '.join(numbers)}")
    if notice.details:
        text.append(f"\n   {json.dumps(notice.details, ensure_ascii=False)}")
    if notice.remark:
        text.append(f"\n   remark: {notice.remark}")
    text.append(f"\n   customs' {notice.notification_id or '?'} from feed {notice.feed or '?'}", style="dim")
    return text


async def follow_notices(settings: Settings, *, from_beginning: bool = False) -> AsyncGenerator[Notice, None]:
    """Customs' notifications as they arrive on the notifications topic (from its current end unless
    ``from_beginning``), once each by CloudEvent ``id``, until cancelled; nothing when the topic does not exist
    (the intake is off)."""
    kafka, topic = settings.kafka, settings.topics.notifications
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
        **client_security(kafka),
    )
    try:
        async with reading_errors(kafka, "follow the notifications topic"), kafka_errors(kafka):
            await consumer.start()
            await consumer.topics()  # refresh metadata
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return
        consumer.assign(partitions)
        await (consumer.seek_to_beginning(*partitions) if from_beginning else consumer.seek_to_end(*partitions))
        seen: OrderedDict[str, None] = OrderedDict()
        while True:
            async with reading_errors(kafka, "follow the notifications topic"):
                batches = await consumer.getmany(timeout_ms=500)
            for record in (record for polled in batches.values() for record in polled):
                notice = notice_from_record(record)
                if notice is None or (notice.event_id is not None and notice.event_id in seen):
                    continue
                seen[notice.event_id or ""] = None
                if len(seen) > 10_000:
                    seen.popitem(last=False)
                yield notice
    finally:
        await consumer.stop()
