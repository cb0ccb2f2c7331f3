"""Pieces every e-document shares, built the same way everywhere (types of ``common-types.xsd``)."""

from __future__ import annotations

from lxml import etree

from gateway.contract.namespaces import COMMON as CMN
from gateway.events.common import ForeignParty, Party, SupportingDocument
from gateway.events.envelope import CaseEventBase
from gateway.mapping.document import DocumentBuilder


def header(b: DocumentBuilder, event: CaseEventBase, message_id: str, reference: str) -> None:
    head = b.group(b.root, f"{{{etree.QName(b.root).namespace}}}Header", "data")
    b.value(head, f"{{{CMN}}}MessageId", message_id, "id")
    b.value(head, f"{{{CMN}}}FunctionalReference", reference, "data.local_reference")
    b.value(head, f"{{{CMN}}}CaseId", event.subject, "subject")
    b.value(head, f"{{{CMN}}}SenderRuc", event.sender, "sender")
    b.value(head, f"{{{CMN}}}IssueDateTime", event.time, "time")


def party(b: DocumentBuilder, parent: etree._Element, tag: str, who: Party, at: str) -> None:
    element = b.group(parent, tag, at)
    b.value(element, f"{{{CMN}}}Ruc", who.ruc, f"{at}.ruc")
    b.value(element, f"{{{CMN}}}Name", who.name, f"{at}.name")
    b.optional(element, f"{{{CMN}}}OceCode", who.oce_code, f"{at}.oce_code")


def foreign_party(b: DocumentBuilder, parent: etree._Element, tag: str, who: ForeignParty, at: str) -> None:
    element = b.group(parent, tag, at)
    b.value(element, f"{{{CMN}}}Name", who.name, f"{at}.name")
    b.value(element, f"{{{CMN}}}Country", who.country, f"{at}.country")
    b.optional(element, f"{{{CMN}}}Address", who.address, f"{at}.address")


def supporting_document(b: DocumentBuilder, parent: etree._Element, tag: str, doc: SupportingDocument, at: str) -> None:
    element = b.group(parent, tag, at)
    b.value(element, f"{{{CMN}}}Kind", doc.kind, f"{at}.kind")
    b.value(element, f"{{{CMN}}}Reference", doc.reference, f"{at}.reference")
    b.value(element, f"{{{CMN}}}IssueDate", doc.issue_date, f"{at}.issue_date")
