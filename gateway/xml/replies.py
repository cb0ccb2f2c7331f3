"""Replies as XML (``reply.xsd``) and back: written by the mock, read by the HTTP adapter."""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from gateway.errors import UnsafeXmlError
from gateway.ports import Acceptance, CustomsReply, Reception, RejectionNotice, ReplyError
from gateway.xml.namespaces import REPLY
from gateway.xml.parsing import parse_xml
from gateway.xml.schemas import violations

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
