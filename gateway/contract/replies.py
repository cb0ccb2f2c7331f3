"""What customs answers for one filing, and its XML (``reply.xsd``): written by the mock, read by the HTTP adapter.

A reply is data whatever customs decided: the reception (submission number, when, the digest of what was received),
then an acceptance (official number, validity, inspection channel, warnings) or a rejection (stage and errors, each
with a code of ``gateway.contract.customs_codes`` and a pointer into the document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from lxml import etree

from gateway.contract.namespaces import REPLY
from gateway.contract.parsing import parse_xml
from gateway.contract.schemas import violations
from gateway.errors import UnsafeXmlError

Status = Literal["RECEIVED", "ACCEPTED", "REJECTED"]
Stage = Literal["RECEPTION", "VALIDATION", "BUSINESS"]


@dataclass(frozen=True, slots=True)
class ReplyError:
    code: str
    description: str
    severity: Literal["ERROR", "WARNING"] = "ERROR"
    pointer: str | None = None


@dataclass(frozen=True, slots=True)
class Reception:
    submission_number: str
    received_at: datetime
    payload_digest: str


@dataclass(frozen=True, slots=True)
class Acceptance:
    official_number: str
    accepted_at: datetime
    valid_until: date | None = None
    inspection_channel: str | None = None
    warnings: tuple[ReplyError, ...] = ()


@dataclass(frozen=True, slots=True)
class RejectionNotice:
    stage: Stage
    errors: tuple[ReplyError, ...]


@dataclass(frozen=True, slots=True)
class CustomsReply:
    """What customs answered for one filing."""

    status: Status
    message_id: str | None = None
    document_type: str | None = None
    reception: Reception | None = None
    acceptance: Acceptance | None = None
    rejection: RejectionNotice | None = None


_NSMAP = {"rep": REPLY}


def _q(local: str) -> str:
    return f"{{{REPLY}}}{local}"


def write_reply(reply: CustomsReply) -> bytes:
    root = etree.Element(_q("Reply"), nsmap=_NSMAP)
    if reply.message_id is not None:
        etree.SubElement(root, _q("MessageId")).text = reply.message_id
    if reply.document_type is not None:
        etree.SubElement(root, _q("DocumentType")).text = reply.document_type
    etree.SubElement(root, _q("Status")).text = reply.status
    if reply.reception is not None:
        reception = etree.SubElement(root, _q("Reception"))
        etree.SubElement(reception, _q("SubmissionNumber")).text = reply.reception.submission_number
        etree.SubElement(reception, _q("ReceivedAt")).text = reply.reception.received_at.isoformat()
        etree.SubElement(reception, _q("PayloadDigest")).text = reply.reception.payload_digest
    if reply.acceptance is not None:
        accepted = etree.SubElement(root, _q("Acceptance"))
        etree.SubElement(accepted, _q("OfficialNumber")).text = reply.acceptance.official_number
        etree.SubElement(accepted, _q("AcceptedAt")).text = reply.acceptance.accepted_at.isoformat()
        if reply.acceptance.valid_until is not None:
            etree.SubElement(accepted, _q("ValidUntil")).text = reply.acceptance.valid_until.isoformat()
        if reply.acceptance.inspection_channel is not None:
            etree.SubElement(accepted, _q("InspectionChannel")).text = reply.acceptance.inspection_channel
        for warning in reply.acceptance.warnings:
            _write_error(accepted, warning)
    if reply.rejection is not None:
        rejected = etree.SubElement(root, _q("Rejection"))
        etree.SubElement(rejected, _q("Stage")).text = reply.rejection.stage
        for error in reply.rejection.errors:
            _write_error(rejected, error)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _write_error(parent: etree._Element, error: ReplyError) -> None:
    element = etree.SubElement(parent, _q("Error"))
    etree.SubElement(element, _q("Code")).text = error.code
    if error.pointer is not None:
        etree.SubElement(element, _q("Pointer")).text = error.pointer
    etree.SubElement(element, _q("Description")).text = error.description
    etree.SubElement(element, _q("Severity")).text = error.severity


def read_reply(data: bytes) -> CustomsReply:
    """Parse and validate a reply; ``UnsafeXmlError`` when it is not a well-formed, schema-valid reply."""
    root = parse_xml(data)
    problems = violations("reply", root)
    if problems:
        raise UnsafeXmlError(f"reply does not follow reply.xsd: {problems[0].message} at {problems[0].path}")
    reception = root.find(_q("Reception"))
    accepted = root.find(_q("Acceptance"))
    rejected = root.find(_q("Rejection"))
    return CustomsReply(
        status=root.findtext(_q("Status")),  # type: ignore[arg-type]
        message_id=root.findtext(_q("MessageId")),
        document_type=root.findtext(_q("DocumentType")),
        reception=None
        if reception is None
        else Reception(
            submission_number=_text(reception, "SubmissionNumber"),
            received_at=datetime.fromisoformat(_text(reception, "ReceivedAt")),
            payload_digest=_text(reception, "PayloadDigest"),
        ),
        acceptance=None
        if accepted is None
        else Acceptance(
            official_number=_text(accepted, "OfficialNumber"),
            accepted_at=datetime.fromisoformat(_text(accepted, "AcceptedAt")),
            valid_until=_date(accepted.findtext(_q("ValidUntil"))),
            inspection_channel=accepted.findtext(_q("InspectionChannel")),
            warnings=tuple(_read_error(e) for e in accepted.iterfind(_q("Error"))),
        ),
        rejection=None
        if rejected is None
        else RejectionNotice(
            stage=_text(rejected, "Stage"),  # type: ignore[arg-type]
            errors=tuple(_read_error(e) for e in rejected.iterfind(_q("Error"))),
        ),
    )


def _read_error(element: etree._Element) -> ReplyError:
    return ReplyError(
        code=_text(element, "Code"),
        description=_text(element, "Description"),
        severity=_text(element, "Severity"),  # type: ignore[arg-type]
        pointer=element.findtext(_q("Pointer")),
    )


def _text(parent: etree._Element, local: str) -> str:
    return parent.findtext(_q(local)) or ""


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)
