"""Security settings to clients, without a network: Kafka TLS/SASL objects for FastStream and aiokafka, the
customs endpoint's TLS files and token, and how the adapter classes refusals (httpx.MockTransport)."""

from __future__ import annotations

import gzip
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from faststream.kafka.security import parse_security
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.contract.replies import write_reply
from gateway.errors import ConfigurationError, PermanentDeliveryError
from gateway.kafka.security import broker_security, client_security
from gateway.ports import Acceptance, CustomsReply, Filing, Reception
from gateway.settings import EcuapassSettings, KafkaSettings, ProcessingSettings, RetrySettings, Settings
from tests.certificates import Pki, issue

PASSWORD = "kafka-pa55word"
TOKEN = "t0ken-for-customs"
FILING = Filing("authorization-request", "0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251", b"<doc/>")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return issue(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def encrypted_key(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), password=None)
    path = tmp_path_factory.mktemp("encrypted") / "client.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    return path


# -- Kafka ---------------------------------------------------------------------------------------------------------


def test_plaintext_kafka_has_no_security_object() -> None:
    assert broker_security(KafkaSettings()) is None
    assert client_security(KafkaSettings()) == {"security_protocol": "PLAINTEXT"}


def test_ssl_gives_a_verifying_context_to_both_clients(pki: Pki) -> None:
    kafka = KafkaSettings(
        security_protocol="SSL", ssl_cafile=pki.ca, ssl_certfile=pki.client_cert, ssl_keyfile=pki.client_key
    )
    parsed = parse_security(broker_security(kafka))
    assert parsed["security_protocol"] == "SSL"
    context = parsed["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert client_security(kafka)["security_protocol"] == "SSL"
    assert isinstance(client_security(kafka)["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(
    ("mechanism", "expected_class"),
    [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_settings_give_the_right_faststream_and_aiokafka_arguments(
    pki: Pki, mechanism: str, expected_class: type, protocol: str
) -> None:
    kafka = KafkaSettings(
        security_protocol=protocol,  # type: ignore[arg-type]
        sasl_mechanism=mechanism,  # type: ignore[arg-type]
        sasl_username="gateway",
        sasl_password=PASSWORD,  # type: ignore[arg-type]
        ssl_cafile=pki.ca if protocol == "SASL_SSL" else None,
    )
    security = broker_security(kafka)
    assert isinstance(security, expected_class)
    parsed = parse_security(security)
    plain = client_security(kafka)
    for arguments in (parsed, plain):
        assert arguments["security_protocol"] == protocol
        assert arguments["sasl_mechanism"] == mechanism
        assert arguments["sasl_plain_username"] == "gateway"
        assert arguments["sasl_plain_password"] == PASSWORD
        assert isinstance(arguments.get("ssl_context"), ssl.SSLContext) == (protocol == "SASL_SSL")
    assert PASSWORD not in repr(kafka)


def test_kafka_tls_files_that_cannot_be_loaded_are_named(pki: Pki, encrypted_key: Path, tmp_path: Path) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"ssl_cafile": tmp_path / "missing.pem"}, "kafka.ssl_cafile .*No such file"),
        ({"ssl_cafile": pki.client_key}, "kafka.ssl_cafile"),
        ({"ssl_certfile": pki.client_cert, "ssl_keyfile": pki.server_key}, "kafka.ssl_certfile .*MISMATCH"),
        ({"ssl_certfile": pki.client_cert, "ssl_keyfile": encrypted_key}, "kafka.ssl_keyfile is encrypted"),
        ({"ssl_keyfile": pki.client_key}, "kafka.ssl_keyfile is set without kafka.ssl_certfile"),
    ]
    for files, message in cases:
        with pytest.raises(ConfigurationError, match=message) as caught:
            broker_security(KafkaSettings(security_protocol="SSL", **files))  # type: ignore[arg-type]
        assert caught.value.fields and all(field.startswith("kafka.ssl_") for field in caught.value.fields)
        assert "GATEWAY_" not in str(caught.value)  # the entry point names the variables (gateway.cli)


# -- settings --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token": TOKEN, "token_file": "/run/secrets/token"}, "not both"),
        ({"url": "https://customs.test/", "ssl_keyfile": "/k.pem"}, "ssl_keyfile needs ssl_certfile"),
        ({"ssl_cafile": "/ca.pem"}, "need an https:// url"),
    ],
)
def test_inconsistent_endpoint_security_is_refused_at_start(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        EcuapassSettings(**fields)  # type: ignore[arg-type]
    assert TOKEN not in str(caught.value)


def test_dead_letters_must_fit_under_the_producers_limit() -> None:
    with pytest.raises(ValidationError, match="must leave 16384 bytes"):
        Settings(processing=ProcessingSettings(max_event_bytes=1_048_576))
    Settings(kafka=KafkaSettings(max_message_bytes=2_000_000), processing=ProcessingSettings(max_event_bytes=1_048_576))


# -- the endpoint's TLS files and token ------------------------------------------------------------------------------


def _endpoint(handler: Callable[[httpx.Request], httpx.Response], **fields: object) -> HttpCustomsEndpoint:
    settings = EcuapassSettings(**{"url": "https://customs.test/", **fields})  # type: ignore[arg-type]

    async def no_sleep(_: float) -> None:
        return None

    return HttpCustomsEndpoint(
        settings,
        RetrySettings(max_attempts=3),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError("no request expected")


def test_endpoint_tls_files_that_cannot_be_loaded_fail_when_the_adapter_is_built(
    pki: Pki, encrypted_key: Path, tmp_path: Path
) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"ssl_cafile": tmp_path / "missing.pem"}, "ecuapass.ssl_cafile"),
        ({"ssl_certfile": pki.client_cert, "ssl_keyfile": pki.server_key}, "ecuapass.ssl_certfile"),
        ({"ssl_certfile": pki.client_cert, "ssl_keyfile": encrypted_key}, "is encrypted"),
        ({"ssl_certfile": tmp_path / "nothing.pem"}, "No such file"),
    ]
    for files, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            _endpoint(_never, **files)


