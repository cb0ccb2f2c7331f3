"""The feed of customs notifications and its XML (``notifications.xsd``, ours [G]): a page (HTTP 200) or a cursor past
the retention period (HTTP 410), written by the mock (``ecuapass_mock/feed.py``) and read by the gateway's intake
(``adapters/http_notification_feed.py``); what a notification is and the catalogue of types are
``notifications.py``.

    FeedPage/FeedGone  a page of the feed (HTTP 200) / a cursor older than the retention period (HTTP 410)
    feed_element, gone_element, write_feed, write_gone, read_feed
                       the XML both ways; ``read_feed`` validates, with the hardened parser of ``parsing.py``
    read_feed_tolerant the intake's reader: the page's envelope validated, then each notification on its own
                       (a ``Notification``, or an ``UnreadableNotification`` with its raw element), so one it
                       cannot read does not block the rest of the page
    read_notification  one archived notification read again the same way (the intake's dead-letter replay)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from lxml import etree

from gateway.contract.namespaces import NOTIFICATIONS
from gateway.contract.notifications import (
    BY_CODE,
    DETAILS_ELEMENTS,
    ECUADOR,
    Concerns,
    Details,
    InspectionAppointment,
    InspectionResult,
    Notification,
    Observation,
)
from gateway.contract.parsing import parse_xml
from gateway.contract.schemas import violations
from gateway.errors import UnsafeXmlError


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page: the notifications after cursor ``after``; ``next`` to ask for next, ``more`` when more are there."""

    after: str
    next: str
    more: bool
    notifications: tuple[Notification, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedGone:
    """``after`` is older than the retention period; reading is complete again from ``oldest``."""

    after: str
    oldest: str
    description: str


def _q(local: str) -> str:
    return f"{{{NOTIFICATIONS}}}{local}"


def _customs_time(moment: datetime) -> str:
    return moment.astimezone(ECUADOR).isoformat(timespec="seconds")


def _add(parent: etree._Element, local: str, value: str) -> None:
    etree.SubElement(parent, _q(local)).text = value


def feed_element(page: FeedPage) -> etree._Element:
    """The page as a ``NotificationFeed`` tree; ``ValueError`` for a notification whose details its type does not
    carry (the XSD cannot tell them apart)."""
    root = etree.Element(_q("NotificationFeed"), nsmap={"ntf": NOTIFICATIONS})
    _add(root, "After", page.after)
    _add(root, "Next", page.next)
    _add(root, "More", "true" if page.more else "false")
    for notification in page.notifications:
        _write_notification(root, notification)
    return root


def write_feed(page: FeedPage) -> bytes:
    return etree.tostring(feed_element(page), xml_declaration=True, encoding="UTF-8")


def gone_element(gone: FeedGone) -> etree._Element:
    """The answer to a cursor past the retention period, as a ``FeedGone`` tree."""
    root = etree.Element(_q("FeedGone"), nsmap={"ntf": NOTIFICATIONS})
    _add(root, "After", gone.after)
    _add(root, "Oldest", gone.oldest)
    _add(root, "Description", gone.description)
    return root


def write_gone(gone: FeedGone) -> bytes:
    return etree.tostring(gone_element(gone), xml_declaration=True, encoding="UTF-8")


def _write_notification(parent: etree._Element, notification: Notification) -> None:
    if not notification.type.carries(notification.details):
        raise ValueError(f"a {notification.type.code} notification cannot carry {notification.details!r}")
    element = etree.SubElement(parent, _q("Notification"))
    _add(element, "NotificationId", notification.notification_id)
    _add(element, "Sequence", str(notification.sequence))
    _add(element, "Type", notification.type.code)
    _add(element, "IssuedAt", _customs_time(notification.issued_at))
    _add(element, "Recipient", notification.recipient)
    concerns = etree.SubElement(element, _q("Concerns"))
    _add(concerns, "CaseId", notification.concerns.case_id)
    _add(concerns, "MessageId", notification.concerns.message_id)
    _add(concerns, "DocumentType", notification.concerns.document_type)
    _add(concerns, "DeclarationNumber", notification.concerns.declaration_number)
    if notification.concerns.warehouse_entry_number is not None:
        _add(concerns, "WarehouseEntryNumber", notification.concerns.warehouse_entry_number)
    if notification.details is not None:
        _write_details(element, notification.details)
    if notification.remark is not None:
        _add(element, "Remark", notification.remark)


def _write_details(parent: etree._Element, details: Details) -> None:
    element = etree.SubElement(parent, _q(DETAILS_ELEMENTS[type(details)]))
    match details:
        case InspectionAppointment(scheduled_at, place):
            _add(element, "ScheduledAt", _customs_time(scheduled_at))
            _add(element, "Place", place)
        case InspectionResult(with_findings, findings):
            _add(element, "WithFindings", "true" if with_findings else "false")
            if findings is not None:
                _add(element, "Findings", findings)
        case Observation(text, answer_by):
            _add(element, "Text", text)
            _add(element, "AnswerBy", _customs_time(answer_by))


def read_feed(data: bytes) -> FeedPage | FeedGone:
    """Parse and validate a feed answer (a page, or the 410's ``FeedGone``); ``UnsafeXmlError`` when it is not a
    well-formed answer valid against ``notifications.xsd`` whose notifications carry their type's details."""
    root = parse_xml(data)
    problems = violations("notifications", root)
    if problems:
        first = problems[0]
        raise UnsafeXmlError(f"feed does not follow notifications.xsd: {first.message} at {first.path}")
    if root.tag == _q("FeedGone"):
        return FeedGone(_text(root, "After"), _text(root, "Oldest"), _text(root, "Description"))
    return FeedPage(
        after=_text(root, "After"),
        next=_text(root, "Next"),
        more=_text(root, "More") in ("true", "1"),
        notifications=tuple(_read_notification(e) for e in root.iterfind(_q("Notification"))),
    )


def _read_notification(element: etree._Element) -> Notification:
    kind = BY_CODE[_text(element, "Type")]  # the XSD enumerates the catalogue's codes
    details = _read_details(element)
    if not kind.carries(details):
        identifier = _text(element, "NotificationId")
        raise UnsafeXmlError(f"notification {identifier}: a {kind.code} notification cannot carry {details!r}")
    concerns = element.find(_q("Concerns"))
    assert concerns is not None  # required by the XSD
    return Notification(
        notification_id=_text(element, "NotificationId"),
        sequence=int(_text(element, "Sequence")),
        type=kind,
        issued_at=datetime.fromisoformat(_text(element, "IssuedAt")),
        recipient=_text(element, "Recipient"),  # type: ignore[arg-type]  # enumerated by the XSD
        concerns=Concerns(
            case_id=_text(concerns, "CaseId"),
            message_id=_text(concerns, "MessageId"),
            document_type=_text(concerns, "DocumentType"),
            declaration_number=_text(concerns, "DeclarationNumber"),
            warehouse_entry_number=concerns.findtext(_q("WarehouseEntryNumber")),
        ),
        details=details,
        remark=element.findtext(_q("Remark")),
    )


def _read_details(element: etree._Element) -> Details | None:
    if (found := element.find(_q("Inspection"))) is not None:
        return InspectionAppointment(datetime.fromisoformat(_text(found, "ScheduledAt")), _text(found, "Place"))
    if (found := element.find(_q("InspectionResult"))) is not None:
        return InspectionResult(_text(found, "WithFindings") in ("true", "1"), found.findtext(_q("Findings")))
    if (found := element.find(_q("Observation"))) is not None:
        return Observation(_text(found, "Text"), datetime.fromisoformat(_text(found, "AnswerBy")))
    return None


def _text(parent: etree._Element, local: str) -> str:
    return parent.findtext(_q(local)) or ""


# -- the tolerant reader: the intake's ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnreadableNotification:
    """A notification of a page that cannot be read: its raw element (as served), why (``unknown_type``: a type
    the catalogue lacks; ``invalid``: it breaks ``notifications.xsd`` or carries another type's details) and what
    the id says, if it could be found."""

    raw: bytes
    reason: Literal["unknown_type", "invalid"]
    detail: str
    notification_id: str | None = None


@dataclass(frozen=True, slots=True)
class TolerantPage:
    """A page whose envelope (After, Next, More) is valid, each notification read on its own: one unreadable
    notification does not hide the others, nor stop the cursor. ``items``: each notification's raw element (as
    served: what the intake archives) and what was read of it."""

    after: str
    next: str
    more: bool
    items: tuple[tuple[bytes, Notification | UnreadableNotification], ...] = ()


def read_feed_tolerant(data: bytes) -> TolerantPage | FeedGone:
    """Like ``read_feed``, but each notification is checked against the XSD alone; ``UnsafeXmlError`` only when the
    answer is not well-formed or its envelope (or the ``FeedGone``) breaks ``notifications.xsd``."""
    root = parse_xml(data)
    if root.tag != _q("NotificationFeed"):
        answer = read_feed(data)  # a FeedGone, or something else: refused whole
        assert isinstance(answer, FeedGone)
        return answer
    elements = list(root.iterfind(_q("Notification")))
    envelope = etree.Element(root.tag, nsmap={"ntf": NOTIFICATIONS})
    for local in ("After", "Next", "More"):
        _add(envelope, local, _text(root, local))
    if problems := violations("notifications", envelope):
        raise UnsafeXmlError(f"feed does not follow notifications.xsd: {problems[0].message} at {problems[0].path}")
    return TolerantPage(
        after=_text(root, "After"),
        next=_text(root, "Next"),
        more=_text(root, "More") in ("true", "1"),
        items=tuple(_read_one(envelope, element) for element in elements),
    )


def _read_one(envelope: etree._Element, element: etree._Element) -> tuple[bytes, Notification | UnreadableNotification]:
    """One notification, validated in a page of its own (the XSD types notifications only inside a feed)."""
    raw = etree.tostring(element, with_tail=False)
    return raw, _read_raw(envelope, element, raw)


def _read_raw(envelope: etree._Element, element: etree._Element, raw: bytes) -> Notification | UnreadableNotification:
    identifier = element.findtext(_q("NotificationId"))
    kind = element.findtext(_q("Type"))
    if kind not in BY_CODE:
        detail = f"notification type {kind!r} is not in the catalogue"
        return UnreadableNotification(raw, "unknown_type", detail, identifier)
    alone = etree.fromstring(etree.tostring(envelope))
    alone.append(etree.fromstring(raw))
    if problems := violations("notifications", alone):
        return UnreadableNotification(raw, "invalid", f"{problems[0].message} at {problems[0].path}", identifier)
    try:
        return _read_notification(alone[3])
    except (UnsafeXmlError, ValueError) as exc:
        return UnreadableNotification(raw, "invalid", str(exc), identifier)


def read_notification(raw: bytes) -> Notification | UnreadableNotification:
    """One notification's raw element, as the intake archived it, read as ``read_feed_tolerant`` reads it in its
    page (in an envelope of its own): the intake's dead-letter replay reads an archived notification again with the
    code of today. ``UnsafeXmlError`` when it is not well-formed XML."""
    element = parse_xml(raw)
    if element.tag != _q("Notification"):
        return UnreadableNotification(raw, "invalid", f"not a notification: {element.tag}", None)
    envelope = etree.Element(_q("NotificationFeed"), nsmap={"ntf": NOTIFICATIONS})
    for local, value in (("After", "0"), ("Next", "0"), ("More", "false")):
        _add(envelope, local, value)
    return _read_raw(envelope, element, raw)
