"""The gateway's Prometheus metrics: one registry per gateway, low-cardinality labels only (never case ids).

Served on ``/metrics`` of the ops port (``gateway/runtime/ops.py``). The Grafana dashboard and the alert rules in
``deploy/`` query these names; ``tests/unit/test_ops_assets.py`` checks that every name they use exists here.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway.outcomes import Acknowledgment, DeadLetter, Outcome, Rejection

PREFIX = "ecuapass_gateway"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CIRCUIT_STATES = ("closed", "half_open", "open")


class GatewayMetrics:
    """The gateway's metrics, declared per concern (in the order they are exposed): what came in and went out,
    filings and latencies, the state of consumption, and the health of the signing certificates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._declare_outcomes(self.registry)
        self._declare_filings(self.registry)
        self._declare_consumption(self.registry)
        self._declare_health(self.registry)
        self._declare_intake(self.registry)
        self.set_circuit("closed")

    def _declare_outcomes(self, r: CollectorRegistry) -> None:
        """Events consumed and outcomes published: acknowledgments, rejections (with their errors), dead letters."""
        self.events_consumed = Counter(
            f"{PREFIX}_events_consumed_total",
            "Events consumed from the input topic, by event type.",
            ["type"],
            registry=r,
        )
        self.outcomes = Counter(
            f"{PREFIX}_outcomes_total",
            "Outcomes published: accepted, rejected or dead_letter, by document and rejection stage.",
            ["outcome", "document", "stage"],
            registry=r,
        )
        self.rejection_errors = Counter(
            f"{PREFIX}_rejection_errors_total",
            "Errors listed in rejections, by document and code.",
            ["document", "code"],
            registry=r,
        )
        self.dead_letters = Counter(
            f"{PREFIX}_dead_letters_total", "Records sent to the dead-letter topic, by reason.", ["reason"], registry=r
        )

    def _declare_filings(self, r: CollectorRegistry) -> None:
        """Filing with customs over HTTP (results, retries, request durations), and the end-to-end latency."""
        self.filings = Counter(
            f"{PREFIX}_filings_total",
            "Requests filing a document with customs, by document and result.",
            ["document", "result"],
            registry=r,
        )
        self.retries = Counter(
            f"{PREFIX}_filing_retries_total", "Filing attempts retried, by cause.", ["cause"], registry=r
        )
        self.endpoint_latency = Histogram(
            f"{PREFIX}_endpoint_request_duration_seconds",
            "Duration of HTTP requests to the customs endpoint.",
            ["method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            f"{PREFIX}_end_to_end_latency_seconds",
            "From the event's time to its outcome being published.",
            ["document"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def _declare_consumption(self, r: CollectorRegistry) -> None:
        """The state of consumption: events in flight, the circuit, lag, stalled partitions, pauses."""
        self.in_flight = Gauge(
            f"{PREFIX}_events_in_flight", "Events consumed whose outcome is not out yet.", registry=r
        )
        self.circuit = Gauge(
            f"{PREFIX}_circuit_state",
            "Circuit to the customs endpoint: 1 for the current state.",
            ["state"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            f"{PREFIX}_consumer_lag_records",
            "Records of the input topic not yet consumed, per partition.",
            ["partition"],
            registry=r,
        )
        self.partition_stalled = Gauge(
            f"{PREFIX}_partition_stalled_seconds",
            "How long a partition's position has not moved while records wait behind it (0: moving, caught up or "
            "paused on purpose).",
            ["partition"],
            registry=r,
        )
        self.paused = Gauge(
            f"{PREFIX}_consumption_paused", "1 while consumption is paused (backpressure, circuit).", registry=r
        )

    def _declare_health(self, r: CollectorRegistry) -> None:
        """What runs out: the agencies' signing certificates."""
        self.certificate_expiry = Gauge(
            f"{PREFIX}_signing_certificate_expiry_timestamp_seconds",
            "When each agency's signing certificate expires (Unix time), by agency name (or masked RUC).",
            ["agency"],
            registry=r,
        )

    def _declare_intake(self, r: CollectorRegistry) -> None:
        """The intake of customs notifications: what it published, what went wrong per feed, how fresh it is."""
        self.notifications = Counter(
            f"{PREFIX}_notifications_published_total",
            "Customs notifications published on the notifications topic, by notification type.",
            ["type"],
            registry=r,
        )
        self.intake_errors = Counter(
            f"{PREFIX}_intake_errors_total",
            "Intake failures per feed: failed feed requests (by error class), notifications dead-lettered (by "
            "reason), cursors past the retention (FeedGone).",
            ["feed", "reason"],
            registry=r,
        )
        self.intake_read = Gauge(
            f"{PREFIX}_intake_last_read_timestamp_seconds",
            "When this instance last read a page of the feed and saved its cursor (Unix time), per feed it owns; "
            "the freshest over every instance is when the feed was last read at all.",
            ["feed"],
            registry=r,
        )
        self.newest_notification = Gauge(
            f"{PREFIX}_intake_newest_notification_timestamp_seconds",
            "Customs' time of the newest notification published, per feed (Unix time): its age is now minus it.",
            ["feed"],
            registry=r,
        )

    def set_circuit(self, state: str) -> None:
        for known in CIRCUIT_STATES:
            self.circuit.labels(known).set(1 if known == state else 0)

    def record_outcome(self, event_type: str, outcome: Outcome, latency_s: float | None) -> None:
        """One published outcome: what was consumed, what came out, how long it took."""
        if isinstance(outcome, DeadLetter):
            self.events_consumed.labels(event_type or "undecodable").inc()
            self.outcomes.labels("dead_letter", "unknown", "").inc()
            self.dead_letters.labels(outcome.reason).inc()
            return
        data = outcome.data
        document = data.document or "unknown"
        self.events_consumed.labels(data.answered_event_type or "unknown").inc()
        if isinstance(outcome, Acknowledgment):
            self.outcomes.labels("accepted", document, "").inc()
        elif isinstance(outcome, Rejection):
            self.outcomes.labels("rejected", document, outcome.data.stage).inc()
            for error in outcome.data.errors:
                self.rejection_errors.labels(document, error.code).inc()
        if latency_s is not None:
            self.end_to_end.labels(document).observe(max(latency_s, 0.0))
