"""The shared test bodies: end to end, ordering, rebalance and redelivery, dead letters, backpressure.

``GatewayCases`` holds them as methods, as FastStream's ``tests/brokers/base/`` does; a subclass per broker gives
the ``kafka`` fixture (a ``Broker``): ``tests/unit/test_gateway_in_memory.py`` (``InMemory``) and
``tests/integration/test_gateway_on_tansu.py`` (``OnTansu``). A body that only holds on one broker is not here.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from ecuapass_mock.faults import FaultSettings
from gateway.ports import CustomsReply, Filing
from gateway.settings import ProcessingSettings, Settings
from gateway.tools.examples import Example, examples, verdict
from tests.harness.brokers import Broker, crash, running
from tests.harness.outcomes import collect, one_outcome_each
from tests.harness.waiting import eventually
from tests.integration.conftest import authorization_events


def template(example_by_name: dict[str, Example]) -> bytes:
    return example_by_name["authorization-request/accepted/minimal"].payload()


class HeldCustoms(FakeCustomsEndpoint):
    """Accepts, but only once ``release`` is set; counts how many filings wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.waiting = 0
        self.peak = 0

    async def file(self, filing: Filing) -> CustomsReply:
        self.waiting += 1
        self.peak = max(self.peak, self.waiting)
        await self.release.wait()
        self.waiting -= 1
        return await super().file(filing)


