"""Kafka connection security from the settings: TLS (custom CA, client certificate) and SASL.

At start-up, ``check_connection`` opens one connection to the first bootstrap server as the clients will, and
``kafka_errors`` translates aiokafka's failure to start a client (``KafkaConnectionError: Unable to bootstrap``,
which says nothing of why): both raise a ``ConfigurationError`` naming what went wrong (certificate not trusted,
client certificate refused, SASL mechanism or credentials refused, wrong security protocol, broker down), never
a secret.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from gateway.errors import ConfigurationError
from gateway.settings import KafkaSettings
from gateway.tls import client_context

_PREFIX = "GATEWAY_KAFKA__"


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    return client_context(_PREFIX, cafile=kafka.ssl_cafile, certfile=kafka.ssl_certfile, keyfile=kafka.ssl_keyfile)


def broker_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for the broker connection."""
    context = ssl_context(kafka)
    if not kafka.security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=context) if context else None
    user = kafka.sasl_username or ""
    password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
    kind = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[kafka.sasl_mechanism]
    return kind(username=user, password=password, ssl_context=context)


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
    problem = await diagnose(kafka)
    if problem is not None:
        raise ConfigurationError(_cannot_connect(kafka, problem))


@contextlib.asynccontextmanager
async def kafka_errors(kafka: KafkaSettings) -> AsyncIterator[None]:
    """Around a client's start: a broker that cannot be reached as configured is a ``ConfigurationError``."""
    try:
        yield
    except KafkaConnectionError as exc:
        problem = await diagnose(kafka) or "another broker of the cluster refused the connection (see the aiokafka log)"
        raise ConfigurationError(_cannot_connect(kafka, problem)) from exc


def _cannot_connect(kafka: KafkaSettings, problem: str) -> str:
    return f"cannot connect to Kafka at {kafka.bootstrap_servers} with {kafka.security_protocol}: {problem}"


async def diagnose(kafka: KafkaSettings) -> str | None:
    """Why a connection to the first bootstrap server fails, in words an operator can act on; ``None`` if not."""
    first = kafka.bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not port.isdigit():
        host, port = first, "9092"  # aiokafka's default port
    tls = kafka.security_protocol.endswith("SSL")
    try:
        connection = await create_conn(
            host.strip("[]"),
            int(port),
            client_id=kafka.client_id,
            request_timeout_ms=kafka.request_timeout_ms,
            **client_security(kafka),
        )
    except ssl.SSLCertVerificationError as exc:
        return f"the broker's certificate is not trusted: {exc.verify_message} (check {_PREFIX}SSL_CAFILE)"
    except ssl.SSLError as exc:
        return f"the TLS handshake failed: {exc}"
    except UnsupportedSaslMechanismError:
        return f"the broker does not offer SASL mechanism {kafka.sasl_mechanism} (or SASL at all)"
    except SaslAuthenticationFailed:
        return f"SASL authentication as {kafka.sasl_username!r} failed (check {_PREFIX}SASL_USERNAME and _PASSWORD)"
    except KafkaConnectionError as exc:
        if tls:
            return (
                f"the broker closed the connection after the TLS handshake ({exc}): it most likely wants a client "
                f"certificate or does not trust the one given (check {_PREFIX}SSL_CERTFILE and {_PREFIX}SSL_KEYFILE)"
            )
        return f"the broker closed the connection ({exc}): does its listener expect TLS or SASL?"
    except KafkaError as exc:  # another refusal by the broker
        return f"{type(exc).__name__}: {exc}"
    except TimeoutError:
        hint = ": a TLS handshake with a plaintext listener hangs like this" if tls else ""
        return f"no answer within {kafka.request_timeout_ms} ms{hint}"
    except ConnectionRefusedError:
        return "connection refused: is the broker up, and the port right?"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    connection.close()
    return None
