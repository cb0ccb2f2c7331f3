"""Creating the gateway's topics when they are missing (Tansu auto-creates with 4 partitions: never rely on it)."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings, feed_names

log = logging.getLogger(__name__)


def topic_names(settings: Settings) -> list[str]:
    """The topics the gateway uses: the filing's, and the intake's when it is enabled."""
    t = settings.topics
    names = [t.input, t.acks, t.rejections, t.dlq, t.quarantine]
    if settings.intake.enabled:
        names += [t.archive, t.notifications, t.intake_dlq, t.intake_feeds]
    return names


def partitions_of(settings: Settings, name: str) -> int:
    """How many partitions the gateway gives a topic it creates: the control topic one per feed (an instance
    owns the feeds whose partitions its group assigns it), every other ``topics.partitions``."""
    if settings.intake.enabled and name == settings.topics.intake_feeds:
        return len(feed_names(settings))
    return settings.topics.partitions


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics; returns the names created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        client_id=f"{settings.kafka.client_id}-admin",
        request_timeout_ms=settings.kafka.request_timeout_ms,
        **client_security(settings.kafka),
    )
    try:
        async with kafka_errors(settings.kafka):
            await admin.start()
        existing = set(await admin.list_topics())
        missing = [name for name in topic_names(settings) if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica won the race
                await admin.create_topics(
                    [
                        NewTopic(name, partitions_of(settings, name), settings.topics.replication_factor)
                        for name in missing
                    ]
                )
            log.info("created topics %s", ", ".join(missing))
        return missing
    finally:
        await admin.close()
