"""The composition root: wires the real adapters by default, accepts fakes for tests and benchmarks."""

from __future__ import annotations

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.circuit import CircuitBreaker
from gateway.kafka.service import Gateway
from gateway.metrics import GatewayMetrics
from gateway.pipeline import Pipeline
from gateway.ports import CustomsEndpoint
from gateway.settings import Settings


def build_gateway(settings: Settings, *, endpoint: CustomsEndpoint | None = None) -> Gateway:
    metrics = GatewayMetrics()
    breaker = None
    if endpoint is None:
        breaker = CircuitBreaker(settings.circuit.failure_threshold, settings.circuit.open_s)
        endpoint = HttpCustomsEndpoint(settings.ecuapass, settings.retry, breaker=breaker, metrics=metrics)
    pipeline = Pipeline(endpoint, source=settings.source, max_event_bytes=settings.processing.max_event_bytes)
    return Gateway(settings, pipeline, endpoint, breaker, metrics)
