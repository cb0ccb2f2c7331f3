"""What customs does with one received e-document, independent of HTTP.

    signature (when present or required) -> validate (XSD) -> idempotency (message id) -> duplicate reference
    -> number the reception -> business rules of the document's procedure -> accept (official numbers, grants)
    or reject -> what the acceptance sets off (the notifications of ``lifecycle.py``) -> store

Every answered filing is committed before its reply is returned, with the notifications its acceptance plans;
stored replies are returned byte for byte.
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

from ecuapass_mock.lifecycle import LifecycleSettings, follow_up
from ecuapass_mock.procedures import Context, Procedure
from ecuapass_mock.procedures.common import error, text
from ecuapass_mock.signatures import SIGNATURE, SignatureCheck, unsigned
from ecuapass_mock.store import Accepted, FilingStore, Grant
from gateway.contract.customs_codes import BY_CODE
from gateway.contract.replies import CustomsReply, Reception, RejectionNotice, ReplyError, write_reply
from gateway.contract.schemas import violations

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def reception_error(code: str, detail: str) -> CustomsReply:
    finding = error(code, None, detail=detail[:400])
    return CustomsReply(status="REJECTED", rejection=RejectionNotice("RECEPTION", (finding,)))


def file_document(
    store: FilingStore,
    procedure: Procedure,
    root: etree._Element,
    body: bytes,
    now: datetime,
    *,
    seed: int,
    decision_delay: timedelta = timedelta(0),
    traceparent: str | None = None,
    signatures: SignatureCheck | None = None,
    client: str | None = None,
    lifecycle: LifecycleSettings | None = None,
) -> bytes:
    """File one parsed document; the final reply's XML (stored replies are returned byte for byte).

    ``decision_delay`` is how long status queries keep answering RECEIVED (the two-stage reply); ``signatures``
    what the signature check trusts and requires (default: unsigned documents are filed, signed ones refused: no
    signer is trusted); ``client`` the name of the token the document came with (whose feed its notifications go
    to); ``lifecycle`` the pace of what customs does after an accepted warehouse entry (``None``: nothing)."""
    refused = _refused(procedure, root, now, signatures or SignatureCheck())
    if refused is not None:
        return write_reply(refused)
    message_id = text(root, "*/cmn:MessageId")
    signed = root.find(SIGNATURE) is not None
    digest = hashlib.sha256(etree.tostring(unsigned(root), method="c14n") if signed else body).hexdigest()
    content = _content_digest(root)
    known = _already_filed(store, procedure, root, message_id, digest, content)
    if known is not None:
        return known
    oce = (text(root, "*/cmn:OceCode") or "0" * 8)[:8]
    sequence = store.next_sequence(f"submission:{now.year}")
    reception = Reception(f"{oce}{now.year}{sequence:08d}1", now, digest)
    context = Context(store, now, random.Random(f"{seed}:{message_id}"), message_id)
    reply, grant = _decide(procedure, root, context, reception)
    answer = write_reply(reply)
    reference = text(root, "*/cmn:FunctionalReference")
    case_id = text(root, "*/cmn:CaseId")
    accepted = None if grant is None else Accepted(message_id, procedure.name, reference, client, grant, case_id)
    planned = follow_up(store, lifecycle, accepted, now + decision_delay) if lifecycle and accepted else []
    store.record(
        message_id=message_id,
        kind=procedure.name,
        sender=text(root, "*/cmn:SenderRuc"),
        reference=reference,
        digest=digest,
        content=content,
        status=reply.status,
        reply=answer,
        filed_at=now.isoformat(),
        decided_at=(now + decision_delay).isoformat(),
        submission_number=reception.submission_number,
        case_id=case_id,
        traceparent=traceparent,
        grant=grant,
        client=client,
        planned=planned,
    )
    return answer


def _refused(
    procedure: Procedure, root: etree._Element, now: datetime, signatures: SignatureCheck
) -> CustomsReply | None:
    """A refused signature or an invalid document: rejected, and nothing filed or numbered, so the same message id
    may be sent again, signed or corrected."""
    refused = signatures.problem(root, now)
    if refused is not None:
        return CustomsReply(
            "REJECTED",
            message_id=_message_id(root),
            document_type=procedure.name,
            rejection=RejectionNotice("RECEPTION", (refused,)),
        )
    problems = violations(procedure.spec, root)
    if not problems:
        return None
    errors = tuple(
        ReplyError("R51-VAL-001", f"{BY_CODE['R51-VAL-001'].message_es} {p.message}"[:500], pointer=p.path)
        for p in problems
    )
    return CustomsReply(
        "REJECTED",
        message_id=_message_id(root),
        document_type=procedure.name,
        rejection=RejectionNotice("VALIDATION", errors),
    )


def _already_filed(
    store: FilingStore, procedure: Procedure, root: etree._Element, message_id: str, digest: str, content: str
) -> bytes | None:
    """The stored reply when this document was filed already (same message id and digest, or the same content
    under the same reference), a duplicate's rejection when something else was; ``None`` when it is new."""
    stored = store.filing(message_id)
    if stored is not None:
        store.count_submission(message_id)
        if stored.digest == digest:
            return stored.reply
        return _duplicate(message_id, procedure, root, "el mismo identificador de mensaje")
    reference = text(root, "*/cmn:FunctionalReference")
    earlier = store.reference(procedure.name, text(root, "*/cmn:SenderRuc"), reference)
    if earlier is None:
        return None
    earlier_filing = store.filing(earlier[0])
    if earlier[1] == content and earlier_filing is not None:
        return earlier_filing.reply
    return _duplicate(message_id, procedure, root, f"la referencia {reference}")


def _decide(
    procedure: Procedure, root: etree._Element, context: Context, reception: Reception
) -> tuple[CustomsReply, Grant | None]:
    """The business rules of the document's procedure, then its acceptance (and grant) or its rejection."""
    findings = procedure.check(root, context)
    errors = tuple(f for f in findings if f.severity == "ERROR")
    if errors:
        rejection = RejectionNotice("BUSINESS", errors)
        return CustomsReply("REJECTED", context.message_id, procedure.name, reception, rejection=rejection), None
    warnings = tuple(f for f in findings if f.severity == "WARNING")
    acceptance, grant = procedure.accept(root, context, warnings)
    return CustomsReply("ACCEPTED", context.message_id, procedure.name, reception, acceptance), grant


def _message_id(root: etree._Element) -> str | None:
    message = text(root, "*/cmn:MessageId")
    return message if _UUID.fullmatch(message) else None


def _duplicate(message_id: str, procedure: Procedure, root: etree._Element, what: str) -> bytes:
    finding = error("R51-DUP-001", root.find("*"), detail=f"Ya existe un documento distinto con {what}.")
    return write_reply(
        CustomsReply("REJECTED", message_id, procedure.name, rejection=RejectionNotice("RECEPTION", (finding,)))
    )


def _content_digest(root: etree._Element) -> str:
    """Digest of the document without its header and its signature: the same document sent again under a new
    message id, or signed again, matches."""
    copy = unsigned(root)
    header = copy.find("*")
    if header is not None:
        copy.remove(header)
    return hashlib.sha256(etree.tostring(copy, method="c14n")).hexdigest()
