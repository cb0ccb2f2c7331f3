"""The credentials of the HTTP customs endpoint (``adapters/http_customs_endpoint.py``), loaded once, when it is
built: a bearer token from ``token`` or ``token_file``, and the TLS context for HTTPS with ``ssl_cafile`` and mutual
TLS with ``ssl_certfile``/``ssl_keyfile`` (``gateway.runtime.tls``).

A problem is a start-up error (``ConfigurationError``) that never shows the token. Start-up errors name the settings
by field path (``ecuapass.token_file``, or ``agencies.<RUC>.token_file`` for an agency's own credentials:
``fields``) and the agencies whose credentials these are (``owner``, ``startup_error``); the entry point renders the
paths as environment variables.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import ConfigurationError
from gateway.runtime.tls import client_context
from gateway.settings import EcuapassSettings, endpoint_fields


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the endpoint's HTTP clients present: the bearer token, if any, and how they verify the server."""

    token: str | None
    verify: ssl.SSLContext | bool  # True: the system's CAs


def load_credentials(settings: EcuapassSettings, fields: Mapping[str, str], owner: str | None) -> Credentials:
    """The bearer token and TLS context of ``settings``; ``fields``: their field paths; ``owner``: whose
    credentials these are (agency labels), said in the errors."""
    verify: ssl.SSLContext | bool = True
    try:
        token = bearer_token(settings, fields)
        if settings.ssl_cafile or settings.ssl_certfile:
            verify = client_context(
                fields,
                cafile=settings.ssl_cafile,
                certfile=settings.ssl_certfile,
                keyfile=settings.ssl_keyfile,
            )
    except ConfigurationError as exc:
        if owner is None:
            raise
        raise startup_error(owner, str(exc), *exc.fields) from exc  # say whose credentials these are
    return Credentials(token, verify)


def bearer_token(settings: EcuapassSettings, fields: Mapping[str, str] | None = None) -> str | None:
    """The token from the settings or from ``token_file``; problems are start-up errors that never show it.
    ``fields``: the settings' field paths, for the errors (``gateway.settings.endpoint_fields``)."""
    named = dict(fields or endpoint_fields())
    if settings.token_file is not None:
        field = named["token_file"]
        try:
            token = settings.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            # The path last: "…/token: No such file" reads as a credential assignment to log scanners.
            raise ConfigurationError(f"cannot read {field} ({reason}): {settings.token_file}", fields=(field,)) from exc
        if not token:
            raise ConfigurationError(f"{field} {settings.token_file} is empty", fields=(field,))
    elif settings.token is not None:
        field = named["token"]
        token = settings.token.get_secret_value()
    else:
        return None
    if not _TOKEN.fullmatch(token):
        raise ConfigurationError(
            f"the bearer token ({field}) holds spaces or characters an HTTP header cannot carry", fields=(field,)
        )
    return token


def startup_error(owner: str | None, message: str, *fields: str) -> ConfigurationError:
    """A start-up error naming the settings concerned, and whose credentials these are."""
    prefix = f"with the credentials of {owner}: " if owner else ""
    return ConfigurationError(prefix + message, fields=fields)


_TOKEN = re.compile(r"[\x21-\x7e]+")
