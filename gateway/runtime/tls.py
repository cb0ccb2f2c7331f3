"""TLS client contexts for the gateway's two peers, the Kafka brokers and the customs endpoint.

Built once at start-up from PEM files named in the settings; a file that cannot be loaded is a
``ConfigurationError`` naming the setting, never a failure at the first message. The context verifies the peer's
certificate and host name (TLS 1.2 or later): against ``cafile`` alone when given, else the system's trust store.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import ConfigurationError


def client_context(
    fields: Mapping[str, str], *, cafile: Path | None, certfile: Path | None = None, keyfile: Path | None = None
) -> ssl.SSLContext:
    """``fields`` names the settings in errors by field path: ``ssl_cafile``, ``ssl_certfile`` and ``ssl_keyfile``
    to e.g. ``kafka.ssl_cafile`` (``gateway.errors``: the entry point renders them as environment variables)."""
    ca, cert, key = fields["ssl_cafile"], fields["ssl_certfile"], fields["ssl_keyfile"]
    if keyfile is not None and certfile is None:
        raise ConfigurationError(f"{key} is set without {cert}", fields=(key, cert))
    try:
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load {ca} {cafile}: {_reason(exc)}", fields=(ca,)) from exc
    if certfile is not None:

        def no_password() -> bytes:
            # Without a callback OpenSSL would prompt on the terminal for the passphrase.
            raise ConfigurationError(f"{key} is encrypted: give an unencrypted key (a mounted secret)", fields=(key,))

        try:
            context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None, password=no_password)
        except (OSError, ssl.SSLError) as exc:
            with_key = f" with key {keyfile}" if keyfile else ""
            raise ConfigurationError(
                f"cannot load the client certificate {cert} {certfile}{with_key}: {_reason(exc)}", fields=(cert, key)
            ) from exc
    return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):  # an OSError too: test it first
        return str(exc)
    return exc.strerror or str(exc)