def test_token_problems_fail_at_start_without_showing_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    cases: list[tuple[dict[str, object], str]] = [
        ({"token_file": tmp_path / "missing"}, "cannot read ecuapass.token_file"),
        ({"token_file": empty}, "is empty"),
        ({"token": f"{TOKEN}\nX-Injected: 1"}, "characters an HTTP header cannot carry"),
        ({"token": f"{TOKEN} {TOKEN}"}, "spaces"),
    ]
    for fields, message in cases:
        with pytest.raises(ConfigurationError, match=message) as caught:
            _endpoint(_never, **fields)
        assert TOKEN not in str(caught.value)


async def test_the_token_file_is_read_once_and_sent_as_bearer(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(f"  {TOKEN}\n")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    endpoint = _endpoint(answer, token_file=path)
    path.unlink()  # read at start-up, not per request
    await endpoint.probe()
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


# -- refusals are permanent -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [401, 403])
async def test_refused_credentials_are_permanent_and_never_retried(code: int) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(code, text=f'{{"error": "bad token {TOKEN}"}}')  # a server echoing the token

    with pytest.raises(PermanentDeliveryError, match=f"refused the gateway's credentials .HTTP {code}") as caught:
        await _endpoint(answer, token=TOKEN).file(FILING)
    assert len(seen) == 1 and caught.value.status_code == code
    assert TOKEN not in str(caught.value) and "bad token ***" in str(caught.value)


def _tls_failure(exc: ssl.SSLError, wrap: bool) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if not wrap:
            raise exc  # what httpx lets through when the server's alert comes after the handshake
        try:
            raise exc
        except ssl.SSLError as cause:
            raise httpx.ConnectError(str(cause), request=request) from cause

    return answer


@pytest.mark.parametrize(
    ("exc", "wrap"),
    [
        (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), True),
        (ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required"), False),
        (ssl.SSLError(1, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca"), True),
    ],
)
async def test_tls_refusals_are_permanent(exc: ssl.SSLError, wrap: bool) -> None:
    with pytest.raises(PermanentDeliveryError, match="TLS with customs failed") as caught:
        await _endpoint(_tls_failure(exc, wrap)).file(FILING)
    assert caught.value.attempts == 1
    with pytest.raises(ConfigurationError, match="TLS with the customs endpoint"):
        await _endpoint(_tls_failure(exc, wrap)).probe()


async def test_a_connection_cut_during_tls_is_retried_as_before() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise ssl.SSLEOFError(8, "EOF occurred in violation of protocol")

    with pytest.raises(PermanentDeliveryError, match="gave up after 3 attempts"):
        await _endpoint(answer).file(FILING)
    assert len(calls) == 3  # transient: retried, as any connection cut short


# -- the start-up probe -----------------------------------------------------------------------------------------------


async def test_probe_passes_when_customs_is_down_or_failing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    await _endpoint(refused).probe()
    await _endpoint(lambda request: httpx.Response(503)).probe()
    await _endpoint(lambda request: httpx.Response(404), token=TOKEN).probe()
    assert "not reachable at start-up" in caplog.text and "answers HTTP 503" in caplog.text
    assert "answers (TLS, bearer token)" in caplog.text and TOKEN not in caplog.text


async def test_probe_stops_on_refused_credentials_or_closed_handshakes(pki: Pki) -> None:
    with pytest.raises(ConfigurationError, match="HTTP 401"):
        await _endpoint(lambda request: httpx.Response(401), token=TOKEN).probe()
    closes: list[int] = []

    def closed(request: httpx.Request) -> httpx.Response:
        closes.append(1)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    with pytest.raises(ConfigurationError, match="wants a client certificate"):
        await _endpoint(closed).probe()
    assert len(closes) == 3


async def test_probe_warns_when_the_token_would_travel_in_clear(caplog: pytest.LogCaptureFixture) -> None:
    await _endpoint(lambda request: httpx.Response(404), url="http://customs.test/", token=TOKEN).probe()
    assert "bearer token goes to http://customs.test/ over plain HTTP" in caplog.text


# -- hostile replies: the size cap holds while reading, not after --------------------------------------------------


async def test_an_endless_reply_is_cut_at_the_cap() -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            sent.append(1)
            yield b"<" * 65536

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=endless())

    with pytest.raises(PermanentDeliveryError, match="more than 5242880 bytes"):
        await _endpoint(answer).file(FILING)
    assert len(sent) <= 5 * 16 + 2


async def test_a_compression_bomb_is_cut_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200_000

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "application/xml", "content-encoding": "gzip"}, content=bomb
        )

    with pytest.raises(PermanentDeliveryError, match="more than 5242880 bytes"):
        await _endpoint(answer).file(FILING)


async def test_a_compressed_reply_within_the_cap_is_read() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    reply = CustomsReply(
        "ACCEPTED",
        FILING.message_id,
        FILING.kind,
        Reception("179001162026000000011", now, "a" * 64),
        Acceptance("028-2026-AUT51-00000001", now),
    )

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/xml", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=gzip.compress(write_reply(reply)))

    assert (await _endpoint(answer).file(FILING)) == reply
