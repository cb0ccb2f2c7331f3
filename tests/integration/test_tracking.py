"""``case`` and ``tail`` through the real CLI, against the real broker with a gateway filing with the mock."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer

from ecuapass_mock.server import MockServer
from gateway.devstack.demo import exchange
from gateway.kafka.service import Gateway
from gateway.settings import Settings
from gateway.tools.examples import Example
from tests.integration.conftest import gateway_environment, publish

PROCEDURE = ("authorization-request", "export-declaration", "warehouse-entry")
NUMBER = {
    "authorization-request": r"^\d{3}-\d{4}-AUT51-\d{8}$",
    "export-declaration": r"^\d{3}-\d{4}-51-\d{8}$",
    "warehouse-entry": r"^\d{3}-\d{4}-IE51-\d{8}$",
}


async def cli(settings: Settings, url: str, *args: str, timeout_s: float = 60) -> tuple[int, str, str]:
    """Run ``python -m gateway ARGS`` to its end without blocking the event loop (the gateway runs in it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        env=gateway_environment(settings, url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@asynccontextmanager
async def tailing(settings: Settings, url: str, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``tail ARGS`` running, and following (its 'following …' notice read); killed if the test leaves it running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "tail",
        *args,
        env=gateway_environment(settings, url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    errors: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while not any(line.startswith("following ") for line in errors):
            line = await asyncio.wait_for(process.stderr.readline(), max(0.1, deadline - time.monotonic()))
            assert line, f"tail ended before following: {''.join(errors)}"
            errors.append(line.decode())
        draining = asyncio.create_task(_drain(process.stderr, errors))  # keep its stderr from filling up
        try:
            yield process
        finally:
            draining.cancel()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _drain(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode())


async def read_lines(process: asyncio.subprocess.Process, done: Any, timeout_s: float = 30) -> list[str]:
    """Lines of the process's stdout until ``done(lines)`` holds (fails after ``timeout_s``)."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while not done(lines):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; read so far: {lines}"
        line = await asyncio.wait_for(process.stdout.readline(), remaining)
        assert line, f"stdout closed; read so far: {lines}"
        lines.append(line.decode())
    return lines


async def stop(process: asyncio.subprocess.Process, sig: signal.Signals) -> int:
    process.send_signal(sig)
    return await asyncio.wait_for(process.wait(), 30)


async def test_case_lists_the_procedure_in_order(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    entry = example_by_name["warehouse-entry/accepted/minimal"]
    results = await exchange(settings, [entry])  # files its authorization and DAE first
    assert [case.document for case in results] == list(PROCEDURE)
    numbers = []
    for case, received in results.items():
        assert received is not None and received.outcome == "accepted", case.name
        data = received.body()["data"]
        assert isinstance(data, dict)
        numbers.append(data["official_number"])
    case_id = entry.key().decode()

    code, out, err = await cli(settings, mock_endpoint.url, "case", case_id, "--json")
    assert code == 0, err
    timeline = [json.loads(line) for line in out.splitlines()]
    assert [(e["outcome"], e["document"], e["official_number"]) for e in timeline] == [
        ("accepted", document, number) for document, number in zip(PROCEDURE, numbers, strict=True)
    ]
    for line in timeline:
        assert re.match(NUMBER[line["document"]], line["official_number"])
        assert line["case_id"] == case_id and len(line["submission_number"]) == 21
    assert timeline[0]["valid_until"] and timeline[2]["inspection_channel"]
    assert [e["time"] for e in timeline] == sorted(e["time"] for e in timeline)

    code, out, err = await cli(settings, mock_endpoint.url, "case", case_id)
    assert code == 0, err
    assert f"Case {case_id}: 3 outcomes (3 accepted)" in out
    assert out.count("ACCEPTED") == 3
    positions = [out.index(number) for number in numbers]
    assert positions == sorted(positions)


async def test_case_shows_rejections_with_code_and_path_and_masks_identifiers(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    by_customs = example_by_name["authorization-request/rejected/R51-AUT-003--return-after-two-years"]
    by_gateway = example_by_name["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"]
    results = await exchange(settings, [by_customs, by_gateway])
    assert all(received is not None and received.outcome == "rejected" for received in results.values())

    code, out, err = await cli(settings, mock_endpoint.url, "case", by_customs.key().decode(), "--json")
    assert code == 0, err
    (rejection,) = [json.loads(line) for line in out.splitlines()]
    assert (rejection["outcome"], rejection["stage"], rejection["rejected_by"]) == ("rejected", "BUSINESS", "customs")
    assert ("R51-AUT-003", "data.planned_return_date") in {(e["code"], e["path"]) for e in rejection["errors"]}
    code, out, err = await cli(settings, mock_endpoint.url, "case", by_customs.key().decode())
    assert code == 0, err
    assert "REJECTED" in out and "R51-AUT-003 at data.planned_return_date" in out

    ruc = json.loads(by_gateway.read())["data"]["applicant"]["ruc"]
    code, out, err = await cli(settings, mock_endpoint.url, "case", by_gateway.key().decode())
    assert code == 0, err
    assert "GW-RUC_INVALID at data.applicant.ruc" in out and "stage CONTRACT" in out
    assert ruc not in out and "*" * 10 + ruc[-3:] in out


async def test_an_unknown_case_exits_1(settings: Settings, mock_endpoint: MockServer) -> None:
    code, out, err = await cli(settings, mock_endpoint.url, "case", "CASE-NOBODY-KNOWS")
    assert code == 1
    assert out == ""
    assert "nothing is known about case CASE-NOBODY-KNOWS" in err


async def test_case_reads_every_record_of_the_last_batch(settings: Settings, mock_endpoint: MockServer) -> None:
    """Tansu reports a partition's end as its last batch's first offset + 1: the rest of that batch counts too."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=50)
    await producer.start()
    try:
        sent = [
            await producer.send(
                settings.topics.dlq,
                f"{{broken {n}".encode(),
                key=b"CASE-BATCH",
                headers=[("dlq.reason", b"not_json"), ("dlq.original.key", b"CASE-BATCH")],
            )
            for n in range(3)
        ]
        await producer.flush()
        assert len({(await result).partition for result in sent}) == 1
    finally:
        await producer.stop()
    code, out, err = await cli(settings, mock_endpoint.url, "case", "CASE-BATCH", "--json")
    assert code == 0, err
    assert [json.loads(line)["reason"] for line in out.splitlines()] == ["not_json"] * 3


async def test_tail_follows_outcomes_live_and_stops_on_sigterm(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    accepted = example_by_name["authorization-request/accepted/minimal"]
    invalid = example_by_name["authorization-request/invalid/GW-STRING_PATTERN_MISMATCH--tariff-code-8-digits"]
    malformed = example_by_name["dead-letter/not_json--truncated"]
    events = [(case.key(), case.payload(), str(case.event_id())) for case in (accepted, invalid, malformed)]

    async with tailing(settings, mock_endpoint.url, "--json") as process:
        await publish(settings, events)
        lines = await read_lines(process, lambda lines: len(lines) >= 3)
        assert await stop(process, signal.SIGTERM) == 0
    by_kind = {entry["outcome"]: entry for entry in map(json.loads, lines)}
    assert set(by_kind) == {"accepted", "rejected", "dead-letter"}
    ack, rejection, letter = by_kind["accepted"], by_kind["rejected"], by_kind["dead-letter"]
    assert (ack["case_id"], ack["event_id"]) == (accepted.key().decode(), accepted.event_id())
    assert re.match(NUMBER["authorization-request"], ack["official_number"])
    assert rejection["stage"] == "CONTRACT" and rejection["event_id"] == invalid.event_id()
    assert ("GW-STRING_PATTERN_MISMATCH", "data.items[0].tariff_code") in {
        (e["code"], e["path"]) for e in rejection["errors"]
    }
    assert (letter["reason"], letter["case_id"]) == ("not_json", malformed.key().decode())
    assert letter["original_record"].startswith(f"{settings.topics.input}:")

    # From the beginning, in the readable form though stdout is a pipe; SIGINT stops it as well.
    async with tailing(settings, mock_endpoint.url, "--from-beginning", "--pretty") as process:
        expected = (ack["official_number"], "GW-STRING_PATTERN_MISMATCH", "reason not_json")
        shown = "".join(await read_lines(process, lambda lines: all(text in "".join(lines) for text in expected)))
        assert await stop(process, signal.SIGINT) == 0
    assert shown.count("ACCEPTED") == shown.count("REJECTED") == shown.count("DEAD LETTER") == 1
