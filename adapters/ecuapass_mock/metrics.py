"""Prometheus metrics of the mock, in a registry of its own (several mocks may run in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
        self.latency = Histogram(
            "ecuapass_mock_request_duration_seconds",
            "Time to answer a filing, injected latency included.",
            registry=self.registry,
        )
