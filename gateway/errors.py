"""Every exception the gateway raises, in one tree.

    GatewayError
    ├── ConfigurationError          bad settings, files or arguments, refused settings (TLS, SASL, token) -> exit 2
    ├── KafkaUnavailableError       no Kafka broker can be reached, or one stopped answering              -> exit 3
    ├── ContractError               the event can never be filed as it is (permanent)
    │   ├── UndecodableEvent        not JSON, not a CloudEvent, unknown type   -> dead letter
    │   └── InvalidEvent            a known event whose fields break the contract -> rejection
    ├── DeliveryError               filing with the customs endpoint failed
    │   ├── TransientDeliveryError  connection errors, timeouts, broken or undecodable replies (bad gzip),
    │   │                           429, 502, 503, 504: retried; all but 429 count towards opening the circuit
    │   └── PermanentDeliveryError  TLS refusals, 401/403, other 4xx, unusable replies, a request httpx refuses to
    │                               send, retries exhausted -> dead letter (delivery_failed)
    ├── FeedError                   reading a customs notification feed failed (the intake; its own circuit)
    │   ├── TransientFeedError      connection errors, timeouts, broken replies, 429, 502, 503, 504: retried
    │   └── PermanentFeedError      TLS refusals, 401/403, other statuses, a page whose envelope is unreadable,
    │                               retries exhausted -> logged; the feed is asked again after ``interval_s``
    └── UnsafeXmlError              XML refused by the hardened parser (DTD, entities, malformed)

A business rejection from customs is an *outcome* (``gateway.outcomes.Rejection``), never an exception.
Library exceptions (httpx, lxml, pydantic, aiokafka) are translated at the boundary with ``raise ... from exc``:
every exception of the HTTP client stack through the one table in ``adapters/http_errors.py``.

A ``ConfigurationError`` names the settings it is about as *field paths* (``ecuapass.token_file``,
``agencies.<RUC>.token_file``, ``kafka.ssl_cafile``), written so in the message and listed in ``fields``. Only the
entry point renders them in the terms its user knows (``GATEWAY_ECUAPASS__TOKEN_FILE``: ``gateway.cli``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.events.validation import FieldError


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigurationError(GatewayError):
    """The gateway cannot start as configured, or a command cannot run as asked.

    ``fields``: the settings concerned, as field paths, each written as such in the message."""

    def __init__(self, message: str, *, fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.fields = tuple(fields)

    def explain(self, name: Callable[[str], str]) -> str:
        """The message with each of ``fields`` named by ``name`` (e.g. as its environment variable)."""
        if not self.fields:
            return str(self)
        paths = sorted(set(self.fields), key=len, reverse=True)  # ecuapass.token_file before ecuapass.token
        pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, paths)) + r")(?![\w<]|\.\w)")
        return pattern.sub(lambda match: name(match.group(1)), str(self))


class KafkaUnavailableError(GatewayError):
    """No Kafka broker can be reached (connection refused, no answer, name not resolved), or one stopped answering
    while the gateway read from it: an outage (or a wrong address), not settings the broker refused."""

    def __init__(self, message: str, *, bootstrap_servers: str) -> None:
        super().__init__(message)
        self.bootstrap_servers = bootstrap_servers


class ContractError(GatewayError):
    """The event breaks the published contract; retrying cannot help."""


class UndecodableEvent(ContractError):
    """The record is not a CloudEvent the gateway knows: it goes to the dead-letter topic."""

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidEvent(ContractError):
    """A known event type whose content breaks the contract: answered with a rejection listing every problem."""

    def __init__(
        self,
        errors: Sequence[FieldError],
        *,
        event_id: str | None = None,
        event_type: str | None = None,
        source: str | None = None,
        subject: str | None = None,
    ) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message_en}" for e in errors))
        self.errors = tuple(errors)
        self.event_id = event_id
        self.event_type = event_type
        self.source = source
        self.subject = subject


class DeliveryError(GatewayError):
    """Filing a document with the customs endpoint failed."""

    def __init__(self, message: str, *, message_id: str, status_code: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message_id = message_id
        self.status_code = status_code
        self.attempts = attempts


class TransientDeliveryError(DeliveryError):
    """Worth retrying: the endpoint was unreachable, slow, overloaded or briefly failing."""

    def __init__(
        self,
        message: str,
        *,
        message_id: str,
        status_code: int | None = None,
        retry_after_s: float | None = None,
        ambiguous: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, message_id=message_id, status_code=status_code, attempts=attempts)
        self.retry_after_s = retry_after_s
        # True when the request may have been filed before failing: ask the status before sending again.
        self.ambiguous = ambiguous


class PermanentDeliveryError(DeliveryError):
    """Not worth retrying: the endpoint refused the request itself, or retries ran out."""


class FeedError(GatewayError):
    """Reading a page of a customs notification feed failed (``feed``: its name, ``default`` or an agency's RUC)."""

    def __init__(self, message: str, *, feed: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.feed = feed
        self.status_code = status_code


class TransientFeedError(FeedError):
    """Worth asking again soon: the feed was unreachable, slow, overloaded or briefly failing."""

    def __init__(
        self, message: str, *, feed: str, status_code: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, feed=feed, status_code=status_code)
        self.retry_after_s = retry_after_s


class PermanentFeedError(FeedError):
    """Asking the same way again cannot help soon: refused credentials, an unreadable page, retries exhausted."""


class UnsafeXmlError(GatewayError):
    """XML the hardened parser refuses: malformed, or carrying a DTD, entities or other active content."""
