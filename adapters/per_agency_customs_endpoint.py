"""The customs endpoint port for several agencies: each filing goes through the endpoint holding its agency's
credentials (bearer token, client certificate), chosen by ``Filing.agency`` (the sender's RUC).

The endpoints are built by ``gateway.bootstrap``, one per distinct set of credentials (agencies without credentials
of their own share the ``ecuapass`` section's), all to the same URL, sharing one circuit breaker and the metrics:
the endpoint being down is one fact, whichever agency notices it. Each endpoint's start-up errors already name the
agencies whose credentials it holds and the settings concerned. A filing for an agency without an endpoint cannot
happen through the pipeline (it rejects unknown senders first); should it, it fails permanently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from gateway.errors import PermanentDeliveryError
from gateway.ports import CustomsEndpoint, CustomsReply, Filing


class PerAgencyCustomsEndpoint:
    def __init__(self, endpoints: Mapping[str, CustomsEndpoint]) -> None:
        """``endpoints``: by agency RUC; several agencies may share one endpoint instance."""
        self._by_agency = dict(endpoints)
        self._distinct = list({id(endpoint): endpoint for endpoint in self._by_agency.values()}.values())

    def for_agency(self, ruc: str) -> CustomsEndpoint | None:
        """The endpoint filing for the agency ``ruc``, if it has one."""
        return self._by_agency.get(ruc)

    async def probe(self) -> None:
        """Probe every distinct endpoint at once; the first failure (in the endpoints' order) is raised as it is."""
        results = await asyncio.gather(*(endpoint.probe() for endpoint in self._distinct), return_exceptions=True)
        for result in results:
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
        for endpoint in self._distinct:
            await endpoint.aclose()
