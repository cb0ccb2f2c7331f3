"""``ecuapass-gateway mock`` as a process: state survives SIGKILL, faults come from flags and environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from gateway import documents
from gateway.contract.notifications import ECUADOR
from gateway.contract.replies import read_reply
from gateway.devstack.broker import free_port
from gateway.documents import decode
from gateway.tools.examples import Example
from tests.harness.waiting import eventually_sync


@contextmanager
def mock_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "mock", "--port", str(port), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"the mock did not start: it exited with {process.returncode}")
        try:
            httpx.get(f"{url}/healthz", timeout=0.5)
        except httpx.TransportError as exc:
            raise AssertionError(f"the mock did not start: {exc!r}") from exc

    try:
        eventually_sync(answering, timeout_s=20)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_state_survives_sigkill(tmp_path: Path, example_by_name: dict[str, Example]) -> None:
    state = tmp_path / "mock.sqlite3"
    document = documents.build(decode(example_by_name["authorization-request/accepted/minimal"].payload())).to_bytes()
    with mock_process("--state", str(state)) as (process, url):
        answer = httpx.post(f"{url}/api/v1/documents", content=document, headers={"Content-Type": "application/xml"})
        reply = read_reply(answer.content)
        assert reply.status == "ACCEPTED"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with mock_process("--state", str(state)) as (_, url):
        assert httpx.get(f"{url}/api/v1/documents/{reply.message_id}").content == answer.content
        assert httpx.get(f"{url}/admin/filings").json() == {reply.message_id: 1}
        # Numbering continues where it stopped: the next authorization gets the next number.
        event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
        event["id"], event["data"]["local_reference"] = "after-restart", "SOL-AFTER-1"
        second = documents.build(decode(json.dumps(event).encode())).to_bytes()
        following = read_reply(httpx.post(f"{url}/api/v1/documents", content=second).content)
        assert following.acceptance is not None and reply.acceptance is not None
        assert following.acceptance.official_number[-8:] == f"{int(reply.acceptance.official_number[-8:]) + 1:08d}"


def test_faults_from_flags_and_environment(tmp_path: Path) -> None:
    with mock_process("--state", str(tmp_path / "a.sqlite3"), "--throttle-rate", "1", "--retry-after-s", "9") as (
        _,
        url,
    ):
        response = httpx.post(f"{url}/api/v1/documents", content=b"<x/>")
        assert response.status_code == 429 and response.headers["retry-after"] == "9"
    env = {"MOCK_FAULTS__ERROR_RATE": "1"}
    with mock_process("--state", str(tmp_path / "b.sqlite3"), env=env) as (_, url):
        assert httpx.post(f"{url}/api/v1/documents", content=b"<x/>").status_code == 503
        assert httpx.get(f"{url}/admin/faults").json()["error_rate"] == 1.0


def test_lifecycle_and_feed_settings_reach_the_mock_process(
    tmp_path: Path, example_by_name: dict[str, Example]
) -> None:
    """``MOCK_LIFECYCLE__*`` and ``MOCK_FEED__*`` are the process's: an automatic exit planned a day after the entry,
    pages of one notification."""
    from types import SimpleNamespace

    from tests.integration.test_mock_notifications import ManualClock, Mock

    env = {"MOCK_LIFECYCLE__AUTOMATIC_EXIT_S": "86400", "MOCK_FEED__PAGE_SIZE": "1", "MOCK_FEED__MAX_PAGE_SIZE": "1"}
    with mock_process("--state", str(tmp_path / "mock.sqlite3"), env=env) as (_, url):
        mock = Mock(SimpleNamespace(url=url), ManualClock(datetime.now(ECUADOR)), example_by_name)  # type: ignore[arg-type]
        try:
            case = mock.case("-AUTO")
            planned = mock.http.get(f"/admin/notifications/{case.entry_message_id}").json()["planned"]
            assert [p["type"] for p in planned] == ["exit-authorized"]
            due = datetime.fromisoformat(planned[0]["due_at"])
            assert due - datetime.now(ECUADOR) > timedelta(hours=23)
            for kind in ("review-started", "exit-authorized"):
                assert mock.inject(case.dae_message_id, kind).status_code == 201
            page = mock.feed(limit=50)
            assert len(page.notifications) == 1 and page.more  # capped at the process's MAX_PAGE_SIZE
        finally:
            mock.http.close()
