"""W3C trace context and OpenTelemetry spans: consume -> map -> validate -> file -> publish.

The ``traceparent`` of an input record is the parent of the event's spans; the request to customs and the outcome
record carry the trace on. Exporting spans is optional (``GATEWAY_TRACING__EXPORTER``, off by default): without an
exporter the spans are not recorded, but the context still flows, so a trace id set by a back-end reaches customs
and the outcome unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.errors import ConfigurationError
from gateway.settings import TracingSettings

tracer = trace.get_tracer("ecuapass-gateway")
_PROPAGATOR = TraceContextTextMapPropagator()


def setup(settings: TracingSettings) -> None:
    """Install a span exporter, if one is configured (once per process)."""
    if settings.exporter == "none":
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if settings.exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ConfigurationError(
                "the otlp exporter needs the opentelemetry-exporter-otlp-proto-http package"
            ) from exc
        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def extract(headers: Mapping[str, str]) -> otel_context.Context:
    """The trace context of an input record's headers (an empty context when it has none)."""
    return _PROPAGATOR.extract(dict(headers))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None
