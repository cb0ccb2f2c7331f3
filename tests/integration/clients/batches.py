"""What the broker holds: the codec of every record batch of a topic, read with a raw Fetch request, so that a
client matrix test knows its records really travelled compressed (clients read them back decompressed)."""

from __future__ import annotations

from aiokafka import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

from gateway.settings import Settings

# The codec ids of a record batch's attributes (Kafka protocol).
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CODEC_NAMES = {number: name for name, number in CODEC_IDS.items()}


async def stored_codecs(settings: Settings, topic: str) -> set[str]:
    """The codecs of the batches stored in ``topic``, from its first offset."""
    client = AIOKafkaClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await client.bootstrap()
    try:
        (node,) = {broker.nodeId for broker in client.cluster.brokers()}
        partitions = [(p, 0, 1 << 20) for p in range(settings.topics.partitions)]
        response = await client.send(node, FetchRequest(100, 1, 4 << 20, 0, [(topic, partitions)]))
        codecs = set()
        for _, answers in response.topics:
            for answer in answers:
                records = MemoryRecords(answer[-1])
                while records.has_next():
                    codecs.add(CODEC_NAMES[records.next_batch().compression_type])
        return codecs
    finally:
        await client.close()
