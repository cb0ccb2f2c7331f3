"""The composition root: wires the real adapters by default, accepts fakes for tests and benchmarks.

Every XSD is compiled here and, with agencies configured, every agency's signing certificate is loaded and checked
(a problem fails start-up with ``ConfigurationError``); the endpoint is then one HTTP endpoint per distinct set of
agency credentials behind ``PerAgencyCustomsEndpoint``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from adapters.http_notification_feed import HttpNotificationFeed
from adapters.per_agency_customs_endpoint import PerAgencyCustomsEndpoint
from gateway.documents import DOCUMENTS
from gateway.intake.service import Intake
from gateway.kafka.connection import BrokerConnection, ConnectionFactory
from gateway.kafka.consumption import Consumption
from gateway.kafka.flow import OffsetTracker
from gateway.kafka.handler import EventHandler
from gateway.kafka.health import GatewayHealth
from gateway.kafka.publisher import OutcomePublisher
from gateway.kafka.service import Gateway
from gateway.kafka.wiring import wire
from gateway.pipeline import Pipeline
from gateway.ports import CustomsEndpoint, NotificationFeed
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.logs import mask
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import EcuapassSettings, Settings, endpoint_fields, feed_endpoint, feed_names
from gateway.signing import SigningIdentity, agency_label, load_identities

log = logging.getLogger(__name__)


# A signing certificate this close to its end is announced at start-up (and alerted on through the metric).
EXPIRY_NOTICE = timedelta(days=30)


def build_gateway(
    settings: Settings, *, endpoint: CustomsEndpoint | None = None, kafka: ConnectionFactory = BrokerConnection
) -> Gateway:
    """The gateway ``settings`` describe; tests and benchmarks pass their own customs ``endpoint`` (then there is
    no circuit breaker) or reach Kafka their own way (``kafka``: the in-memory cluster of the tests)."""
    DOCUMENTS.compile()  # every XSD now: a broken one stops start-up (naming the file), not the first event of its kind
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
    return kafka_gateway(settings, pipeline, endpoint, breaker, metrics, kafka)


def kafka_gateway(
    settings: Settings,
    pipeline: Pipeline,
    endpoint: CustomsEndpoint,
    breaker: CircuitBreaker | None,
    metrics: GatewayMetrics,
    kafka: ConnectionFactory = BrokerConnection,
) -> Gateway:
    """The Kafka entrypoint around ``pipeline``: its handler, publisher and consumer control, the broker wiring
    they are reached through, and its health."""
    processing = settings.processing
    tracker = OffsetTracker()
    consumption = Consumption(processing, tracker, metrics)
    publisher = OutcomePublisher(settings)
    handler = EventHandler(pipeline, publisher, tracker, consumption, metrics, max_in_flight=processing.max_in_flight)
    wiring = wire(settings, handler.dispatch, consumption.listener)
    connection = kafka(settings, wiring)
    consumption.attach(connection.consumer)
    health = GatewayHealth(
        metrics,
        connection,
        consumption,
        handler,
        breaker,
        stale_after_s=max(5.0, 20 * processing.commit_interval_ms / 1000),
    )
    return Gateway(
        settings,
        endpoint=endpoint,
        intake=intake(settings, metrics) if settings.intake.enabled else None,
        wiring=wiring,
        connection=connection,
        tracker=tracker,
        consumption=consumption,
        publisher=publisher,
        handler=handler,
        health=health,
        breaker=breaker,
    )


def customs_endpoint(settings: Settings, breaker: CircuitBreaker, metrics: GatewayMetrics) -> CustomsEndpoint:
    """The HTTP endpoint; with agencies, one per distinct set of agency credentials, routed by ``Filing.agency``.
    Each names, in its start-up errors, the agencies whose credentials it holds and where each credential is set
    (``ecuapass.*``, or ``agencies.<RUC>.*`` for an agency's own)."""
    if not settings.agencies:
        return HttpCustomsEndpoint(settings.ecuapass, settings.retry, breaker=breaker, metrics=metrics)
    # One HTTP endpoint per distinct set of credentials: agencies without their own share the ecuapass section's.
    groups: list[tuple[EcuapassSettings, dict[str, str], list[str]]] = []
    for ruc, agency in settings.agencies.items():
        own = agency.endpoint(settings.ecuapass)
        group = next((found for found in groups if found[0] == own), None)
        if group is None:
            groups.append((own, endpoint_fields(agency), [ruc]))
        else:
            group[2].append(ruc)
    by_agency: dict[str, CustomsEndpoint] = {}
    for own, fields, rucs in groups:
        holders = ", ".join(agency_label(ruc, settings.agencies[ruc].name) for ruc in rucs)
        endpoint = HttpCustomsEndpoint(
            own, settings.retry, breaker=breaker, metrics=metrics, fields=fields, credentials_of=holders
        )
        by_agency |= dict.fromkeys(rucs, endpoint)
    return PerAgencyCustomsEndpoint(by_agency)


def intake(settings: Settings, metrics: GatewayMetrics | None = None) -> Intake:
    """The intake of customs notifications: one feed per set of endpoint credentials (``feed_names``), each with
    its own HTTP client and circuit; credentials load now, so a bad one fails start-up naming its setting."""
    feeds: list[NotificationFeed] = []
    for name in feed_names(settings):
        agency = settings.agencies.get(name)
        owner = agency_label(name, agency.name) if agency is not None else None
        endpoint = feed_endpoint(settings, name)
        fields = endpoint_fields(agency)
        feeds.append(HttpNotificationFeed(name, endpoint, settings.intake, fields=fields, credentials_of=owner))
    return Intake(settings, feeds, metrics)


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
