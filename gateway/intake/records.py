"""Notification records: the one encoder of what the intake writes, and the one decoder of the cursors it reads.

    Notification (contract) + feed + cursor -> archive(): the raw XML, archive topic, first
                                            -> event() / published(): the CloudEvent, notifications topic, then
    UnreadableNotification                  -> archive() too, then dead_letter(): raw, intake DLQ topic, with why,
                                               where it was read and where it was archived
    feed + cursor                           -> checkpoint(): the control topic's record; cursor_of() reads it back
    a record of the notifications topic     -> notice_from_record(): a ``Notice`` (case, tail, the demo)

Every record is keyed by case id, except checkpoints (keyed by feed, on the feed's partition). A notification's
CloudEvent ``id`` is derived from customs' notification id alone, so every re-publication (a crash between publishing
and saving the cursor) carries the same id: consumers deduplicate by it. ``gateway.kafka.headers`` holds the names.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from aiokafka import ConsumerRecord
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.contract.feed import UnreadableNotification
from gateway.contract.notifications import (
    CATALOGUE,
    InspectionAppointment,
    InspectionResult,
    Notification,
    Observation,
)
from gateway.events.envelope import CloudEvent
from gateway.kafka import headers as h
from gateway.kafka.records import OutboundRecord, aware_time
from gateway.settings import TopicSettings

_NOTIFICATION_NAMESPACE = uuid.UUID("0c0e6f4a-8d3b-5f2e-9c71-4a5b6c7d8e9f")


def event_id(notification_id: str) -> str:
    """The CloudEvent id of customs' notification ``notification_id``: the same on every publication."""
    return str(uuid.uuid5(_NOTIFICATION_NAMESPACE, notification_id))


def intake_source(source: str, feed: str) -> str:
    """The CloudEvent ``source`` of what the intake publishes from ``feed``: the gateway's, its intake, the feed."""
    return f"{source}:intake:{feed}"


class NotificationData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notification_id: str = Field(description="Customs' id of the notification (NTF-…): stable, never reused.")
    notification_type: str = Field(description="The catalogue's code: review-started, exit-authorized, …")
    status_group: str = Field(description="Where the case stands once notified: action-required, completed, …")
    recipient: Literal["EXPORTER", "WAREHOUSE"]
    case_id: str
    message_id: str = Field(description="The message id of the filing the notification concerns.")
    document: str = Field(description="The document type of that filing: export-declaration, warehouse-entry.")
    declaration_number: str
    warehouse_entry_number: str | None = None
    details: dict[str, Any] | None = Field(None, description="The type's details: inspection, result, observation.")
    remark: str | None = None
    feed: str = Field(description="The feed it was read from: default, or an agency's RUC.")
    sequence: int = Field(description="Its position in that feed.")
    answered_event_id: str | None = Field(None, description="Always null: customs sent it on its own initiative.")


class NotificationEvent(CloudEvent):
    """A customs notification as the intake publishes it: one schema for every type of the catalogue."""

    #: The name of its JSON Schemas in ``contracts/schemas/`` (one for every type, where an event has one per type).
    SCHEMA_NAME: ClassVar[str] = "ecuapass.customs.notification.v1"

    type: str = Field(
        description="ecuapass.customs.<code>.v1, <code> a type of the notification catalogue.",
        json_schema_extra={"enum": [entry.cloudevent_type for entry in CATALOGUE]},
    )
    dataschema: Literal["urn:ecuapass-gateway:schema:customs-notification:1"] = (
        "urn:ecuapass-gateway:schema:customs-notification:1"
    )
    data: NotificationData

    @field_validator("type")
    @classmethod
    def _in_the_catalogue(cls, value: str) -> str:
        if value not in _CLOUDEVENT_TYPES:
            raise ValueError(f"{value!r} is not the CloudEvent type of a notification of the catalogue")
        return value


_CLOUDEVENT_TYPES = frozenset(entry.cloudevent_type for entry in CATALOGUE)


def event(notification: Notification, *, source: str, feed: str) -> NotificationEvent:
    """The CloudEvent of ``notification`` read from ``feed`` (``source``: the gateway's ``settings.source``)."""
    concerns = notification.concerns
    return NotificationEvent(
        specversion="1.0",
        id=event_id(notification.notification_id),
        source=intake_source(source, feed),
        type=notification.type.cloudevent_type,
        subject=concerns.case_id,
        time=notification.issued_at,
        data=NotificationData(
            notification_id=notification.notification_id,
            notification_type=notification.type.code,
            status_group=notification.type.status_group,
            recipient=notification.recipient,
            case_id=concerns.case_id,
            message_id=concerns.message_id,
            document=concerns.document_type,
            declaration_number=concerns.declaration_number,
            warehouse_entry_number=concerns.warehouse_entry_number,
            details=details_json(notification),
            remark=notification.remark,
            feed=feed,
            sequence=notification.sequence,
        ),
    )


def details_json(notification: Notification) -> dict[str, Any] | None:
    """The details as JSON, times in customs' offset as given."""
    match notification.details:
        case InspectionAppointment(scheduled_at, place):
            return {"inspection": {"scheduled_at": scheduled_at.isoformat(), "place": place}}
        case InspectionResult(with_findings, findings):
            return {"inspection_result": {"with_findings": with_findings, "findings": findings}}
        case Observation(text, answer_by):
            return {"observation": {"text": text, "answer_by": answer_by.isoformat()}}
    return None


