"""The customs endpoint port for several agencies: each filing goes through the endpoint holding its agency's
credentials (bearer token, client certificate), chosen by ``Filing.agency`` (the sender's RUC).

The endpoints are built by ``gateway.bootstrap``, one per distinct set of credentials (agencies without credentials
of their own share the ``ecuapass`` section's), all to the same URL, sharing one circuit breaker and the metrics:
the endpoint being down is one fact, whichever agency notices it. A filing for an agency without an endpoint
cannot happen through the pipeline (it rejects unknown senders first); should it, it fails permanently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from gateway.errors import ConfigurationError, PermanentDeliveryError
from gateway.ports import CustomsEndpoint, CustomsReply, Filing


class PerAgencyCustomsEndpoint:
    def __init__(self, endpoints: Mapping[str, CustomsEndpoint], labels: Mapping[str, str] | None = None) -> None:
        """``endpoints``: by agency RUC; several agencies may share one endpoint instance. ``labels``: how messages
        name each agency (``gateway.signing.agency_label``: the RUC masked, as in logs)."""
        self._by_agency = dict(endpoints)
        self._labels = dict(labels or {})
        self._distinct: dict[int, tuple[CustomsEndpoint, list[str]]] = {}
        for ruc, endpoint in self._by_agency.items():
            self._distinct.setdefault(id(endpoint), (endpoint, []))[1].append(ruc)

    def for_agency(self, ruc: str) -> CustomsEndpoint | None:
        """The endpoint filing for the agency ``ruc``, if it has one."""
        return self._by_agency.get(ruc)

    async def probe(self) -> None:
        """Probe every distinct endpoint; the first refusal names the agencies whose credentials it holds."""
        pairs = list(self._distinct.values())
        results = await asyncio.gather(*(endpoint.probe() for endpoint, _ in pairs), return_exceptions=True)
        for (_, agencies), result in zip(pairs, results, strict=True):
            if isinstance(result, ConfigurationError):
                names = ", ".join(self._labels.get(ruc, "an agency") for ruc in agencies)
                raise ConfigurationError(
                    f"with the credentials of {names} (GATEWAY_AGENCIES__<RUC>__* where set, else "
                    f"GATEWAY_ECUAPASS__*): {result}"
                ) from result
            if isinstance(result, BaseException):
                raise result

    async def file(self, filing: Filing) -> CustomsReply:
        endpoint = self._by_agency.get(filing.agency or "")
        if endpoint is None:
            raise PermanentDeliveryError(
                "no endpoint credentials for the filing's agency (not a configured agency)",
                message_id=filing.message_id,
            )
        return await endpoint.file(filing)

    async def aclose(self) -> None:
        for endpoint, _ in self._distinct.values():
            await endpoint.aclose()
