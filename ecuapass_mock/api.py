"""The mock's customs API: filing a document and asking for its status, with faults injected.

    POST /api/v1/documents                       file an e-document (XML)            -> 200 reply.xsd
         with "Prefer: respond-async"            reception only                      -> 202 RECEIVED reply
    GET  /api/v1/documents/{message_id}          status query (RECEIVED until decided) -> reply.xsd, 404
    GET  /api/v1/submissions/{submission_number} the same, by submission number
    GET  /api/v1/notifications?after=&limit=     what customs notified since (``feed.py``)

Who may call it is ``access.py``; what customs does with a document is ``filing.py``; which bad day it has is
``faults.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ecuapass_mock.access import Access
from ecuapass_mock.faults import Draw, FaultInjector
from ecuapass_mock.filing import file_document, reception_error
from ecuapass_mock.lifecycle import LifecycleSettings
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.procedures import Procedure, by_root
from ecuapass_mock.signatures import SignatureCheck
from ecuapass_mock.store import FilingStore, StoredFiling
from gateway.contract.parsing import MAX_XML_BYTES, parse_xml
from gateway.contract.replies import CustomsReply, read_reply, write_reply
from gateway.errors import UnsafeXmlError

XML = "application/xml"


@dataclass(frozen=True, slots=True)
class Customs:
    """How the mock decides: its state, clock, seeded draw, the decision delay of two-stage replies, the signature
    check, the documents it knows and the pace of what follows an accepted warehouse entry."""

    store: FilingStore
    clock: Callable[[], datetime]
    seed: int
    decision_delay: timedelta
    signatures: SignatureCheck | None
    procedures: tuple[Procedure, ...]
    lifecycle: LifecycleSettings


class CustomsApi:
    """The filing and status routes. A filing made with a bearer token records the token's name (the agency's, when
    there is one token per agency): ``/admin/clients`` shows it, and the filing's notifications go to that feed."""

    def __init__(self, customs: Customs, access: Access, injector: FaultInjector, metrics: MockMetrics) -> None:
        self._customs = customs
        self._by_root = by_root(customs.procedures)
        self._access = access
        self._injector = injector
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/documents", self.file, methods=["POST"]),
            Route("/api/v1/documents/{message_id}", self.status, methods=["GET"]),
            Route("/api/v1/submissions/{submission_number}", self.status, methods=["GET"]),
        ]

    async def file(self, request: Request) -> Response:
        self._metrics.request_started()
        try:
            return self._counted("file", await self._file(request))
        finally:
            self._metrics.request_finished()

    async def status(self, request: Request) -> Response:
        return self._counted("status", await self._status(request))

    async def _file(self, request: Request) -> Response:
        started = time.monotonic()
        customs = self._customs
        if (refusal := self._access.refusal(request)) is not None:
            return refusal
        body = await request.body()
        draw = self._injector.draw(customs.clock(), filing=True)
        if (fault := await faulted(request, draw, self._injector, self._metrics)) is not None:
            return fault
        if len(body) > MAX_XML_BYTES:
            return _xml(reception_error("R51-REC-001", "documento demasiado grande"), 413)
        try:
            root = parse_xml(body)
        except UnsafeXmlError as exc:
            return _xml(reception_error("R51-REC-001", str(exc)), 400)
        procedure = self._by_root.get(root.tag)
        if procedure is None:
            return _xml(reception_error("R51-REC-002", f"Elemento raíz {root.tag}."), 400)
        is_async = "respond-async" in request.headers.get("prefer", "")
        answer = file_document(
            customs.store,
            procedure,
            root,
            body,
            customs.clock(),
            seed=customs.seed,
            decision_delay=customs.decision_delay if is_async else timedelta(0),
            traceparent=request.headers.get("traceparent"),
            signatures=customs.signatures,
            client=self._access.client(request) if self._access.tokens else None,
            lifecycle=customs.lifecycle,
        )
        reply = read_reply(answer)
        self._metrics.filings.labels(procedure.name, reply.status).inc()
        self._metrics.latency.observe(time.monotonic() - started)
        if draw.fault == "lost_response":
            request.app.state.abort(request)
            return Response(status_code=499)
        if is_async and reply.reception is not None:
            return Response(_received(reply), 202, media_type=XML)
        return Response(answer, media_type=XML)

    async def _status(self, request: Request) -> Response:
        store = self._customs.store
        if (refusal := self._access.refusal(request)) is not None:
            return refusal
        draw = self._injector.draw(self._customs.clock(), filing=False)
        if (fault := await faulted(request, draw, self._injector, self._metrics)) is not None:
            return fault
        message_id = request.path_params.get("message_id") or store.message_for_submission(
            request.path_params["submission_number"]
        )
        stored = store.filing(message_id) if message_id else None
        if stored is None:
            return JSONResponse({"error": "unknown document"}, status_code=404)
        return Response(_visible(stored, self._customs.clock()), media_type=XML)

    def _counted(self, route: str, response: Response) -> Response:
        if response.status_code != 499:  # a dropped connection answers nothing to count
            self._metrics.requests.labels(route, str(response.status_code)).inc()
        return response


async def faulted(request: Request, draw: Draw, injector: FaultInjector, metrics: MockMetrics) -> Response | None:
    """The response a fault replaces the real one with (``None``: no fault, or only latency)."""
    if draw.fault is not None:
        metrics.faults.labels(draw.fault).inc()
    if draw.fault in ("maintenance", "error"):
        headers = {"Retry-After": str(draw.retry_after_s)} if draw.retry_after_s else {}
        return Response("service unavailable", 503, headers=headers)
    if draw.fault == "throttle":
        return Response("too many requests", 429, {"Retry-After": str(draw.retry_after_s)})
    if draw.latency_s:
        await asyncio.sleep(draw.latency_s)
    if draw.fault == "hang":
        await asyncio.sleep(injector.settings.hang_s)
    if draw.fault in ("hang", "reset"):
        request.app.state.abort(request)
        return Response(status_code=499)  # never reaches the client
    return None


def _xml(reply: CustomsReply, status_code: int = 200) -> Response:
    return Response(write_reply(reply), status_code=status_code, media_type=XML)


def _received(reply: CustomsReply) -> bytes:
    """The first stage of a two-stage answer: the reception only."""
    return write_reply(CustomsReply("RECEIVED", reply.message_id, reply.document_type, reply.reception))


def _visible(stored: StoredFiling, now: datetime) -> bytes:
    if now < datetime.fromisoformat(stored.decided_at):
        return _received(read_reply(stored.reply))
    return stored.reply
