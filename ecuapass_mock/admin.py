"""The mock's own tooling, open without a token: what tests and the demo ask it, its metrics and its health.

    GET  /admin/filings                          {message_id: submissions}  (a correct client keeps each at 1)
    GET  /admin/outcomes                         {status: count}
    GET  /admin/log                              every filing in order (case id, document, reference), peak concurrency
    GET  /admin/clients                          {message_id: name of the bearer token it was filed with}
    GET  /admin/faults, PUT /admin/faults        current fault settings / replace them (JSON)
    POST /admin/reset                            forget every filing and notification, clear the faults
    POST /admin/notifications                    publish a notification now, of any type, about any accepted DAE
                                                 or warehouse entry (JSON: ``Injection``)         -> 201, 404, 422
    GET  /admin/notifications/{message_id}       the filing's notifications, and what its case still has planned
    POST /admin/notifications/{message_id}/close-observation
                                                 close the open observation of the filing's case  -> 200, 404, 409
    GET  /metrics, GET /healthz

A real customs service has no admin routes: they exist for tests, the demo and the benchmark. An injected
notification goes to the feed of whoever filed the document it concerns; it changes nothing the case has planned.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.injection import Injection, as_json, planned_json
from ecuapass_mock.lifecycle import Timings, case_of
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.outbox import NotOpen, Outbox
from ecuapass_mock.store import FilingStore


class Admin:
    """The admin, metrics and health routes over the state the API shares with them; ``timings`` give the defaults
    of an injected notification's details (an inspection's date, an observation's deadline)."""

    def __init__(
        self, store: FilingStore, injector: FaultInjector, metrics: MockMetrics, outbox: Outbox, timings: Timings
    ) -> None:
        self._store = store
        self._injector = injector
        self._metrics = metrics
        self._outbox = outbox
        self._timings = timings

    def routes(self) -> list[Route]:
        return [
            Route("/admin/filings", self.filings, methods=["GET"]),
            Route("/admin/outcomes", self.outcomes, methods=["GET"]),
            Route("/admin/log", self.log, methods=["GET"]),
            Route("/admin/clients", self.clients, methods=["GET"]),
            Route("/admin/faults", self.get_faults, methods=["GET"]),
            Route("/admin/faults", self.put_faults, methods=["PUT"]),
            Route("/admin/reset", self.reset, methods=["POST"]),
            Route("/admin/notifications", self.inject, methods=["POST"]),
            Route("/admin/notifications/{message_id}", self.notifications, methods=["GET"]),
            Route("/admin/notifications/{message_id}/close-observation", self.close_observation, methods=["POST"]),
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
        return JSONResponse(self._store.clients())

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
        self._injector.configure(FaultSettings())
        return JSONResponse({"reset": True})

    async def inject(self, request: Request) -> Response:
        try:
            injection = Injection.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"errors": exc.errors(include_url=False, include_context=False)}, status_code=422)
        case = case_of(self._store, injection.message_id)
        filing = self._store.accepted(injection.message_id)
        if case is None or filing is None:
            return JSONResponse({"error": "no accepted export declaration or warehouse entry"}, status_code=404)
        try:
            draft = injection.draft(case, filing, self._outbox.now(), self._timings)
            published = self._outbox.publish(filing, draft)
        except ValueError as exc:
            return JSONResponse({"errors": [{"msg": str(exc)}]}, status_code=422)
        return JSONResponse(as_json(published), status_code=201)

    async def notifications(self, request: Request) -> Response:
        message_id = request.path_params["message_id"]
        case = case_of(self._store, message_id)
        published, planned = self._outbox.of_filing(message_id, case.key if case else None)
        return JSONResponse(
            {"notifications": [as_json(n) for n in published], "planned": [planned_json(p) for p in planned]}
        )

    async def close_observation(self, request: Request) -> Response:
        case = case_of(self._store, request.path_params["message_id"])
        if case is None:
            return JSONResponse({"error": "no accepted export declaration or warehouse entry"}, status_code=404)
        try:
            released = self._outbox.close_observation(case.key)
        except NotOpen as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return JSONResponse({"closed": True, "released": released})

    async def metrics(self, _: Request) -> Response:
        return Response(generate_latest(self._metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})
