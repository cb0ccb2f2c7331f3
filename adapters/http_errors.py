"""What a failure talking to customs over HTTP means for a filing: the boundary of the HTTP customs endpoint
(``adapters/http_customs_endpoint.py``), between the HTTP client stack and the gateway's error tree.

Every exception the HTTP client stack can raise (httpx's whole tree, and what escapes it from httpcore, h11 and
ssl) is translated through the one table ``HTTP_CLIENT_ERRORS`` into a ``TransientDeliveryError`` (retried; counted
by the circuit breaker) or a ``PermanentDeliveryError`` (dead-lettered, ``delivery_failed``): the endpoint asks
``failure_of`` and raises accordingly. tests/unit/test_http_boundary.py walks the libraries' exception classes and
fails on one the table lacks. A reply whose body cannot be decoded (``content-encoding: gzip`` over bytes that are
not gzip) is a broken reply: transient and ambiguous, like a connection cut in the middle of a reply. A TLS failure
(certificate not trusted, handshake refused: ``tls_refusal``) and HTTP 401/403 are permanent: retrying cannot fix
them. Also here: the status codes that are retried or refused, and the adapter's own ``ReplyTooLarge``.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass

import h11
import httpcore
import httpx

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
REFUSED_STATUS = frozenset({401, 403})
MAX_REPLY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Failure:
    """What an exception of the HTTP client stack means for a filing."""

    transient: bool  # worth retrying: TransientDeliveryError (and the breaker hears of it), else permanent
    ambiguous: bool  # the request may have reached customs (and been filed): ask the status before sending again
    meaning: str  # for the message


_UNSENT = Failure(transient=True, ambiguous=False, meaning="cannot connect to customs")
_TIMED_OUT_UNSENT = Failure(transient=True, ambiguous=False, meaning="no connection to customs in time")
_TIMED_OUT = Failure(transient=True, ambiguous=True, meaning="customs did not answer in time")
_CUT = Failure(transient=True, ambiguous=True, meaning="the connection to customs broke")
_BROKEN_REPLY = Failure(transient=True, ambiguous=True, meaning="customs sent a broken reply")
_UNDECODABLE = Failure(transient=True, ambiguous=True, meaning="customs sent a reply that cannot be decoded")
_TLS_REFUSED = Failure(transient=False, ambiguous=False, meaning="TLS with customs failed")
_UNSENDABLE = Failure(transient=False, ambiguous=False, meaning="the request cannot be sent to customs")
_CLIENT_MISUSE = Failure(transient=False, ambiguous=False, meaning="the HTTP client was misused")

# Every exception the HTTP client stack can raise while the adapter talks to customs, by class. httpx's whole tree
# (httpx/_exceptions.py); what gets through it: ssl errors read after the handshake (httpcore maps ssl.SSLError only
# while connecting) and OSError from below (closing a stream is not mapped); httpcore's and h11's own classes, which
# httpx and httpcore translate today, so that the table still holds if they stop. Looked up along the exception's
# MRO: a class a future version adds is translated as its parent, and the boundary test fails until it is listed.
HTTP_CLIENT_ERRORS: dict[type[BaseException], Failure] = {
    httpx.HTTPError: _CUT,
    httpx.RequestError: _CUT,
    httpx.TransportError: _CUT,
    httpx.TimeoutException: _TIMED_OUT,
    httpx.ConnectTimeout: _TIMED_OUT_UNSENT,
    httpx.ReadTimeout: _TIMED_OUT,
    httpx.WriteTimeout: _TIMED_OUT,
    httpx.PoolTimeout: _TIMED_OUT_UNSENT,
    httpx.NetworkError: _CUT,
    httpx.ConnectError: _UNSENT,
    httpx.ReadError: _CUT,
    httpx.WriteError: _CUT,
    httpx.CloseError: _CUT,
    httpx.ProtocolError: _BROKEN_REPLY,
    httpx.LocalProtocolError: _UNSENDABLE,  # h11 refuses the request as built: the same every time
    httpx.RemoteProtocolError: _BROKEN_REPLY,
    httpx.ProxyError: _UNSENT,  # the proxy refused the tunnel: customs never saw the request
    httpx.UnsupportedProtocol: _UNSENDABLE,
    httpx.DecodingError: _UNDECODABLE,  # content-encoding: gzip over bytes that are not gzip
    httpx.TooManyRedirects: _UNSENDABLE,  # redirects are not followed: cannot happen
    httpx.HTTPStatusError: _UNSENDABLE,  # raise_for_status() is not used: cannot happen
    httpx.InvalidURL: _UNSENDABLE,
    httpx.CookieConflict: _CLIENT_MISUSE,
    httpx.StreamError: _CLIENT_MISUSE,
    httpx.StreamConsumed: _CLIENT_MISUSE,
    httpx.StreamClosed: _CLIENT_MISUSE,
    httpx.ResponseNotRead: _CLIENT_MISUSE,
    httpx.RequestNotRead: _CLIENT_MISUSE,
    httpcore.TimeoutException: _TIMED_OUT,
    httpcore.ConnectTimeout: _TIMED_OUT_UNSENT,
    httpcore.ReadTimeout: _TIMED_OUT,
    httpcore.WriteTimeout: _TIMED_OUT,
    httpcore.PoolTimeout: _TIMED_OUT_UNSENT,
    httpcore.NetworkError: _CUT,
    httpcore.ConnectError: _UNSENT,
    httpcore.ReadError: _CUT,
    httpcore.WriteError: _CUT,
    httpcore.ProtocolError: _BROKEN_REPLY,
    httpcore.LocalProtocolError: _UNSENDABLE,
    httpcore.RemoteProtocolError: _BROKEN_REPLY,
    httpcore.ProxyError: _UNSENT,
    httpcore.UnsupportedProtocol: _UNSENDABLE,
    httpcore.ConnectionNotAvailable: _UNSENT,  # the pool's own, retried inside it
    h11.ProtocolError: _BROKEN_REPLY,
    h11.LocalProtocolError: _UNSENDABLE,
    h11.RemoteProtocolError: _BROKEN_REPLY,
    OSError: _CUT,
    ssl.SSLError: _TLS_REFUSED,  # an alert from the peer: the handshake or the certificate was refused
    ssl.SSLCertVerificationError: _TLS_REFUSED,
    ssl.SSLEOFError: _CUT,  # connections cut short are not refusals
    ssl.SSLZeroReturnError: _CUT,
    ssl.SSLSyscallError: _CUT,
    ssl.SSLWantReadError: _CUT,
    ssl.SSLWantWriteError: _CUT,
}
# For except clauses: every class of the table.
HTTP_CLIENT_ERROR_TYPES = tuple(HTTP_CLIENT_ERRORS)


def failure_of(exc: BaseException) -> Failure:
    """The table's entry for ``exc`` (its class's, or the nearest ancestor's); a TLS refusal anywhere in its chain
    (``httpx.ConnectError`` from ``ssl.SSLCertVerificationError``) makes it a refusal."""
    if tls_refusal(exc) is not None:
        return _TLS_REFUSED
    for cls in type(exc).__mro__:
        failure = HTTP_CLIENT_ERRORS.get(cls)
        if failure is not None:
            return failure
    raise TypeError(f"{type(exc).__name__} is not an exception of the HTTP client stack") from exc


def tls_refusal(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` when the handshake itself was refused: the peer's certificate is not trusted,
    or the peer sent an alert (no or bad client certificate, no common protocol). Connections merely cut short
    (``SSLEOFError``, ``SSLZeroReturnError``, ``SSLSyscallError``) are not refusals."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or type(seen) is ssl.SSLError:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class ReplyTooLarge(Exception):
    """Customs answered with a body of more than ``MAX_REPLY_BYTES`` (raised by the endpoint while reading it)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


def answer_excerpt(response: httpx.Response, token: str | None) -> str:
    """A short, printable piece of an error answer (servers often say why they refused), ``token`` masked."""
    text = response.text[: 200 + len(token or "")]
    if token:
        text = text.replace(token, "***")
    text = " ".join(_UNPRINTABLE.sub(" ", text[:200]).split())
    return f": {text}" if text else ""


_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")
