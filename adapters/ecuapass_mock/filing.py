"""What customs does with one received e-document, independent of HTTP.

    validate (XSD) -> idempotency (message id) -> duplicate reference -> number the reception
    -> business rules of the document's procedure -> accept (official numbers, grants) or reject -> store

Every answered filing is committed before its reply is returned; stored replies are returned byte for byte.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime, timedelta

from lxml import etree

from adapters.ecuapass_mock.procedures import PROCEDURES, Context
from adapters.ecuapass_mock.procedures.common import error, text
from adapters.ecuapass_mock.store import FilingStore, Grant
from gateway.customs_codes import BY_CODE
from gateway.documents import DocumentKind
from gateway.ports import CustomsReply, Reception, RejectionNotice, ReplyError
from gateway.xml.replies import write_reply
from gateway.xml.schemas import violations

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def reception_error(code: str, detail: str) -> CustomsReply:
    finding = error(code, None, detail=detail[:400])
    return CustomsReply(status="REJECTED", rejection=RejectionNotice("RECEPTION", (finding,)))


def file_document(
    store: FilingStore,
    kind: DocumentKind,
    root: etree._Element,
    body: bytes,
    now: datetime,
    *,
    seed: int,
    decision_delay: timedelta = timedelta(0),
    traceparent: str | None = None,
) -> bytes:
    """File one parsed document; the final reply's XML (stored replies are returned byte for byte).

    ``decision_delay`` is how long status queries keep answering RECEIVED (the two-stage reply)."""
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
        decided_at=(now + decision_delay).isoformat(),
        submission_number=reception.submission_number,
        case_id=text(root, "*/cmn:CaseId"),
        traceparent=traceparent,
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