def _headers(pairs: list[tuple[str, str]]) -> list[tuple[str, bytes | None]]:
    return [(name, value) for name, value in h.encoded(pairs)]


def _where(feed: str, cursor: str, notification_id: str | None) -> list[tuple[str, str]]:
    found = [(h.FEED, feed), (h.FEED_CURSOR, cursor)]
    return ([(h.NOTIFICATION_ID, notification_id)] if notification_id else []) + found


def archive(
    notification: Notification | UnreadableNotification, raw: bytes, topics: TopicSettings, *, feed: str, cursor: str
) -> OutboundRecord:
    """The raw notification as served (its ``Notification`` element), before anything is made of it: readable or
    not, so that an unreadable one can be read again from here (``dlq replay-notifications``). Keyed by case id when
    it could be read, without a key otherwise."""
    key = notification.concerns.case_id.encode() if isinstance(notification, Notification) else None
    headers = [(h.CONTENT_TYPE, h.XML), (h.ARCHIVE_ITEM, "notification")]
    headers += _where(feed, cursor, notification.notification_id)
    return OutboundRecord(topics.archive, raw, key, _headers(headers))


def published(
    notification: Notification,
    topics: TopicSettings,
    *,
    source: str,
    feed: str,
    cursor: str,
    replayed_from: str | None = None,
) -> OutboundRecord:
    """The notification's CloudEvent, structured, keyed by case id; ``replayed_from``: the intake dead letter it is
    replayed from (``topic:partition:offset``), carried as ``ecuapass.replayed.from`` so a replay is done once."""
    cloudevent = event(notification, source=source, feed=feed)
    headers = [(h.CONTENT_TYPE, h.CLOUDEVENTS_JSON), *_where(feed, cursor, notification.notification_id)]
    if replayed_from is not None:
        headers.append((h.REPLAYED_FROM, replayed_from))
    return OutboundRecord(
        topics.notifications, cloudevent.model_dump_json().encode(), cloudevent.subject.encode(), _headers(headers)
    )


def dead_letter(
    unreadable: UnreadableNotification | Notification,
    raw: bytes,
    topics: TopicSettings,
    *,
    feed: str,
    cursor: str,
    reason: str,
    detail: str,
    archived: str | None = None,
) -> OutboundRecord:
    """A notification the intake could not read or publish, raw, with the feed and cursor it came from and why;
    keyed by its case id when it could be read, without a key otherwise. ``archived``: where its archive record is
    (``topic:partition:offset``), for the replay to read it from there."""
    key = unreadable.concerns.case_id.encode() if isinstance(unreadable, Notification) else None
    identifier = unreadable.notification_id
    headers = [(h.CONTENT_TYPE, h.XML), *_where(feed, cursor, identifier)]
    headers += [(h.DLQ_REASON, reason), (h.DLQ_DETAIL, detail[:1000])]
    if archived is not None:
        headers.append((h.ARCHIVED_AT, archived))
    return OutboundRecord(topics.intake_dlq, raw, key, _headers(headers))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a feed's reading stands: the cursor to ask after next, and when it was saved."""

    feed: str
    cursor: str
    saved_at: datetime


def checkpoint(saved: Checkpoint, topics: TopicSettings) -> OutboundRecord:
    """The control topic's record of ``saved`` (the caller sends it to the feed's partition)."""
    value = json.dumps({"feed": saved.feed, "cursor": saved.cursor, "saved_at": h.timestamp(saved.saved_at)})
    return OutboundRecord(
        topics.intake_feeds, value.encode(), saved.feed.encode(), _headers([(h.CONTENT_TYPE, h.JSON)])
    )


def cursor_of(value: bytes | None) -> str | None:
    """The cursor a checkpoint record holds; ``None`` when it holds none that can be read."""
    try:
        parsed = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    cursor = parsed.get("cursor") if isinstance(parsed, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


# -- reading back (case, tail, the demo) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """One customs notification of a case. Fields that were not there are ``None``."""

    time: datetime
    case_id: str | None
    notification_type: str | None
    status_group: str | None
    recipient: str | None
    notification_id: str | None
    event_id: str | None
    document: str | None
    message_id: str | None
    declaration_number: str | None
    warehouse_entry_number: str | None
    details: dict[str, Any] | None
    remark: str | None
    feed: str | None

    def to_json(self) -> dict[str, Any]:
        shown = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        return {"notification": self.notification_type or "unknown", **shown, "time": self.time.isoformat()}


def notice_from_record(record: ConsumerRecord) -> Notice | None:
    """A record of the notifications topic as a ``Notice``; ``None`` when it is not one of the intake's."""
    try:
        event = json.loads(record.value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        return None
    details = data.get("details")
    return Notice(
        time=aware_time(event.get("time")) or datetime.now(UTC),
        case_id=_str(event.get("subject")),
        notification_type=_str(data.get("notification_type")),
        status_group=_str(data.get("status_group")),
        recipient=_str(data.get("recipient")),
        notification_id=_str(data.get("notification_id")),
        event_id=_str(event.get("id")),
        document=_str(data.get("document")),
        message_id=_str(data.get("message_id")),
        declaration_number=_str(data.get("declaration_number")),
        warehouse_entry_number=_str(data.get("warehouse_entry_number")),
        details=details if isinstance(details, dict) else None,
        remark=_str(data.get("remark")),
        feed=_str(data.get("feed")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
