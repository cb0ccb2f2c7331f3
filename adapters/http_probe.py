"""The start-up probe of the HTTP customs endpoint (``adapters/http_customs_endpoint.py``): called through
``HttpCustomsEndpoint.probe()`` by ``gateway.bootstrap`` (via ``PerAgencyCustomsEndpoint``), before any event is
consumed.

It asks the status query of an unused message id, so a wrong CA, certificate or token stops the gateway before it
consumes anything (``ConfigurationError``, naming the settings by field path and whose credentials these are); an
endpoint that is merely down, slow or failing does not: it is logged, and filings wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from adapters.http_credentials import startup_error
from adapters.http_errors import (
    HTTP_CLIENT_ERROR_TYPES,
    MAX_REPLY_BYTES,
    REFUSED_STATUS,
    ReplyTooLarge,
    answer_excerpt,
    tls_refusal,
)
from gateway.errors import ConfigurationError
from gateway.settings import EcuapassSettings

# The probe speaks for the endpoint: its records keep the endpoint's logger.
log = logging.getLogger("adapters.http_customs_endpoint")

# The start-up probe asks the status of this message id, which no filing ever has (ids are UUIDv5).
PROBE_MESSAGE_ID = "00000000-0000-0000-0000-000000000000"
PROBE_ATTEMPTS = 3

Fetch = Callable[..., Awaitable[httpx.Response]]
"""The endpoint's ``_fetch``: (method, path, **httpx request arguments) -> the response, its body read, or
``ReplyTooLarge``."""


async def probe_endpoint(
    settings: EcuapassSettings,
    fetch: Fetch,
    *,
    token: str | None,
    fields: Mapping[str, str],
    owner: str | None,
) -> None:
    """Check that the endpoint of ``settings`` can be talked to as configured (``HttpCustomsEndpoint.probe``);
    ``fetch``: how the endpoint asks; ``token``: its bearer token; ``fields``: the settings' field paths; ``owner``:
    whose credentials these are."""
    await _Probe(settings, fetch, token, fields, owner).run()


@dataclass(frozen=True, slots=True)
class _Probe:
    settings: EcuapassSettings
    fetch: Fetch
    token: str | None
    fields: Mapping[str, str]
    owner: str | None

    @property
    def url(self) -> str:
        return str(self.settings.url)

    @property
    def https(self) -> bool:
        return self.url.lower().startswith("https:")

    async def run(self) -> None:
        url = self.url
        if not self.https and self.token is not None:
            log.warning("the bearer token goes to %s over plain HTTP", url)
        timeout = httpx.Timeout(min(self.settings.read_timeout_s, 10.0), connect=self.settings.connect_timeout_s)
        closed: BaseException | None = None
        for _ in range(PROBE_ATTEMPTS):
            try:
                response = await self.fetch("GET", f"/api/v1/documents/{PROBE_MESSAGE_ID}", timeout=timeout)
            except ReplyTooLarge:
                log.warning("customs endpoint %s answers the probe with more than %s bytes", url, MAX_REPLY_BYTES)
                return
            except HTTP_CLIENT_ERROR_TYPES as exc:
                refused = tls_refusal(exc)
                if refused is not None:
                    raise self._tls_failed(refused) from exc
                if self.https and isinstance(exc, _CLOSED_AFTER_HANDSHAKE):
                    closed = exc
                    continue
                log.warning(
                    "customs endpoint %s not reachable at start-up (%s: %s); filings will wait for it",
                    url,
                    type(exc).__name__,
                    exc,
                )
                return
            self._answered(response)
            return
        raise self._closed_after_handshake(closed) from closed

    def _answered(self, response: httpx.Response) -> None:
        """The endpoint answered the probe: refused credentials stop start-up, anything else is logged."""
        if response.status_code in REFUSED_STATUS:
            token, token_file, cert = self.fields["token"], self.fields["token_file"], self.fields["ssl_certfile"]
            raise self._error(
                f"the customs endpoint {self.url} refused the gateway's credentials at start-up "
                f"(HTTP {response.status_code}{answer_excerpt(response, self.token)}): check {token} or {token_file}, "
                f"and the client certificate ({cert})",
                token,
                token_file,
                cert,
            )
        if response.status_code >= 500:
            log.warning("customs endpoint %s answers HTTP %s at start-up", self.url, response.status_code)
        else:
            log.info("customs endpoint %s answers (%s)", self.url, self._security())

    def _tls_failed(self, refused: BaseException) -> ConfigurationError:
        ca, cert, key = (self.fields[name] for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"))
        return self._error(
            f"TLS with the customs endpoint {self.url} failed: {refused} (check {ca}, {cert} and {key})",
            ca,
            cert,
            key,
        )

    def _closed_after_handshake(self, closed: BaseException | None) -> ConfigurationError:
        """Every attempt's connection was closed right after the TLS handshake: what a server does, under TLS 1.3,
        with a client certificate it refuses."""
        cert, key = self.fields["ssl_certfile"], self.fields["ssl_keyfile"]
        likely = "wants a client certificate"
        if self.settings.ssl_certfile:
            likely = "does not trust the client certificate"
        return self._error(
            f"the customs endpoint {self.url} closed every connection right after the TLS handshake ({closed!r}): "
            f"it most likely {likely} ({cert}, {key})",
            cert,
            key,
        )

    def _error(self, message: str, *fields: str) -> ConfigurationError:
        return startup_error(self.owner, message, *fields)

    def _security(self) -> str:
        if not self.https:
            return "plain HTTP"
        tls = "mutual TLS" if self.settings.ssl_certfile else "TLS"
        return f"{tls}, bearer token" if self.token is not None else tls


_CLOSED_AFTER_HANDSHAKE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
