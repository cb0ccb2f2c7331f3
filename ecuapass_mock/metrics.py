"""Prometheus metrics of the mock, in a registry of its own (several mocks may run in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class MockMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ecuapass_mock_requests_total",
            "HTTP requests by route and status code.",
            ["route", "code"],
            registry=self.registry,
        )
        self.filings = Counter(
            "ecuapass_mock_filings_total",
            "Documents answered, by document kind and status.",
            ["document", "status"],
            registry=self.registry,
        )
        self.faults = Counter(
            "ecuapass_mock_faults_injected_total", "Faults injected, by kind.", ["fault"], registry=self.registry
        )
        self.in_flight = Gauge(
            "ecuapass_mock_filings_in_progress", "Filing requests being answered right now.", registry=self.registry
        )
        self.peak_in_flight = 0
        self._in_flight = 0
        self.latency = Histogram(
            "ecuapass_mock_request_duration_seconds",
            "Time to answer a filing, injected latency included.",
            registry=self.registry,
        )

    def request_started(self) -> None:
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        self.in_flight.set(self._in_flight)

    def request_finished(self) -> None:
        self._in_flight -= 1
        self.in_flight.set(self._in_flight)
