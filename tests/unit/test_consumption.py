"""Consumer control without a broker: pause reasons, a held partition, commits below what is not done."""

from __future__ import annotations

from aiokafka import TopicPartition

from gateway.kafka.consumption import Consumption
from gateway.kafka.flow import OffsetTracker
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import ProcessingSettings

T0, T1 = TopicPartition("in", 0), TopicPartition("in", 1)


class Consumer:
    """The few calls consumer control makes, recorded."""

    def __init__(self) -> None:
        self.assigned = {T0, T1}
        self.paused: set[TopicPartition] = set()
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused |= set(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused -= set(partitions)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    async def committed(self, partition: TopicPartition) -> int | None:
        return None

    async def position(self, partition: TopicPartition) -> int:
        return 0

    def highwater(self, partition: TopicPartition) -> int | None:
        return 0

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 0)


def _control() -> tuple[Consumption, OffsetTracker, Consumer]:
    tracker, consumer = OffsetTracker(), Consumer()
    consumption = Consumption(ProcessingSettings(), tracker, GatewayMetrics())
    consumption.attach(lambda: consumer)
    return consumption, tracker, consumer


async def test_a_held_partition_stays_paused_when_consumption_resumes_and_commits_stop_below_it() -> None:
    consumption, tracker, consumer = _control()
    for offset in (7, 8):
        tracker.started(("in", 1), offset)
    tracker.finished(("in", 1), 8)
    consumption.hold(("in", 1), 7)
    assert consumer.paused == {T1} and consumption.held == {("in", 1): 7}
    assert consumption.stalls.stalled().keys() == {("in", 1)}
    consumption.pause("capacity")
    consumption.pause("circuit")
    consumption.resume("capacity")
    assert consumer.paused == {T0, T1}  # still paused for the circuit
    consumption.resume("circuit")
    assert consumer.paused == {T1}
    await consumption.commit()
    assert consumer.commits == [{T1: 7}]


async def test_a_partition_revoked_meanwhile_is_not_held() -> None:
    consumption, _, consumer = _control()
    consumer.assigned = {T0}
    consumption.hold(("in", 1), 3)
    assert consumption.held == {} and consumer.paused == set() and not consumption.stalls.stalled()


async def test_revoking_a_held_partition_forgets_it() -> None:
    consumption, tracker, consumer = _control()
    tracker.started(("in", 1), 3)
    consumption.hold(("in", 1), 3)
    await consumption.partitions_revoked({("in", 1)})  # nothing pending: no wait
    assert consumer.commits == [{T1: 3}]  # what was done below it
    assert consumption.held == {} and not consumption.stalls.stalled()
