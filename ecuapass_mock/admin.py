"""The mock's own tooling, open without a token: what tests and the demo ask it, its metrics and its health.

    GET  /admin/filings                          {message_id: submissions}  (a correct client keeps each at 1)
    GET  /admin/outcomes                         {status: count}
    GET  /admin/log                              every filing in order (case id, document, reference), peak concurrency
    GET  /admin/clients                          {message_id: name of the bearer token it was filed with}
    GET  /admin/faults, PUT /admin/faults        current fault settings / replace them (JSON)
    POST /admin/reset                            forget every filing and clear the faults
    GET  /metrics, GET /healthz

A real customs service has no admin routes: they exist for tests, the demo and the benchmark.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.store import FilingStore


class Admin:
    """The admin, metrics and health routes over the state the API shares with them."""

    def __init__(
        self, store: FilingStore, injector: FaultInjector, metrics: MockMetrics, filed_by: dict[str, str]
    ) -> None:
        self._store = store
        self._injector = injector
        self._metrics = metrics
        self._filed_by = filed_by

    def routes(self) -> list[Route]:
        return [
            Route("/admin/filings", self.filings, methods=["GET"]),
            Route("/admin/outcomes", self.outcomes, methods=["GET"]),
            Route("/admin/log", self.log, methods=["GET"]),
            Route("/admin/clients", self.clients, methods=["GET"]),
            Route("/admin/faults", self.get_faults, methods=["GET"]),
            Route("/admin/faults", self.put_faults, methods=["PUT"]),
            Route("/admin/reset", self.reset, methods=["POST"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
        ]

    async def filings(self, _: Request) -> Response:
        return JSONResponse(self._store.submissions())

    async def outcomes(self, _: Request) -> Response:
        return JSONResponse(self._store.counts_by_status())

    async def log(self, _: Request) -> Response:
        return JSONResponse({"filings": self._store.log(), "peak_in_flight": self._metrics.peak_in_flight})

    async def clients(self, _: Request) -> Response:
        return JSONResponse(self._filed_by)

    async def get_faults(self, _: Request) -> Response:
        return JSONResponse(self._injector.settings.model_dump(mode="json"))

    async def put_faults(self, request: Request) -> Response:
        try:
            self._injector.configure(FaultSettings.model_validate_json(await request.body()))
        except ValidationError as exc:
            return JSONResponse({"errors": exc.errors(include_url=False, include_context=False)}, status_code=422)
        return JSONResponse(self._injector.settings.model_dump(mode="json"))

    async def reset(self, _: Request) -> Response:
        self._store.reset()
        self._filed_by.clear()
        self._injector.configure(FaultSettings())
        return JSONResponse({"reset": True})

    async def metrics(self, _: Request) -> Response:
        return Response(generate_latest(self._metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})
