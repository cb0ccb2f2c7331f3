"""The mock Ecuapass endpoint: an ASGI app that receives e-documents and answers like customs.

    POST /api/v1/documents               file an e-document (XML)       -> reply.xsd
    GET  /api/v1/documents/{message_id}  status query                   -> reply.xsd, 404 when unknown
    GET  /admin/filings                  {message_id: submissions}      (a correct client keeps each at 1)
    GET  /admin/outcomes                 {status: count}
    POST /admin/reset                    forget everything
    GET  /healthz

Each document is parsed with the hardened parser, validated against its XSD, checked for idempotency (message id)
and duplicate references, then against the business rules; the reply carries the reception (submission number) and
the acceptance with official numbers, or the rejection with every error and its pointer.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.ecuapass_mock.procedures import PROCEDURES, Context
from adapters.ecuapass_mock.procedures.common import error, text
from adapters.ecuapass_mock.store import FilingStore, Grant
from gateway.customs_codes import BY_CODE
from gateway.documents import BY_ROOT, DocumentKind
from gateway.errors import UnsafeXmlError
from gateway.ports import CustomsReply, Reception, RejectionNotice, ReplyError
from gateway.xml.parsing import parse_xml
from gateway.xml.replies import write_reply
from gateway.xml.schemas import violations

XML = "application/xml"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def create_app(store: FilingStore, *, clock: Callable[[], datetime] | None = None, seed: int = 51) -> Starlette:
    """The ASGI app over ``store``; ``seed`` makes the inspection-channel draw reproducible."""
    now = clock or (lambda: datetime.now(UTC))

    async def file_document(request: Request) -> Response:
        body = await request.body()
        try:
            root = parse_xml(body)
        except UnsafeXmlError as exc:
            return _reply(_reception_error("R51-REC-001", str(exc)), 400)
        kind = BY_ROOT.get(root.tag)
        if kind is None:
            return _reply(_reception_error("R51-REC-002", f"Elemento raíz {root.tag}."), 400)
        return Response(_file(store, kind, root, body, now(), seed), media_type=XML)

    async def status(request: Request) -> Response:
        stored = store.filing(request.path_params["message_id"])
        if stored is None:
            return JSONResponse({"error": "unknown message id"}, status_code=404)
        return Response(stored.reply, media_type=XML)

    async def filings(_: Request) -> Response:
        return JSONResponse(store.submissions())

    async def outcomes(_: Request) -> Response:
        return JSONResponse(store.counts_by_status())

    async def reset(_: Request) -> Response:
        store.reset()
        return JSONResponse({"reset": True})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/api/v1/documents", file_document, methods=["POST"]),
            Route("/api/v1/documents/{message_id}", status, methods=["GET"]),
            Route("/admin/filings", filings, methods=["GET"]),
            Route("/admin/outcomes", outcomes, methods=["GET"]),
            Route("/admin/reset", reset, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def _reply(reply: CustomsReply, status_code: int = 200) -> Response:
    return Response(write_reply(reply), status_code=status_code, media_type=XML)


def _reception_error(code: str, detail: str) -> CustomsReply:
    finding = error(code, None, detail=detail[:400])
    return CustomsReply(status="REJECTED", rejection=RejectionNotice("RECEPTION", (finding,)))


def _file(store: FilingStore, kind: DocumentKind, root: etree._Element, body: bytes, now: datetime, seed: int) -> bytes:
    """File one parsed document; the reply's XML (stored replies are returned byte for byte)."""
    problems = violations(kind.schema, root)
    if problems:
        # An invalid document is not filed: nothing is numbered, and the same id may be sent again corrected.
        errors = tuple(
            ReplyError("R51-VAL-001", f"{BY_CODE['R51-VAL-001'].message_es} {p.message}"[:500], pointer=p.path)
            for p in problems
        )
        message = text(root, "*/cmn:MessageId")
        return write_reply(
            CustomsReply(
                "REJECTED",
                message_id=message if _UUID.fullmatch(message) else None,
                document_type=kind.name,
                rejection=RejectionNotice("VALIDATION", errors),
            )
        )
    message_id = text(root, "*/cmn:MessageId")
    digest = hashlib.sha256(body).hexdigest()
    stored = store.filing(message_id)
    if stored is not None:
        store.count_submission(message_id)
        if stored.digest == digest:
            return stored.reply
        return _duplicate(message_id, kind, root, "el mismo identificador de mensaje")
    sender = text(root, "*/cmn:SenderRuc")
    reference = text(root, "*/cmn:FunctionalReference")
    content = _content_digest(root)
    earlier = store.reference(kind.name, sender, reference)
    if earlier is not None:
        earlier_filing = store.filing(earlier[0])
        if earlier[1] == content and earlier_filing is not None:
            return earlier_filing.reply
        return _duplicate(message_id, kind, root, f"la referencia {reference}")

    oce = (text(root, "*/cmn:OceCode") or "0" * 8)[:8]
    sequence = store.next_sequence(f"submission:{now.year}")
    reception = Reception(f"{oce}{now.year}{sequence:08d}1", now, digest)
    procedure = PROCEDURES[kind.name]
    context = Context(store, now, random.Random(f"{seed}:{message_id}"), message_id)
    findings = procedure.check(root, context)
    errors = tuple(f for f in findings if f.severity == "ERROR")
    grant: Grant | None = None
    if errors:
        reply = CustomsReply(
            "REJECTED", message_id, kind.name, reception, rejection=RejectionNotice("BUSINESS", errors)
        )
    else:
        acceptance, grant = procedure.accept(root, context, tuple(f for f in findings if f.severity == "WARNING"))
        reply = CustomsReply("ACCEPTED", message_id, kind.name, reception, acceptance)
    answer = write_reply(reply)
    store.record(
        message_id=message_id,
        kind=kind.name,
        sender=sender,
        reference=reference,
        digest=digest,
        content=content,
        status=reply.status,
        reply=answer,
        filed_at=now.isoformat(),
        grant=grant,
    )
    return answer


def _duplicate(message_id: str, kind: DocumentKind, root: etree._Element, what: str) -> bytes:
    finding = error("R51-DUP-001", root.find("*"), detail=f"Ya existe un documento distinto con {what}.")
    return write_reply(
        CustomsReply("REJECTED", message_id, kind.name, rejection=RejectionNotice("RECEPTION", (finding,)))
    )


def _content_digest(root: etree._Element) -> str:
    """Digest of the document without its header: the same document sent again under a new message id matches."""
    copy = etree.fromstring(etree.tostring(root))
    header = copy.find("*")
    if header is not None:
        copy.remove(header)
    return hashlib.sha256(etree.tostring(copy, method="c14n")).hexdigest()
