"""Every exception the gateway raises, in one tree.

    GatewayError
    ├── ConfigurationError          bad settings or missing resources; fails at start-up
    ├── ContractError               the event can never be filed as it is (permanent)
    │   ├── UndecodableEvent        not JSON, not a CloudEvent, unknown type   -> dead letter
    │   └── InvalidEvent            a known event whose fields break the contract -> rejection
    ├── DeliveryError               filing with the customs endpoint failed
    │   ├── TransientDeliveryError  connection errors, timeouts, 429, 502, 503, 504: retried
    │   └── PermanentDeliveryError  other 4xx, unreadable replies, retries exhausted -> dead letter
    └── UnsafeXmlError              XML refused by the hardened parser (DTD, entities, malformed)

A business rejection from customs is an *outcome* (``gateway.outcomes.Rejection``), never an exception.
Library exceptions (httpx, lxml, pydantic, aiokafka) are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.events.validation import FieldError


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigurationError(GatewayError):
    """The gateway cannot start as configured."""


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


class UnsafeXmlError(GatewayError):
    """XML the hardened parser refuses: malformed, or carrying a DTD, entities or other active content."""
