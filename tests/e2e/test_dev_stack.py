"""The stack as a newcomer starts it: ``ecuapass-gateway dev`` (what ``make run`` runs) and ``dev --serve``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx

from gateway import documents
from gateway.contract.replies import read_reply
from gateway.devstack.broker import free_port
from gateway.devstack.demo import exchange
from gateway.devstack.stack import example_senders
from gateway.documents import decode
from gateway.settings import KafkaSettings, Settings
from gateway.tools.examples import Example, examples


def test_demo_walks_every_case_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "dev"], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(examples())
    assert f"{count} of {count} demo cases reached their expected outcome." in done.stdout
    assert re.search(r"reply: ACCEPTED  submission \d{21}  number 028-\d{4}-AUT51-\d{8}", done.stdout)
    assert "R51-AUT-003 at data.planned_return_date" in done.stdout
    assert "GW-STRING_PATTERN_MISMATCH at data.items[0].tariff_code" in done.stdout
    assert "dead letter: not_json" in done.stdout
    # The intake: customs' notifications of the accepted warehouse entries, read from the notifications topic.
    assert re.search(r"notification NTF-\d{12} exit-authorized to EXPORTER about case CASE-", done.stdout)
    assert re.search(r"Every one of the \d+ accepted warehouse entries reached exit-authorized\.", done.stdout)


async def test_serve_runs_until_sigterm(example_by_name: dict[str, Example]) -> None:
    kafka_port, mock_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "dev",
            "--serve",
            "--kafka-port",
            str(kafka_port),
            "--mock-port",
            str(mock_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Serving") for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stdout.readline())
        text = "".join(lines)
        assert f"Kafka bootstrap: 127.0.0.1:{kafka_port}" in text
        assert f"Mock Ecuapass:   http://127.0.0.1:{mock_port}" in text
        assert f"Signing:         {len(example_senders())} agencies; the mock trusts /" in text

        settings = Settings(kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{kafka_port}"))
        case = example_by_name["authorization-request/accepted/full-multiline"]
        received = (await exchange(settings, [case], timeout_s=30))[case]
        assert received is not None and received.outcome == "accepted"  # signed: this mock refuses anything else
        unsigned = documents.map_event(decode(example_by_name["authorization-request/accepted/minimal"].payload()))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{mock_port}") as client:
            answer = await client.post(
                "/api/v1/documents",
                content=unsigned.to_bytes(),
                headers={"content-type": "application/xml", "x-message-id": unsigned.message_id},
            )
        reply = read_reply(answer.content)
        assert reply.status == "REJECTED" and reply.rejection is not None
        assert [error.code for error in reply.rejection.errors] == ["R51-SIG-001"]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