class GatewayCases:
    """Test bodies run on every broker; subclasses provide the ``kafka`` fixture."""

    # -- end to end -----------------------------------------------------------------------------------------

    async def test_every_contract_example_reaches_its_expected_outcome(self, kafka: Broker) -> None:
        cases = examples()
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs):
                results = await kafka.exchange(settings, cases, timeout_s=30)
            filed = await customs.get("/admin/filings")
        problems = {c.name: verdict(c, received) if received else "no outcome" for c, received in results.items()}
        assert {name: p for name, p in problems.items() if p} == {}
        # Only documents that passed the gateway's checks reached customs, each filed once.
        assert len(filed) == sum(1 for c in cases if c.expected in ("accepted", "rejected"))
        assert set(filed.values()) == {1}

    async def test_acknowledgment_carries_the_number_assigned_by_the_mock(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        case = example_by_name["authorization-request/accepted/minimal"]
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs):
                received = (await kafka.exchange(settings, [case], timeout_s=20))[case]
            assert received is not None and received.outcome == "accepted"
            body = received.body()
            data = body["data"]
            assert isinstance(data, dict)
            status = await customs.request(f"/api/v1/documents/{data['message_id']}")
        assert re.fullmatch(r"028-\d{4}-AUT51-\d{8}", data["official_number"])
        assert re.fullmatch(r"17900116\d{4}\d{8}1", data["submission_number"])
        assert body["subject"] == "CASE-2026-0001" and body["type"] == "ecuapass.gateway.document-accepted.v1"
        assert data["official_number"] in status.text  # the mock's own record agrees

    async def test_customs_rejection_names_the_field(self, kafka: Broker, example_by_name: dict[str, Example]) -> None:
        case = example_by_name["authorization-request/rejected/R51-AUT-003--return-after-two-years"]
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs):
                received = (await kafka.exchange(settings, [case], timeout_s=20))[case]
        assert received is not None and received.outcome == "rejected"
        data = received.body()["data"]
        assert isinstance(data, dict)
        assert data["stage"] == "BUSINESS" and data["rejected_by"] == "customs"
        (error,) = data["errors"]
        assert error["code"] == "R51-AUT-003"
        assert error["path"] == "data.planned_return_date"
        assert error["pointer"] == "/aut:AuthorizationRequest/aut:PlannedReturnDate"
        assert error["message_es"] and error["message_en"]

    async def test_offsets_are_committed_once_outcomes_are_out(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        cases = [
            example_by_name["authorization-request/accepted/minimal"],
            example_by_name["dead-letter/not_json--truncated"],
        ]
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs):
                results = await kafka.exchange(settings, cases, timeout_s=20)
                assert all(results.values())
                ends = await kafka.ends(settings)

                async def committed_to_the_end() -> None:  # the commit follows the publish by a moment
                    assert {p: offset or 0 for p, offset in (await kafka.committed(settings)).items()} == ends

                await eventually(committed_to_the_end, timeout_s=5)
        assert sum(ends.values()) == 2

    async def test_outcomes_are_keyed_by_case_and_typed_as_cloudevents(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        case = example_by_name["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"]
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs):
                received = (await kafka.exchange(settings, [case], timeout_s=20))[case]
        assert received is not None
        assert received.headers["content-type"].startswith("application/cloudevents+json")
        assert set(received.headers) <= {"content-type", "traceparent"}  # no framework header (no correlation_id)
        assert received.key == b"CASE-2026-0202"
        body = json.loads(received.value)
        assert body["specversion"] == "1.0" and body["subject"] == "CASE-2026-0202"
        assert body["data"]["answered_event_id"] == case.event_id()

    # -- dead letters ---------------------------------------------------------------------------------------

    async def test_malformed_record_goes_to_the_dlq_with_its_origin(self, kafka: Broker) -> None:
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs), kafka.reader(settings) as reader:
                async with kafka.producer(settings) as producer:
                    meta = await producer.send_and_wait(
                        settings.topics.input,
                        b"{not json",
                        key=b"CASE-BROKEN",
                        headers=[("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")],
                    )
                found = await collect(reader, {"dead-letter:not_json"}, timeout_s=20)
        (letter,) = found["dead-letter:not_json"]
        assert letter.value == b"{not json" and letter.key == b"CASE-BROKEN"
        headers = letter.headers
        assert headers["dlq.reason"] == "not_json"
        assert headers["dlq.error.class"] == "UndecodableEvent"
        assert headers["dlq.original.topic"] == settings.topics.input
        assert headers["dlq.original.partition"] == str(meta.partition)
        assert headers["dlq.original.offset"] == str(meta.offset)
        assert headers["dlq.original.key"] == "CASE-BROKEN"
        assert headers["traceparent"].startswith("00-111")  # the original's, kept as it was
        assert headers["content-type"] == "application/octet-stream"  # the original had none
        assert "correlation_id" not in headers
        for name in ("dlq.first.failure", "dlq.last.failure"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", headers[name]), headers[name]

    async def test_a_dead_letter_the_broker_refuses_holds_its_partition_and_loses_nothing(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        """A record whose own headers make its dead letter larger than the broker takes: nothing is published for
        it, its partition stops there (paused, reported stalled, committed below it), the other partitions go on."""
        async with kafka.customs() as customs:
            base = await kafka.settings(
                customs, processing=ProcessingSettings(batch_timeout_ms=20, max_event_bytes=32_768)
            )
            settings = base.model_copy(update={"kafka": base.kafka.model_copy(update={"max_message_bytes": 65_536})})
            events = authorization_events(template(example_by_name), cases=12, per_case=1, prefix="held")
            async with running(kafka, settings, customs) as gateway, kafka.reader(settings) as reader:
                async with kafka.producer(settings) as producer:
                    meta = await producer.send_and_wait(
                        settings.topics.input, b"not json", key=b"CASE-HEAVY", headers=[("x-bulk", b"x" * 70_000)]
                    )
                    for key, value, _ in events:
                        await producer.send_and_wait(settings.topics.input, value, key=key)
                held = (settings.topics.input, meta.partition)

                async def held_and_not_ready() -> None:
                    assert gateway.consumption.held == {held: meta.offset}
                    checks = await gateway.readiness()
                    assert checks["partitions_moving"] is False, checks

                await eventually(held_and_not_ready, timeout_s=20)
                elsewhere = {e for k, _, e in events if _partition_of(settings, k) != meta.partition}
                found = await collect(reader, elsewhere, timeout_s=20)
                await gateway.commit()
                committed = await kafka.committed(settings)
        assert set(one_outcome_each(found, elsewhere).values()) == {"accepted"}  # the other partitions went on
        assert not [k for k in found if k.startswith("dead-letter")]  # nothing was published for the record
        assert (committed[meta.partition] or 0) <= meta.offset  # ... and it stays to be delivered again

    # -- ordering, rebalance, redelivery --------------------------------------------------------------------

    async def test_each_case_in_order_cases_in_parallel(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        events = authorization_events(template(example_by_name), cases=20, per_case=5, prefix="order")
        ids = {e for _, _, e in events}
        async with kafka.customs(FaultSettings(latency_ms=20, latency_jitter_ms=30)) as customs:
            settings = await kafka.settings(customs)
            async with running(kafka, settings, customs), kafka.reader(settings) as reader:
                await kafka.publish(settings, events)
                found = await collect(reader, ids, timeout_s=60)
            log = await customs.get("/admin/log")
        assert set(one_outcome_each(found, ids).values()) == {"accepted"}
        filed: dict[str, list[str]] = defaultdict(list)
        for filing in log["filings"]:
            filed[filing["case_id"]].append(filing["reference"])
        assert len(filed) == 20
        for references in filed.values():
            assert references == sorted(references), references  # each case's documents arrived in order
        assert log["peak_in_flight"] > 5  # while cases were filed side by side

    async def test_two_instances_split_the_work_and_hand_over(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        events = authorization_events(template(example_by_name), cases=30, per_case=4, prefix="pair")
        before, after = events[:60], events[60:]
        ids = {e for _, _, e in events}
        async with kafka.customs(FaultSettings(latency_ms=30)) as customs:
            settings = await kafka.settings(
                customs, processing=ProcessingSettings(batch_timeout_ms=20, drain_timeout_s=10)
            )
            first, second = kafka.gateway(settings, customs), kafka.gateway(settings, customs)
            await first.start()
            await second.start()
            try:

                async def split() -> None:  # once the group has settled on both members
                    assert first.assigned_partitions() and second.assigned_partitions()

                await eventually(split, timeout_s=10)
                assert not first.assigned_partitions() & second.assigned_partitions()
                async with kafka.reader(settings) as reader:
                    await kafka.publish(settings, before)
                    await eventually(lambda: _answered_some(first), timeout_s=20)  # it is at work
                    await first.stop()  # graceful: finishes and commits its work, the second takes its partitions
                    await kafka.publish(settings, after)  # lands on every partition, the first's included
                    found = await collect(reader, ids, timeout_s=60)
                assert second.assigned_partitions() == {(settings.topics.input, p) for p in range(3)}
            finally:
                for gateway in (first, second):
                    if gateway.handler.accepting:  # not stopped yet
                        await gateway.stop()
            counts = await customs.get("/admin/filings")
        assert set(one_outcome_each(found, ids).values()) == {"accepted"}
        assert len(counts) == len(events) and set(counts.values()) == {1}

    async def test_killed_before_publishing_means_redelivered(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        """A gateway that dies between consuming an event and publishing its outcome leaves the offset uncommitted:
        the event is delivered again to the gateway that takes over, which files it once."""
        case = example_by_name["authorization-request/accepted/minimal"]
        held = HeldCustoms()  # the first gateway is certainly between "consumed" and "outcome published"
        async with kafka.customs() as customs:
            settings = await kafka.settings(customs)
            async with kafka.reader(settings) as reader:
                async with running(kafka, settings, customs, endpoint=held) as first:
                    await kafka.publish(settings, [(case.key(), case.payload(), str(case.event_id()))])
                    await eventually(lambda: _filing(held), timeout_s=20)
                    await first.commit()  # whatever it committed before dying: never past the event
                    assert set((await kafka.committed(settings)).values()) <= {None, 0}
                    await crash(kafka, first)
                assert await reader.read(timeout_ms=100) == []  # the dead gateway published nothing
                async with running(kafka, settings, customs):
                    outcomes = (await collect(reader, {str(case.event_id())}, timeout_s=30)).get(str(case.event_id()))
            filed = await customs.get("/admin/filings")
        assert outcomes is not None and [o.outcome for o in outcomes] == ["accepted"]
        data = outcomes[0].body()["data"]
        assert isinstance(data, dict) and data["answered_event_id"] == case.event_id()
        assert filed == {data["message_id"]: 1}

    # -- backpressure ---------------------------------------------------------------------------------------

    async def test_a_full_gateway_pauses_and_resumes_as_soon_as_half_is_done(
        self, kafka: Broker, example_by_name: dict[str, Example]
    ) -> None:
        # Housekeeping (commits, the old resume tick) only every 10 minutes: the resume must come from finishing work.
        events = authorization_events(template(example_by_name), cases=12, per_case=1, prefix="pause")
        first, second = events[:6], events[6:]
        customs_held = HeldCustoms()
        async with kafka.customs() as customs:
            settings = await kafka.settings(
                customs,
                processing=ProcessingSettings(max_in_flight=4, batch_timeout_ms=20, commit_interval_ms=600_000),
            )
            holding = running(kafka, settings, customs, endpoint=customs_held)
            async with holding as gateway, kafka.reader(settings) as reader:
                await kafka.publish(settings, first)

                async def full() -> None:
                    assert gateway.scheduler.in_flight == len(first)

                await eventually(full, timeout_s=10)
                await kafka.publish(settings, second)
                # The second round is there to take (published, confirmed); a full gateway does not take it: its
                # consumer fetches from none of its partitions.
                assert kafka.paused(gateway) == kafka.assignment(gateway) != set()
                gateway.refresh_gauges()
                paused_while_full = gateway.metrics.registry.get_sample_value("ecuapass_gateway_consumption_paused")
                taken_while_full = gateway.scheduler.in_flight
                customs_held.release.set()
                found = await collect(reader, {e for _, _, e in events}, timeout_s=30)
        assert paused_while_full == 1 and taken_while_full == len(first)
        assert customs_held.peak <= 4
        assert set(one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}


def _filing(held: HeldCustoms) -> None:
    assert held.waiting == 1


def _answered_some(gateway: Any) -> None:
    samples = gateway.metrics.registry.get_sample_value("ecuapass_gateway_outcomes_total", _ACCEPTED)
    assert samples and samples > 0


_ACCEPTED = {"outcome": "accepted", "document": "authorization-request", "stage": ""}


def _partition_of(settings: Settings, key: bytes) -> int:
    """The partition aiokafka's producer (murmur2, as the Java client) puts ``key`` in."""
    partitions = list(range(settings.topics.partitions))
    return int(DefaultPartitioner()(key, partitions, partitions))
