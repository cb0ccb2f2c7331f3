"""TLS client contexts for the gateway's two peers, the Kafka brokers and the customs endpoint.

Built once at start-up from PEM files named in the settings; a file that cannot be loaded is a
``ConfigurationError`` naming the setting, never a failure at the first message. The context verifies the peer's
certificate and host name (TLS 1.2 or later): against ``cafile`` alone when given, else the system's trust store.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from gateway.errors import ConfigurationError


def client_context(
    prefix: str, *, cafile: Path | None, certfile: Path | None = None, keyfile: Path | None = None
) -> ssl.SSLContext:
    """``prefix`` names the settings in errors, e.g. ``GATEWAY_KAFKA__`` -> ``GATEWAY_KAFKA__SSL_CAFILE``."""
    if keyfile is not None and certfile is None:
        raise ConfigurationError(f"{prefix}SSL_KEYFILE is set without {prefix}SSL_CERTFILE")
    try:
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load {prefix}SSL_CAFILE {cafile}: {_reason(exc)}") from exc
    if certfile is not None:

        def no_password() -> bytes:
            # Without a callback OpenSSL would prompt on the terminal for the passphrase.
            raise ConfigurationError(f"{prefix}SSL_KEYFILE is encrypted: give an unencrypted key (a mounted secret)")

        try:
            context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None, password=no_password)
        except (OSError, ssl.SSLError) as exc:
            key = f" with key {keyfile}" if keyfile else ""
            raise ConfigurationError(
                f"cannot load the client certificate {prefix}SSL_CERTFILE {certfile}{key}: {_reason(exc)}"
            ) from exc
    return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):  # an OSError too: test it first
        return str(exc)
    return exc.strerror or str(exc)
