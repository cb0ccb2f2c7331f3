"""Kafka over TLS and mutual TLS, through a real TLS terminator: stunnel in front of a Tansu broker of its own.

Tansu's own TLS did not work here, so each secured broker is Tansu listening on a plaintext port P and advertising
stunnel's TLS port S (``--advertised-listener-url``): clients bootstrap on S and every connection they open, to
the address the metadata gives, is TLS to stunnel, which verifies client certificates when told to. SASL: Tansu
answers every SASL handshake with UNSUPPORTED_SASL_MECHANISM, so what can be shown is that a SASL client fails at
start-up with that said (the settings-to-client mapping is unit-tested in ``tests/unit/test_kafka_security.py``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker, free_port, tansu_binary
from gateway.devstack.demo import OutcomeReader
from gateway.documents import decode
from gateway.errors import ConfigurationError
from gateway.kafka.security import client_security
from gateway.kafka.topics import ensure_topics
from gateway.settings import KafkaSettings, Settings, TopicSettings
from gateway.tools.examples import Example
from tests.certificates import Pki, issue
from tests.harness.waiting import eventually_sync
from tests.integration.conftest import collect, gateway_environment, make_settings

SASL_PASSWORD = "pa55-word-never-shown"

pytestmark = pytest.mark.skipif(
    shutil.which("stunnel") is None,
    reason="stunnel is not installed (Debian package stunnel4; `make test` installs it when run as root)",
)


@contextmanager
def tls_broker(folder: Path, pki: Pki, *, client_ca: Path | None = None) -> Iterator[str]:
    """Tansu behind stunnel on free 127.0.0.1 ports; yields the TLS bootstrap address. Both are stopped after."""
    folder.mkdir(parents=True, exist_ok=True)
    plain, tls = free_port(), free_port()
    verify = f"CAfile = {client_ca}\nverifyChain = yes\nrequireCert = yes\n" if client_ca else ""
    config = folder / "stunnel.conf"
    config.write_text(
        "foreground = yes\npid =\nsyslog = no\ndebug = 4\n"
        f"[kafka]\naccept = 127.0.0.1:{tls}\nconnect = 127.0.0.1:{plain}\n"
        f"cert = {pki.server_cert}\nkey = {pki.server_key}\n{verify}",
        encoding="utf-8",
    )
    tansu = [str(tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{plain}"]
    tansu += ["--advertised-listener-url", f"tcp://127.0.0.1:{tls}", "--storage-engine", "memory://tansu/"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (folder / "tansu.log").open("ab") as log:
            processes.append(subprocess.Popen(tansu, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        with (folder / "stunnel.log").open("ab") as log:
            processes.append(
                subprocess.Popen(["stunnel", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        _wait_listening(processes, plain, tls)
        yield f"127.0.0.1:{tls}"
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_listening(processes: list[subprocess.Popen[bytes]], *ports: int, timeout_s: float = 15.0) -> None:
    waiting = list(ports)

    def all_listening() -> None:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode} on start")
        while waiting:
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                    waiting.pop(0)
            except OSError as exc:
                raise AssertionError(f"nothing listens on 127.0.0.1:{waiting[0]}") from exc

    eventually_sync(all_listening, timeout_s=timeout_s)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return issue(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_bootstrap(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[str]:
    """TLS; the broker's certificate is checked, clients show none."""
    with tls_broker(tmp_path_factory.mktemp("kafka-tls"), pki) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
