"""The shared gateway bodies (``tests/harness/bodies.py``) in memory: the real gateway, its Kafka side in memory
(``tests/harness/memory.py``), the mock customs app in process. No socket is opened.

Also, what only the in-memory broker can do: refuse a topic for good (Tansu takes every topic)."""

from __future__ import annotations

import pytest
from aiokafka.errors import TopicAuthorizationFailedError

from gateway.tools.examples import Example
from tests.harness.bodies import GatewayCases, collect
from tests.harness.brokers import InMemory, running


class TestInMemory(GatewayCases):
    @pytest.fixture
    def kafka(self) -> InMemory:
        return InMemory()

    async def test_an_outcome_topic_refused_for_good_turns_its_outcomes_into_dead_letters(
        self, kafka: InMemory, example_by_name: dict[str, Example]
    ) -> None:
        accepted = example_by_name["authorization-request/accepted/minimal"]
        rejected = example_by_name["authorization-request/rejected/R51-AUT-003--return-after-two-years"]
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            kafka.cluster.refuse(settings.topics.acks, TopicAuthorizationFailedError("acks: not authorised"))
            async with running(kafka, settings, customs) as gateway, kafka.reader(settings) as reader:
                await kafka.publish(settings, [(c.key(), c.payload(), str(c.event_id())) for c in (accepted, rejected)])
                found = await collect(reader, {"dead-letter:unpublishable", str(rejected.event_id())}, timeout_s=10)
                await gateway.commit()
                committed = await kafka.committed(settings)
            filed = await customs.get("/admin/filings")
        (letter,) = found["dead-letter:unpublishable"]
        assert letter.value == accepted.payload() and letter.key == accepted.key()  # the event, to replay
        assert letter.letter.error_class == "TopicAuthorizationFailedError" and letter.case_id == "CASE-2026-0001"
        assert [r.outcome for r in found[str(rejected.event_id())]] == ["rejected"]  # the rejections topic is fine
        assert sum(offset or 0 for offset in committed.values()) == 2  # both records are done with
        assert len(filed) == 2
        registry = gateway.metrics.registry
        assert registry.get_sample_value("ecuapass_gateway_dead_letters_total", {"reason": "unpublishable"}) == 1
