"""Creating the gateway's topics when they are missing (Tansu auto-creates with 4 partitions: never rely on it)."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings

log = logging.getLogger(__name__)


def topic_names(settings: Settings) -> list[str]:
    t = settings.topics
    return [t.input, t.acks, t.rejections, t.dlq, t.quarantine]


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
                    [NewTopic(name, settings.topics.partitions, settings.topics.replication_factor) for name in missing]
                )
            log.info("created topics %s", ", ".join(missing))
        return missing
    finally:
        await admin.close()
