"""Kafka connection security from the settings: TLS (custom CA, client certificate) and SASL."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from gateway.errors import ConfigurationError
from gateway.settings import KafkaSettings


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    try:
        context = ssl.create_default_context(cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None)
        if kafka.ssl_certfile:
            context.load_cert_chain(str(kafka.ssl_certfile), str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load the Kafka TLS files: {exc}") from exc
    return context


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
