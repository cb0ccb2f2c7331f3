"""The mock Ecuapass endpoint over HTTP (ASGI): routes, fault injection, two-stage replies, admin and metrics.

    POST /api/v1/documents                       file an e-document (XML)            -> 200 reply.xsd
         with "Prefer: respond-async"            reception only                      -> 202 RECEIVED reply
    GET  /api/v1/documents/{message_id}          status query (RECEIVED until decided) -> reply.xsd, 404
    GET  /api/v1/submissions/{submission_number} the same, by submission number
    GET  /admin/filings                          {message_id: submissions}  (a correct client keeps each at 1)
    GET  /admin/outcomes                         {status: count}
    GET  /admin/log                              every filing in order (case id, document, reference), peak concurrency
    GET  /admin/clients                          {message_id: name of the bearer token it was filed with}
    GET  /admin/faults, PUT /admin/faults        current fault settings / replace them (JSON)
    POST /admin/reset                            forget every filing and clear the faults
    GET  /metrics, GET /healthz

The API routes (``/api/v1/...``) answer 401 without the bearer token given as ``require_token`` (one token, or
several by client name: one per agency), and 403 without a client certificate when ``client_certificates`` (the
server asks for them, see ``server.py``); the admin, metrics and health routes are the mock's own tooling and stay
open. ``signatures`` says which CAs the signature check trusts and whether documents must be signed
(``signatures.py``).

What customs does with a document is ``filing.py``; which bad day it has is ``faults.py``.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.ecuapass_mock.faults import Draw, FaultInjector, FaultSettings
from adapters.ecuapass_mock.filing import file_document, reception_error
from adapters.ecuapass_mock.metrics import MockMetrics
from adapters.ecuapass_mock.signatures import SignatureCheck
from adapters.ecuapass_mock.store import FilingStore, StoredFiling
from gateway.documents import BY_ROOT
from gateway.errors import UnsafeXmlError
from gateway.ports import CustomsReply
from gateway.xml.parsing import MAX_XML_BYTES, parse_xml
from gateway.xml.replies import read_reply, write_reply

XML = "application/xml"
Aborter = Callable[[Request], None]


def create_app(
    store: FilingStore,
    *,
    clock: Callable[[], datetime] | None = None,
    seed: int = 51,
    faults: FaultInjector | None = None,
    decision_delay_s: float = 0.0,
    require_token: str | Mapping[str, str] | None = None,
    client_certificates: bool = False,
    signatures: SignatureCheck | None = None,
) -> Starlette:
    """The ASGI app over ``store``. ``seed`` makes the inspection-channel draw reproducible; the server that runs
    the app sets ``app.state.abort`` to a function that resets a request's connection, and
    ``app.state.client_certificate`` to one that tells whether it came with a client certificate (``server.py``)."""
    now = clock or (lambda: datetime.now(UTC))
    injector = faults or FaultInjector()
    metrics = MockMetrics()
    delay = timedelta(seconds=decision_delay_s)
    tokens = {"client": require_token} if isinstance(require_token, str) else dict(require_token or {})
    filed_by: dict[str, str] = {}  # message id -> name of the token that filed it (first filing)

    def abort(request: Request) -> None:
        app.state.abort(request)

    def client(request: Request) -> str | None:
        """The name of the bearer token the request carries, if it is one of ``tokens``."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        # Every token compared in constant time, so the time taken does not tell which one came closest.
        matches = [name for name, token in tokens.items() if hmac.compare_digest(given.encode(), token.encode())]
        return matches[0] if matches else None

    def refused(request: Request, route: str) -> Response | None:
        """403 without a client certificate, 401 without a bearer token; ``None`` when the caller may go on."""
        if client_certificates and not app.state.client_certificate(request):
            return _counted(metrics, route, JSONResponse({"error": "client certificate required"}, status_code=403))
        if tokens and client(request) is None:
            answer = JSONResponse(
                {"error": "missing or invalid bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="ecuapass-mock"'},
            )
            return _counted(metrics, route, answer)
        return None

    async def injected(request: Request, draw: Draw, route: str) -> Response | None:
        """The response a fault replaces the real one with (``None``: no fault, or only latency)."""
        if draw.fault is not None:
            metrics.faults.labels(draw.fault).inc()
        if draw.fault in ("maintenance", "error"):
            headers = {"Retry-After": str(draw.retry_after_s)} if draw.retry_after_s else {}
            return _counted(metrics, route, Response("service unavailable", 503, headers=headers))
        if draw.fault == "throttle":
            return _counted(
                metrics, route, Response("too many requests", 429, {"Retry-After": str(draw.retry_after_s)})
            )
        if draw.latency_s:
            await asyncio.sleep(draw.latency_s)
        if draw.fault == "hang":
            await asyncio.sleep(injector.settings.hang_s)
        if draw.fault in ("hang", "reset"):
            abort(request)
            return Response(status_code=499)  # never reaches the client
        return None

    async def file_route(request: Request) -> Response:
        metrics.request_started()
        try:
            return await _file_route(request)
        finally:
            metrics.request_finished()

    async def _file_route(request: Request) -> Response:
        started = time.monotonic()
        if (refusal := refused(request, "file")) is not None:
            return refusal
        body = await request.body()
        draw = injector.draw(now(), filing=True)
        faulted = await injected(request, draw, "file")
        if faulted is not None:
            return faulted
        if len(body) > MAX_XML_BYTES:
            return _counted(metrics, "file", _xml(reception_error("R51-REC-001", "documento demasiado grande"), 413))
        try:
            root = parse_xml(body)
        except UnsafeXmlError as exc:
            return _counted(metrics, "file", _xml(reception_error("R51-REC-001", str(exc)), 400))
        kind = BY_ROOT.get(root.tag)
        if kind is None:
            return _counted(metrics, "file", _xml(reception_error("R51-REC-002", f"Elemento raíz {root.tag}."), 400))
        is_async = "respond-async" in request.headers.get("prefer", "")
        answer = file_document(
            store,
            kind,
            root,
            body,
            now(),
            seed=seed,
            decision_delay=delay if is_async else timedelta(0),
            traceparent=request.headers.get("traceparent"),
            signatures=signatures,
        )
        reply = read_reply(answer)
        if tokens and reply.message_id is not None and reply.reception is not None:
            filed_by.setdefault(reply.message_id, client(request) or "")
        metrics.filings.labels(kind.name, reply.status).inc()
        metrics.latency.observe(time.monotonic() - started)
        if draw.fault == "lost_response":
            abort(request)
            return Response(status_code=499)
        if is_async and reply.reception is not None:
            return _counted(metrics, "file", Response(_received(reply), 202, media_type=XML))
        return _counted(metrics, "file", Response(answer, media_type=XML))

    async def status_route(request: Request) -> Response:
        if (refusal := refused(request, "status")) is not None:
            return refusal
        faulted = await injected(request, injector.draw(now(), filing=False), "status")
        if faulted is not None:
            return faulted
        message_id = request.path_params.get("message_id") or store.message_for_submission(
            request.path_params["submission_number"]
        )
        stored = store.filing(message_id) if message_id else None
        if stored is None:
            return _counted(metrics, "status", JSONResponse({"error": "unknown document"}, status_code=404))
        return _counted(metrics, "status", Response(_visible(stored, now()), media_type=XML))

    async def filings(_: Request) -> Response:
        return JSONResponse(store.submissions())

    async def outcomes(_: Request) -> Response:
        return JSONResponse(store.counts_by_status())

    async def log(_: Request) -> Response:
        return JSONResponse({"filings": store.log(), "peak_in_flight": metrics.peak_in_flight})

    async def clients(_: Request) -> Response:
        return JSONResponse(filed_by)

    async def get_faults(_: Request) -> Response:
        return JSONResponse(injector.settings.model_dump(mode="json"))

    async def put_faults(request: Request) -> Response:
        try:
            injector.configure(FaultSettings.model_validate_json(await request.body()))
        except ValidationError as exc:
            return JSONResponse({"errors": exc.errors(include_url=False, include_context=False)}, status_code=422)
        return JSONResponse(injector.settings.model_dump(mode="json"))

    async def reset(_: Request) -> Response:
        store.reset()
        filed_by.clear()
        injector.configure(FaultSettings())
        return JSONResponse({"reset": True})

    async def metrics_route(_: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/api/v1/documents", file_route, methods=["POST"]),
            Route("/api/v1/documents/{message_id}", status_route, methods=["GET"]),
            Route("/api/v1/submissions/{submission_number}", status_route, methods=["GET"]),
            Route("/admin/filings", filings, methods=["GET"]),
            Route("/admin/outcomes", outcomes, methods=["GET"]),
            Route("/admin/log", log, methods=["GET"]),
            Route("/admin/clients", clients, methods=["GET"]),
            Route("/admin/faults", get_faults, methods=["GET"]),
            Route("/admin/faults", put_faults, methods=["PUT"]),
            Route("/admin/reset", reset, methods=["POST"]),
            Route("/metrics", metrics_route, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    app.state.abort = lambda request: None  # replaced by the server that runs the app
    app.state.client_certificate = lambda request: False  # likewise
    return app


def _xml(reply: CustomsReply, status_code: int = 200) -> Response:
    return Response(write_reply(reply), status_code=status_code, media_type=XML)


def _counted(metrics: MockMetrics, route: str, response: Response) -> Response:
    metrics.requests.labels(route, str(response.status_code)).inc()
    return response


def _received(reply: CustomsReply) -> bytes:
    """The first stage of a two-stage answer: the reception only."""
    return write_reply(CustomsReply("RECEIVED", reply.message_id, reply.document_type, reply.reception))


def _visible(stored: StoredFiling, now: datetime) -> bytes:
    if now < datetime.fromisoformat(stored.decided_at):
        return _received(read_reply(stored.reply))
    return stored.reply
