"""The gateway's outbound ports: filing an e-document with an Ecuapass-style endpoint, and reading a customs
notification feed (the intake's, ``NotificationFeed``).

``adapters/http_customs_endpoint.py`` implements it over HTTP with retries; ``adapters/fake_customs_endpoint.py``
accepts in-process (tests, benchmarks). A reply is data, whatever customs decided; only failing to obtain a
reply raises (``gateway.errors.DeliveryError``). The reply's types are the contract's (``gateway.contract.replies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.contract.feed import FeedGone, TolerantPage
from gateway.contract.replies import Acceptance, CustomsReply, Reception, RejectionNotice, ReplyError, Stage, Status

__all__ = [
    "Acceptance",
    "CustomsEndpoint",
    "CustomsReply",
    "Filing",
    "NotificationFeed",
    "Reception",
    "RejectionNotice",
    "ReplyError",
    "Stage",
    "Status",
]


@dataclass(frozen=True, slots=True)
class Filing:
    """One e-document to file: which kind, under which idempotency key, its XML (signed when the gateway has
    agencies), and for which agency (the sender's RUC: whose endpoint credentials file it)."""

    kind: str
    message_id: str
    body: bytes
    traceparent: str | None = None
    # The event may have been filed already by a gateway that died before publishing its outcome:
    # ask the status query before sending, so the document is not submitted twice.
    maybe_filed: bool = False
    agency: str | None = None


class CustomsEndpoint(Protocol):
    async def probe(self) -> None:
        """At start-up: raise ``ConfigurationError`` when no filing could succeed as configured (TLS, credentials)."""
        ...

    async def file(self, filing: Filing) -> CustomsReply:
        """File one document and return customs' final answer (accepted or rejected)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class NotificationFeed(Protocol):
    """One customs notification feed, read with one set of credentials (``adapters/http_notification_feed.py``)."""

    name: str

    async def page(self, after: str, limit: int) -> tuple[bytes, TolerantPage | FeedGone]:
        """The raw answer and the page after cursor ``after`` (each notification read on its own), or the
        ``FeedGone`` of a cursor older than the retention; ``gateway.errors.FeedError`` when none was obtained."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
