"""The gateway's one outbound port: filing an e-document with an Ecuapass-style endpoint.

``adapters/http_customs_endpoint.py`` implements it over HTTP with retries; ``adapters/fake_customs_endpoint.py``
accepts in-process (tests, benchmarks). A reply is data, whatever customs decided; only failing to obtain a
reply raises (``gateway.errors.DeliveryError``). The reply's types are the contract's (``gateway.contract.replies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.contract.replies import Acceptance, CustomsReply, Reception, RejectionNotice, ReplyError, Stage, Status

__all__ = [
    "Acceptance",
    "CustomsEndpoint",
    "CustomsReply",
    "Filing",
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
