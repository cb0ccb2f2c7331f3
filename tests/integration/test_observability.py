"""Ops on the real broker and the real mock: metrics move, readiness flips, one trace end to end, masked logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker, free_port
from gateway.devstack.demo import OutcomeReader, exchange
from gateway.kafka.service import Gateway
from gateway.kafka.topics import ensure_topics
from gateway.runtime import logs
from gateway.settings import CircuitSettings, RetrySettings, Settings
from gateway.tools.examples import Example, examples
from tests.harness.waiting import eventually
from tests.integration.conftest import authorization_events, collect, make_settings, publish


async def _get(url: str, wait_s: float = 5.0) -> httpx.Response:
    """The ops server runs in this test's event loop: ask it without blocking the loop."""
    async with httpx.AsyncClient(timeout=wait_s) as client:
        return await client.get(url)


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _value(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for key, value in samples.items():
        metric, _, rest = key.partition("{")
        if metric == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total


async def test_metrics_move_as_events_flow(broker: TansuBroker, example_by_name: dict[str, Example]) -> None:
    injector = FaultInjector(FaultSettings())
    with MockServer(faults=injector) as mock:
        settings = make_settings(
            broker.bootstrap_servers, mock.url, retry=RetrySettings(max_attempts=20, initial_backoff_s=0.01)
        )
        await ensure_topics(settings)
        gateway = build_gateway(settings)
        await gateway.start()
        # After the start-up probe (a status query), so that every fault hits a filing; seed 4: the first are errors.
        injector.configure(FaultSettings(seed=4, error_rate=0.5))
        try:
            assert gateway.ops is not None
            before = _samples((await _get(f"{gateway.ops.url}/metrics")).text)
            assert _value(before, "ecuapass_gateway_circuit_state", state="closed") == 1
            cases = [
                example_by_name["authorization-request/accepted/minimal"],
                example_by_name["authorization-request/rejected/R51-AUT-003--return-after-two-years"],
                example_by_name["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"],
                example_by_name["dead-letter/not_json--truncated"],
            ]
            results = await exchange(settings, cases, timeout_s=30)
            assert all(results.values())
            ops = gateway.ops.url

            async def measured() -> dict[str, float]:  # the lag gauge is set by the housekeeping loop
                samples = _samples((await _get(f"{ops}/metrics")).text)
                assert "ecuapass_gateway_consumer_lag_records" in "".join(samples)
                return samples

            after = await eventually(measured, timeout_s=5)
            injected = _value(_samples(httpx.get(f"{mock.url}/metrics").text), "ecuapass_mock_faults_injected_total")
        finally:
            await gateway.stop()
    auth = "ecuapass.regime51.authorization-requested.v1"
    assert _value(after, "ecuapass_gateway_events_consumed_total", type=auth) == 3
    assert _value(after, "ecuapass_gateway_events_consumed_total", type="undecodable") == 1
    assert _value(after, "ecuapass_gateway_outcomes_total", outcome="accepted") == 1
    assert _value(after, "ecuapass_gateway_outcomes_total", outcome="rejected", stage="BUSINESS") == 1
    assert _value(after, "ecuapass_gateway_outcomes_total", outcome="rejected", stage="CONTRACT") == 1
    assert _value(after, "ecuapass_gateway_rejection_errors_total", code="R51-AUT-003") == 1
    assert _value(after, "ecuapass_gateway_rejection_errors_total", code="GW-RUC_INVALID") == 1
    assert _value(after, "ecuapass_gateway_dead_letters_total", reason="not_json") == 1
    assert _value(after, "ecuapass_gateway_filings_total", result="accepted") == 1
    assert injected >= 1
    assert _value(after, "ecuapass_gateway_filing_retries_total", cause="http_503") == injected  # each 503 retried
    assert _value(after, "ecuapass_gateway_endpoint_request_duration_seconds_count", method="POST") >= 2
    assert _value(after, "ecuapass_gateway_end_to_end_latency_seconds_count") == 3
    assert "ecuapass_gateway_consumer_lag_records" in "".join(after)
    assert _value(after, "ecuapass_gateway_events_in_flight") == 0


async def test_readiness_follows_the_endpoint_and_the_broker(
    tmp_path: Path, example_by_name: dict[str, Example]
) -> None:
    port = free_port()
    with TansuBroker(log_path=tmp_path / "tansu.log") as own_broker:
        settings = make_settings(
            own_broker.bootstrap_servers,
            f"http://127.0.0.1:{port}",
            retry=RetrySettings(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02),
            circuit=CircuitSettings(failure_threshold=2, open_s=0.3),
        )
        settings = settings.model_copy(  # the broker will vanish: do not wait long for it when stopping
            update={
                "kafka": settings.kafka.model_copy(update={"request_timeout_ms": 3000}),
                "processing": settings.processing.model_copy(update={"drain_timeout_s": 2.0}),
            }
        )
        await ensure_topics(settings)
        gateway = build_gateway(settings)
        await gateway.start()
        try:
            assert gateway.ops is not None
            ops = gateway.ops.url
            with MockServer(port=port):
                await gateway.wait_assigned()
                ready = await _get(f"{ops}/readyz")
                assert ready.status_code == 200, ready.text
            assert (await _get(f"{ops}/healthz")).status_code == 200
            # Customs goes away: the first filings fail, the circuit opens, the gateway is no longer ready.
            template = example_by_name["authorization-request/accepted/minimal"].payload()
            await publish(settings, authorization_events(template, cases=3, per_case=1, prefix="ready"))

            async def not_ready() -> httpx.Response:
                answer = await _get(f"{ops}/readyz")
                assert answer.status_code == 503
                return answer

            answer = await eventually(not_ready, timeout_s=5)
            assert answer.json()["checks"]["customs_circuit_closed"] is False
            assert (await _get(f"{ops}/healthz")).status_code == 200  # alive all the same
            # The broker goes away as well.
            own_broker.stop()

            async def broker_gone() -> httpx.Response:
                answer = await _get(f"{ops}/readyz", wait_s=10)
                assert answer.json()["checks"]["broker"] is False
                return answer

            answer = await eventually(broker_gone, timeout_s=30, interval_s=0.1)
            assert answer.status_code == 503
        finally:
            await asyncio.wait_for(gateway.stop(), 60)


async def test_one_traceparent_from_input_to_customs_to_outcome(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    case = example_by_name["authorization-request/accepted/minimal"]
    reader = OutcomeReader(settings)
    await reader.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topics.input, case.payload(), key=case.key(), headers=[("traceparent", traceparent.encode())]
        )
        found = await collect(reader, {str(case.event_id())}, timeout_s=20)
    finally:
        await producer.stop()
        await reader.stop()
    (outcome,) = found[str(case.event_id())]
    assert outcome.headers["traceparent"].split("-")[1] == trace_id  # type: ignore[attr-defined]
    (filed,) = httpx.get(f"{mock_endpoint.url}/admin/log").json()["filings"]
    assert filed["traceparent"].split("-")[1] == trace_id


async def test_no_identifier_or_name_in_info_logs(gateway: Gateway, settings: Settings) -> None:
    secrets = set()
    for example in examples():
        try:
            event = json.loads(example.payload())
        except ValueError:
            continue
        _secrets(event, secrets)
    assert {"1790011674001", "Industrias Andinas S.A."} <= secrets
    stream = io.StringIO()
    handler = logs.handler(settings.model_copy(update={"log_format": "json"}), stream)
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        results = await exchange(settings, examples(), timeout_s=60)
        assert all(results.values())
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and any("case_id" in line and "event_id" in line for line in lines)
    leaked = sorted(secret for secret in secrets if secret in text)
    assert leaked == []
    assert re.search(r"\*{10}\d{3}", text) or not any("RUC" in line["message"] for line in lines)


def _secrets(value: Any, found: set[str], key: str = "") -> None:
    if isinstance(value, dict):
        for child_key, child in value.items():
            _secrets(child, found, child_key)
    elif isinstance(value, list):
        for child in value:
            _secrets(child, found, key)
    elif isinstance(value, str) and (key in {"ruc", "sender", "name"} or re.fullmatch(r"\d{10}|\d{13}", value)):
        found.add(value)
