"""Kafka connection security from the settings: TLS (custom CA, client certificate) and SASL.

At start-up, ``check_connection`` opens one connection to the first bootstrap server as the clients will, and
``kafka_errors`` translates aiokafka's failure to start a client (``KafkaConnectionError: Unable to bootstrap``,
which says nothing of why). Both tell two failures apart:

- the broker answers but refuses the connection as configured (certificate not trusted, client certificate
  refused, SASL mechanism or credentials refused, a TLS handshake with a plaintext listener):
  ``ConfigurationError`` naming the settings concerned (``kafka.ssl_cafile``...), never a secret;
- no broker can be reached at all (connection refused, no answer to a plaintext connection, host name not
  resolved, network unreachable): ``KafkaUnavailableError``, an outage (or a wrong address): the same settings may
  work once the broker is back. ``ecuapass-gateway run`` exits 3 then, as the tools reading Kafka do.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from gateway.errors import ConfigurationError, GatewayError, KafkaUnavailableError
from gateway.runtime.tls import client_context
from gateway.settings import KafkaSettings

_TLS_FIELDS = {name: f"kafka.{name}" for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile")}
_SASL_MECHANISMS = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    return client_context(_TLS_FIELDS, cafile=kafka.ssl_cafile, certfile=kafka.ssl_certfile, keyfile=kafka.ssl_keyfile)


def broker_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for the broker connection."""
    context = ssl_context(kafka)
    if not kafka.security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=context) if context else None
    user = kafka.sasl_username or ""
    password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
    mechanism = _SASL_MECHANISMS[kafka.sasl_mechanism]
    return mechanism(username=user, password=password, ssl_context=context)


def client_security(kafka: KafkaSettings) -> dict[str, Any]:
    """The same, as keyword arguments of a plain aiokafka client (admin, tools)."""
    arguments: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    context = ssl_context(kafka)
    if context is not None:
        arguments["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL"):
        arguments["sasl_mechanism"] = kafka.sasl_mechanism
        arguments["sasl_plain_username"] = kafka.sasl_username
        arguments["sasl_plain_password"] = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
    return arguments


async def check_connection(kafka: KafkaSettings) -> None:
    """Before any client starts (a FastStream producer that fails to start is never closed)."""
    diagnosis = await diagnose(kafka)
    if diagnosis is not None:
        raise diagnosis.error(kafka)


@contextlib.asynccontextmanager
async def kafka_errors(kafka: KafkaSettings) -> AsyncIterator[None]:
    """Around a client's start: a broker that refuses the connection as configured is a ``ConfigurationError``, one
    that cannot be reached a ``KafkaUnavailableError``."""
    try:
        yield
    except KafkaConnectionError as exc:
        diagnosis = await diagnose(kafka) or Diagnosis(
            "another broker of the cluster refused the connection (see the aiokafka log)"
        )
        raise diagnosis.error(kafka) from exc


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why a connection to the first bootstrap server fails, in words an operator can act on."""

    problem: str
    unreachable: bool = False  # nothing answered: an outage, not a refusal of the settings
    fields: tuple[str, ...] = ()  # the settings to check, as field paths (written so in ``problem``)

    def error(self, kafka: KafkaSettings) -> GatewayError:
        message = f"cannot connect to Kafka at {kafka.bootstrap_servers} with {kafka.security_protocol}: {self.problem}"
        if self.unreachable:
            return KafkaUnavailableError(message, bootstrap_servers=kafka.bootstrap_servers)
        return ConfigurationError(message, fields=self.fields)


async def diagnose(kafka: KafkaSettings) -> Diagnosis | None:
    """Why a connection to the first bootstrap server fails; ``None`` if it does not."""
    host, port = _first_server(kafka)
    tls = kafka.security_protocol.endswith("SSL")
    try:
        connection = await create_conn(
            host,
            port,
            client_id=kafka.client_id,
            request_timeout_ms=kafka.request_timeout_ms,
            **client_security(kafka),
        )
    except ssl.SSLCertVerificationError as exc:
        return Diagnosis(
            f"the broker's certificate is not trusted: {exc.verify_message} (check kafka.ssl_cafile)",
            fields=("kafka.ssl_cafile",),
        )
    except ssl.SSLError as exc:
        return Diagnosis(f"the TLS handshake failed: {exc}", fields=("kafka.security_protocol", "kafka.ssl_cafile"))
    except (UnsupportedSaslMechanismError, SaslAuthenticationFailed) as exc:
        return _sasl_refused(kafka, exc)
    except KafkaConnectionError as exc:
        return _connection_closed(exc, tls=tls)
    except KafkaError as exc:  # another refusal by the broker
        return Diagnosis(f"{type(exc).__name__}: {exc}")
    except TimeoutError:
        return await _no_answer(kafka, host, port, tls=tls)
    except ConnectionRefusedError:
        return Diagnosis("connection refused: is the broker up, and the port right?", unreachable=True)
    except OSError as exc:  # host name not resolved, network or host unreachable, connection reset
        return Diagnosis(f"{type(exc).__name__}: {exc}", unreachable=True)
    connection.close()
    return None


def _first_server(kafka: KafkaSettings) -> tuple[str, int]:
    """Host and port of the first bootstrap server (aiokafka's default port when none is given)."""
    first = kafka.bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not port.isdigit():
        host, port = first, "9092"  # aiokafka's default port
    return host.strip("[]"), int(port)


def _sasl_refused(kafka: KafkaSettings, exc: KafkaError) -> Diagnosis:
    """The broker offers no such SASL mechanism, or refused the credentials."""
    if isinstance(exc, UnsupportedSaslMechanismError):
        return Diagnosis(
            f"the broker does not offer SASL mechanism {kafka.sasl_mechanism} (or SASL at all)",
            fields=("kafka.sasl_mechanism",),
        )
    return Diagnosis(
        f"SASL authentication as {kafka.sasl_username!r} failed (check kafka.sasl_username and kafka.sasl_password)",
        fields=("kafka.sasl_username", "kafka.sasl_password"),
    )


def _connection_closed(exc: KafkaConnectionError, *, tls: bool) -> Diagnosis:
    """The broker closed the connection: after the TLS handshake (the client certificate), or at once."""
    if tls:
        return Diagnosis(
            f"the broker closed the connection after the TLS handshake ({exc}): it most likely wants a client "
            "certificate or does not trust the one given (check kafka.ssl_certfile and kafka.ssl_keyfile)",
            fields=("kafka.ssl_certfile", "kafka.ssl_keyfile"),
        )
    return Diagnosis(
        f"the broker closed the connection ({exc}): does its listener expect TLS or SASL? (kafka.security_protocol)",
        fields=("kafka.security_protocol",),
    )


async def _no_answer(kafka: KafkaSettings, host: str, port: int, *, tls: bool) -> Diagnosis:
    """No answer in time: a TLS handshake with a plaintext listener if something listens there, else unreachable."""
    if tls and await _accepts_connections(host, port, kafka.request_timeout_ms / 1000):
        return Diagnosis(
            f"no answer to the TLS handshake within {kafka.request_timeout_ms} ms: a TLS handshake with a "
            "plaintext listener hangs like this (kafka.security_protocol)",
            fields=("kafka.security_protocol",),
        )
    return Diagnosis(f"no answer within {kafka.request_timeout_ms} ms", unreachable=True)


async def _accepts_connections(host: str, port: int, timeout_s: float) -> bool:
    """Whether a plain TCP connection to ``host:port`` opens: something listens there."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
