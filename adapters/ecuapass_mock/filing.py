"""What customs does with one received e-document, independent of HTTP.

    signature (when present or required) -> validate (XSD) -> idempotency (message id) -> duplicate reference
    -> number the reception -> business rules of the document's procedure -> accept (official numbers, grants)
    or reject -> store

Every answered filing is committed before its reply is returned; stored replies are returned byte for byte.
Idempotency ignores a document's signature: a signed document sent again carries a new signature (a new XAdES
signing time) over the same content, so the digests compared (``PayloadDigest`` included) are of the document
without its ``ds:Signature`` (its canonical form), or of the body as received when it is unsigned.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime, timedelta

from lxml import etree

from adapters.ecuapass_mock.procedures import PROCEDURES, Context
from adapters.ecuapass_mock.procedures.common import error, text
from adapters.ecuapass_mock.signatures import SIGNATURE, SignatureCheck, unsigned
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
    signatures: SignatureCheck | None = None,
) -> bytes:
    """File one parsed document; the final reply's XML (stored replies are returned byte for byte).

    ``decision_delay`` is how long status queries keep answering RECEIVED (the two-stage reply); ``signatures``
    what the signature check trusts and requires (default: unsigned documents are filed, signed ones refused: no
    signer is trusted)."""
    refused = (signatures or SignatureCheck()).problem(root, now)
    if refused is not None:
        # Like an invalid document, a refused signature files nothing: the same id may be sent again, signed.
        return write_reply(
            CustomsReply(
                "REJECTED",
                message_id=_message_id(root),
                document_type=kind.name,
                rejection=RejectionNotice("RECEPTION", (refused,)),
            )
        )
    problems = violations(kind.schema, root)
    if problems:
        # An invalid document is not filed: nothing is numbered, and the same id may be sent again corrected.
        errors = tuple(
            ReplyError("R51-VAL-001", f"{BY_CODE['R51-VAL-001'].message_es} {p.message}"[:500], pointer=p.path)
            for p in problems
        )
        return write_reply(
            CustomsReply(
                "REJECTED",
                message_id=_message_id(root),
                document_type=kind.name,
                rejection=RejectionNotice("VALIDATION", errors),
            )
        )
    message_id = text(root, "*/cmn:MessageId")
    signed = root.find(SIGNATURE) is not None
    digest = hashlib.sha256(etree.tostring(unsigned(root), method="c14n") if signed else body).hexdigest()
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


def _message_id(root: etree._Element) -> str | None:
    message = text(root, "*/cmn:MessageId")
    return message if _UUID.fullmatch(message) else None


def _duplicate(message_id: str, kind: DocumentKind, root: etree._Element, what: str) -> bytes:
    finding = error("R51-DUP-001", root.find("*"), detail=f"Ya existe un documento distinto con {what}.")
    return write_reply(
        CustomsReply("REJECTED", message_id, kind.name, rejection=RejectionNotice("RECEPTION", (finding,)))
    )


def _content_digest(root: etree._Element) -> str:
    """Digest of the document without its header and its signature: the same document sent again under a new
    message id, or signed again, matches."""
    copy = unsigned(root)
    header = copy.find("*")
    if header is not None:
        copy.remove(header)
    return hashlib.sha256(etree.tostring(copy, method="c14n")).hexdigest()
