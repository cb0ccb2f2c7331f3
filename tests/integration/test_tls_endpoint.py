"""The customs endpoint secured: HTTPS with a private CA, mutual TLS, a bearer token, against the mock served over
real TLS on 127.0.0.1. Certificates are made per module (``tests/certificates.py``); no key is committed.

What is checked: filings go through when everything is right; a wrong CA, a missing or untrusted client
certificate and a wrong token stop the gateway at start-up with a clear ``ConfigurationError``, and at run time are
permanent failures (dead letter, never retried); the token never shows in logs, errors or outcomes.
"""

from __future__ import annotations

import logging
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from ecuapass_mock.server import MockServer, MockTls
from gateway import documents
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker, free_port
from gateway.devstack.demo import OutcomeReader
from gateway.documents import decode
from gateway.errors import ConfigurationError, PermanentDeliveryError
from gateway.kafka.topics import ensure_topics
from gateway.outcomes import DeadLetter
from gateway.pipeline import InboundRecord, Pipeline
from gateway.ports import Filing
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.tools.examples import Example
from tests.certificates import Pki, issue
from tests.integration.conftest import collect, gateway_environment, make_settings, publish

TOKEN = "s3cr3t-T0KEN-d0-not-log"
WRONG_TOKEN = "wr0ng-T0KEN-d0-not-log-either"
RETRY = RetrySettings(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return issue(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def https_mock(pki: Pki) -> Iterator[MockServer]:
    """HTTPS, server certificate only."""
    with MockServer(tls=MockTls(pki.server_cert, pki.server_key)) as server:
        yield server


@pytest.fixture
def mtls_mock(pki: Pki) -> Iterator[MockServer]:
    """HTTPS asking for a client certificate from the test CA, and a bearer token."""
    with MockServer(tls=MockTls(pki.server_cert, pki.server_key, pki.ca), require_token=TOKEN) as server:
        yield server


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n", encoding="utf-8")
    return path


def _endpoint(url: str, **security: object) -> HttpCustomsEndpoint:
    return HttpCustomsEndpoint(EcuapassSettings(url=url, read_timeout_s=5.0, **security), RETRY)  # type: ignore[arg-type]


def _filing(example: Example) -> Filing:
    document = documents.map_event(decode(example.payload()))
    return Filing(document.kind, document.message_id, document.to_bytes())


def _requests(mock: MockServer, pki: Pki, route: str = "file") -> dict[str, float]:
    """The mock's request counts for a route, by status code (its metrics need no client certificate)."""
    text = httpx.get(f"{mock.url}/metrics", verify=ssl.create_default_context(cafile=pki.ca)).text
    counts = {}
    for line in text.splitlines():
        if line.startswith("ecuapass_mock_requests_total{") and f'route="{route}"' in line:
            status = line.split('code="')[1].split('"')[0]
            counts[status] = float(line.rsplit(" ", 1)[1])
    return counts


async def test_files_over_https_verifying_the_server(
    https_mock: MockServer, pki: Pki, example_by_name: dict[str, Example]
) -> None:
    endpoint = _endpoint(https_mock.url, ssl_cafile=pki.ca)
    try:
        await endpoint.probe()
        reply = await endpoint.file(_filing(example_by_name["authorization-request/accepted/minimal"]))
    finally:
        await endpoint.aclose()
    assert reply.status == "ACCEPTED"


async def test_files_over_mutual_tls_with_the_token_from_a_file(
    mtls_mock: MockServer, pki: Pki, token_file: Path, example_by_name: dict[str, Example]
) -> None:
    endpoint = _endpoint(
        mtls_mock.url,
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
        token_file=token_file,
    )
    try:
        await endpoint.probe()
        reply = await endpoint.file(_filing(example_by_name["authorization-request/accepted/minimal"]))
    finally:
        await endpoint.aclose()
    assert reply.status == "ACCEPTED"
    assert _requests(mtls_mock, pki) == {"200": 1.0}


async def test_the_gateway_end_to_end_over_mutual_tls_never_logs_the_token(
    broker: TansuBroker,
    mtls_mock: MockServer,
    pki: Pki,
    example_by_name: dict[str, Example],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ecuapass = EcuapassSettings(
        url=mtls_mock.url,  # type: ignore[arg-type]
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
        token=TOKEN,  # type: ignore[arg-type]
    )
    settings = make_settings(broker.bootstrap_servers, mtls_mock.url, ecuapass=ecuapass)
    await ensure_topics(settings)
    example = example_by_name["authorization-request/accepted/minimal"]
    caplog.set_level(logging.DEBUG)  # the most a log can show: payloads, HTTP client internals
    gateway = build_gateway(settings)
    await gateway.start()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await gateway.wait_assigned()
        event_id = decode(example.payload()).id
        await publish(settings, [(b"CASE-TLS", example.payload(), event_id)])
        found = await collect(reader, {event_id}, timeout_s=30)
    finally:
        await reader.stop()
        await gateway.stop()
    (received,) = found[event_id]
    assert received.outcome == "accepted"  # type: ignore[attr-defined]
    assert TOKEN not in received.value.decode()  # type: ignore[attr-defined]
    assert "customs endpoint" in caplog.text and "mutual TLS, bearer token" in caplog.text
    assert TOKEN not in caplog.text


async def test_an_untrusted_server_certificate_stops_the_gateway_at_start_up(
    https_mock: MockServer, pki: Pki, example_by_name: dict[str, Example]
) -> None:
    endpoint = _endpoint(https_mock.url, ssl_cafile=pki.untrusted_ca)
    try:
        with pytest.raises(ConfigurationError, match=r"TLS with the customs endpoint .* certificate verify failed"):
            await endpoint.probe()
        # At run time (customs changed certificates under a running gateway): permanent, no retry.
        with pytest.raises(PermanentDeliveryError, match="certificate verify failed") as caught:
            await endpoint.file(_filing(example_by_name["authorization-request/accepted/minimal"]))
    finally:
        await endpoint.aclose()
    assert caught.value.attempts == 1


def test_run_exits_with_a_clear_message_when_the_endpoint_tls_is_wrong(
    https_mock: MockServer, pki: Pki, tmp_path: Path
) -> None:
    """``ecuapass-gateway run`` as an operator starts it: exit 2 and one line saying what is wrong, before Kafka."""
    settings = make_settings(f"127.0.0.1:{free_port()}", https_mock.url)
    env = gateway_environment(settings, https_mock.url) | {"GATEWAY_ECUAPASS__SSL_CAFILE": str(pki.untrusted_ca)}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "TLS with the customs endpoint" in done.stderr and "certificate verify failed" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_missing_client_certificate_is_refused_and_said(
    mtls_mock: MockServer, pki: Pki, example_by_name: dict[str, Example]
) -> None:
    endpoint = _endpoint(mtls_mock.url, ssl_cafile=pki.ca, token=TOKEN)
    try:
        with pytest.raises(ConfigurationError, match=r"HTTP 403: .*client certificate required"):
            await endpoint.probe()
        with pytest.raises(PermanentDeliveryError, match="HTTP 403") as caught:
            await endpoint.file(_filing(example_by_name["authorization-request/accepted/minimal"]))
    finally:
        await endpoint.aclose()
    assert caught.value.status_code == 403
    assert _requests(mtls_mock, pki) == {"403": 1.0}  # refused once, not retried


async def test_a_client_certificate_from_another_ca_stops_the_gateway_at_start_up(
    mtls_mock: MockServer, pki: Pki
) -> None:
    """Under TLS 1.3 the server refuses the certificate after the client finished its handshake: the client sees a
    closed connection, not an alert. Every connection closing right after the handshake is the tell."""
    endpoint = _endpoint(
        mtls_mock.url,
        ssl_cafile=pki.ca,
        ssl_certfile=pki.untrusted_client_cert,
        ssl_keyfile=pki.untrusted_client_key,
        token=TOKEN,
    )
    try:
        with pytest.raises(ConfigurationError, match="does not trust the client certificate"):
            await endpoint.probe()
    finally:
        await endpoint.aclose()


async def test_a_wrong_token_is_permanent_never_retried_and_never_shown(
    mtls_mock: MockServer, pki: Pki, example_by_name: dict[str, Example], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = _endpoint(
        mtls_mock.url,
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
        token=WRONG_TOKEN,
    )
    example = example_by_name["authorization-request/accepted/minimal"]
    try:
        with pytest.raises(ConfigurationError, match="HTTP 401") as at_start:
            await endpoint.probe()
        outcome = await Pipeline(endpoint, source="urn:test").process(InboundRecord(example.payload(), b"CASE-401"))
    finally:
        await endpoint.aclose()
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason == "delivery_failed" and outcome.error_class == "PermanentDeliveryError"
    assert "HTTP 401" in outcome.detail and outcome.attempts == 1
    assert _requests(mtls_mock, pki) == {"401": 1.0}
    for text in (str(at_start.value), outcome.detail, repr(outcome), caplog.text):
        assert WRONG_TOKEN not in text and TOKEN not in text


async def test_customs_down_at_start_up_does_not_stop_the_gateway(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = _endpoint(f"https://127.0.0.1:{free_port()}")
    try:
        await endpoint.probe()
    finally:
        await endpoint.aclose()
    assert "not reachable at start-up" in caplog.text


async def test_the_mock_command_serves_mutual_tls_with_a_token_file(
    pki: Pki, token_file: Path, tmp_path: Path, example_by_name: dict[str, Example]
) -> None:
    """``ecuapass-gateway mock --tls-cert --tls-key --tls-client-ca --require-token FILE`` as an operator runs it."""
    port = free_port()
    command = [sys.executable, "-m", "gateway", "mock", "--port", str(port), "--state", str(tmp_path / "s.sqlite3")]
    command += ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
    command += ["--tls-client-ca", str(pki.ca), "--require-token", str(token_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().decode()
        assert f"Mock Ecuapass on https://127.0.0.1:{port}" in banner, banner
        url = f"https://127.0.0.1:{port}"
        files = {"ssl_cafile": pki.ca, "ssl_certfile": pki.client_cert, "ssl_keyfile": pki.client_key}
        right, wrong = _endpoint(url, token_file=token_file, **files), _endpoint(url, token=WRONG_TOKEN, **files)
        try:
            await right.probe()
            reply = await right.file(_filing(example_by_name["authorization-request/accepted/minimal"]))
            with pytest.raises(ConfigurationError, match="HTTP 401"):
                await wrong.probe()
        finally:
            await right.aclose()
            await wrong.aclose()
        assert reply.status == "ACCEPTED"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "{cert}"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "{cert}", "--tls-key", "{ca}"], "cannot load the mock's TLS files"),
    ],
)
def test_the_mock_command_refuses_bad_tls_flags_at_once(pki: Pki, flags: list[str], message: str) -> None:
    arguments = [flag.format(cert=pki.server_cert, ca=pki.ca) for flag in flags]
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "mock", "--port", str(free_port()), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
