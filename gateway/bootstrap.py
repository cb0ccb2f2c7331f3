"""The composition root: wires the real adapters by default, accepts fakes for tests and benchmarks.

With agencies configured, every agency's signing certificate is loaded and checked here (a problem fails start-up
with ``ConfigurationError``), and the endpoint is one HTTP endpoint per distinct set of agency credentials behind
``PerAgencyCustomsEndpoint``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from adapters.per_agency_customs_endpoint import PerAgencyCustomsEndpoint
from gateway.circuit import CircuitBreaker
from gateway.errors import ConfigurationError
from gateway.kafka.service import Gateway
from gateway.logs import mask
from gateway.metrics import GatewayMetrics
from gateway.pipeline import Pipeline
from gateway.ports import CustomsEndpoint
from gateway.settings import EcuapassSettings, Settings
from gateway.signing import SigningIdentity, agency_label, load_identities

log = logging.getLogger(__name__)


# A signing certificate this close to its end is announced at start-up (and alerted on through the metric).
EXPIRY_NOTICE = timedelta(days=30)


def build_gateway(settings: Settings, *, endpoint: CustomsEndpoint | None = None) -> Gateway:
    identities = load_identities(settings.agencies)
    metrics = GatewayMetrics()
    _watch_expiry(settings, identities, metrics)
    breaker = None
    if endpoint is None:
        breaker = CircuitBreaker(settings.circuit.failure_threshold, settings.circuit.open_s)
        endpoint = customs_endpoint(settings, breaker, metrics)
    pipeline = Pipeline(
        endpoint,
        source=settings.source,
        max_event_bytes=settings.processing.max_event_bytes,
        identities=identities,
    )
    return Gateway(settings, pipeline, endpoint, breaker, metrics)


def customs_endpoint(settings: Settings, breaker: CircuitBreaker, metrics: GatewayMetrics) -> CustomsEndpoint:
    """The HTTP endpoint; with agencies, one per distinct set of agency credentials, routed by ``Filing.agency``."""
    if not settings.agencies:
        return HttpCustomsEndpoint(settings.ecuapass, settings.retry, breaker=breaker, metrics=metrics)
    # One HTTP endpoint per distinct set of credentials: agencies without their own share the ecuapass section's.
    built: list[tuple[EcuapassSettings, HttpCustomsEndpoint]] = []
    by_agency: dict[str, CustomsEndpoint] = {}
    for ruc, agency in settings.agencies.items():
        own = agency.endpoint(settings.ecuapass)
        endpoint = next((made for made_for, made in built if made_for == own), None)
        if endpoint is None:
            try:
                endpoint = HttpCustomsEndpoint(own, settings.retry, breaker=breaker, metrics=metrics)
            except ConfigurationError as exc:
                raise ConfigurationError(
                    f"{agency_label(ruc, agency.name)}: its endpoint credentials (GATEWAY_AGENCIES__<RUC>__* where "
                    f"set): {exc}"
                ) from exc
            built.append((own, endpoint))
        by_agency[ruc] = endpoint
    labels = {ruc: agency_label(ruc, agency.name) for ruc, agency in settings.agencies.items()}
    return PerAgencyCustomsEndpoint(by_agency, labels)


def _watch_expiry(settings: Settings, identities: Mapping[str, SigningIdentity], metrics: GatewayMetrics) -> None:
    """Each signing certificate's end as a metric (the alert rules watch it), and a warning when it is near.
    Agencies without a name may share a label (their masked RUC): the label keeps the earliest end."""
    now = datetime.now(UTC)
    earliest: dict[str, datetime] = {}
    for ruc, identity in identities.items():
        name = settings.agencies[ruc].name
        expires = identity.certificate.not_valid_after_utc
        label = name or mask(ruc)
        earliest[label] = min(expires, earliest.get(label, expires))
        if expires - now < EXPIRY_NOTICE:
            log.warning(
                "%s: its signing certificate expires on %s, in %d days; customs refuses documents signed after that",
                agency_label(ruc, name),
                expires.date().isoformat(),
                (expires - now).days,
            )
    for label, expires in earliest.items():
        metrics.certificate_expiry.labels(label).set(expires.timestamp())