def mtls_bootstrap(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[str]:
    """Mutual TLS: clients must show a certificate of the test CA."""
    with tls_broker(tmp_path_factory.mktemp("kafka-mtls"), pki, client_ca=pki.ca) as bootstrap:
        yield bootstrap


def _settings(bootstrap: str, endpoint_url: str, **kafka: object) -> Settings:
    base = make_settings(bootstrap, endpoint_url)
    # model_copy skips validation: build the section anew so its validators run.
    return base.model_copy(update={"kafka": KafkaSettings(**(base.kafka.model_dump() | kafka))})


async def _publish(settings: Settings, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, **client_security(settings.kafka))
    await producer.start()
    try:
        await producer.send_and_wait(settings.topics.input, value, key=key)
    finally:
        await producer.stop()


async def _one_event_through(settings: Settings, example: Example) -> str:
    """Publish one event over the secured connection and return the kind of its outcome."""
    await ensure_topics(settings)
    gateway = build_gateway(settings)
    await gateway.start()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await gateway.wait_assigned()
        event_id = decode(example.payload()).id
        await _publish(settings, b"CASE-TLS", example.payload())
        found = await collect(reader, {event_id}, timeout_s=30)
    finally:
        await reader.stop()
        await gateway.stop()
    (received,) = found[event_id]
    return str(received.outcome)  # type: ignore[attr-defined]


async def test_an_event_goes_through_over_tls(
    tls_bootstrap: str, pki: Pki, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    settings = _settings(tls_bootstrap, mock_endpoint.url, security_protocol="SSL", ssl_cafile=pki.ca)
    assert await _one_event_through(settings, example_by_name["authorization-request/accepted/minimal"]) == "accepted"


async def test_an_event_goes_through_over_mutual_tls(
    mtls_bootstrap: str, pki: Pki, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    settings = _settings(
        mtls_bootstrap,
        mock_endpoint.url,
        security_protocol="SSL",
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
    )
    assert await _one_event_through(settings, example_by_name["authorization-request/accepted/minimal"]) == "accepted"


async def test_an_untrusted_broker_certificate_fails_at_start_up(tls_bootstrap: str, pki: Pki) -> None:
    settings = _settings(tls_bootstrap, "http://127.0.0.1:9", security_protocol="SSL", ssl_cafile=pki.untrusted_ca)
    with pytest.raises(ConfigurationError, match=r"certificate is not trusted: .*\(check kafka.ssl_cafile\)"):
        await ensure_topics(settings)


async def test_the_gateway_checks_the_connection_before_any_client_starts(
    tls_bootstrap: str, pki: Pki, mock_endpoint: MockServer
) -> None:
    """Even without topic creation (FastStream's producer would be the first client, and it leaks when its start
    fails), ``Gateway.start`` says what is wrong."""
    settings = _settings(tls_bootstrap, mock_endpoint.url, security_protocol="SSL", ssl_cafile=pki.untrusted_ca)
    settings = settings.model_copy(
        update={"topics": TopicSettings(**settings.topics.model_dump() | {"create_missing": False})}
    )
    gateway = build_gateway(settings)
    try:
        with pytest.raises(ConfigurationError, match="certificate is not trusted"):
            await gateway.start()
    finally:
        await gateway.stop()


@pytest.mark.parametrize("client", ["none", "untrusted"])
async def test_a_missing_or_untrusted_client_certificate_fails_at_start_up(
    mtls_bootstrap: str, pki: Pki, client: str
) -> None:
    shown: dict[str, object] = {}
    if client == "untrusted":
        shown = {"ssl_certfile": pki.untrusted_client_cert, "ssl_keyfile": pki.untrusted_client_key}
    settings = _settings(mtls_bootstrap, "http://127.0.0.1:9", security_protocol="SSL", ssl_cafile=pki.ca, **shown)
    with pytest.raises(ConfigurationError, match=r"after the TLS handshake.*client certificate"):
        await ensure_topics(settings)


async def test_sasl_against_a_broker_without_it_fails_at_start_up_without_the_password(broker: TansuBroker) -> None:
    settings = _settings(
        broker.bootstrap_servers,
        "http://127.0.0.1:9",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="gateway",
        sasl_password=SASL_PASSWORD,
    )
    with pytest.raises(ConfigurationError, match="does not offer SASL mechanism SCRAM-SHA-256") as caught:
        await ensure_topics(settings)
    assert SASL_PASSWORD not in str(caught.value)


def test_run_exits_with_a_clear_message_when_the_kafka_tls_is_wrong(
    tls_bootstrap: str, pki: Pki, mock_endpoint: MockServer
) -> None:
    settings = make_settings(tls_bootstrap, mock_endpoint.url)
    env = gateway_environment(settings, mock_endpoint.url) | {
        "GATEWAY_KAFKA__SECURITY_PROTOCOL": "SSL",
        "GATEWAY_KAFKA__SSL_CAFILE": str(pki.untrusted_ca),
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot connect to Kafka at {tls_bootstrap} with SSL" in done.stderr
    assert "certificate is not trusted" in done.stderr and "Traceback" not in done.stderr
    assert "(check GATEWAY_KAFKA__SSL_CAFILE)" in done.stderr  # the entry point names the variable
