"""The intake's wire format: a customs notification as a CloudEvent (its id derived from customs' id alone), its
archive and dead-letter records, the cursor checkpoints; and the tolerant reader that lets one unreadable
notification through without blocking its page."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from lxml import etree
from pydantic import ValidationError

from gateway.contract.feed import (
    FeedGone,
    FeedPage,
    TolerantPage,
    UnreadableNotification,
    read_feed_tolerant,
    write_feed,
    write_gone,
)
from gateway.contract.namespaces import NOTIFICATIONS
from gateway.contract.notifications import (
    EXIT_AUTHORIZED,
    INSPECTION_SCHEDULED,
    Concerns,
    InspectionAppointment,
    Notification,
)
from gateway.intake import records
from gateway.intake.records import Checkpoint, NotificationEvent, event
from gateway.kafka import headers as h
from gateway.resources import contracts_dir
from gateway.settings import TopicSettings

AT = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
CONCERNS = Concerns(
    "CASE-2026-0001",
    "5b1e7f02-8c43-4d19-a6e5-0f2d9c7b3a14",
    "export-declaration",
    "028-2026-51-00000001",
    "028-2026-IE51-00000001",
)
TOPICS = TopicSettings()
SCHEDULED = Notification(
    "NTF-000000000007",
    7,
    INSPECTION_SCHEDULED,
    AT,
    "WAREHOUSE",
    CONCERNS,
    InspectionAppointment(AT + timedelta(days=1), "Depósito temporal OCE 05909371"),
)
EXIT = Notification("NTF-000000000008", 8, EXIT_AUTHORIZED, AT, "EXPORTER", CONCERNS, remark="Salida autorizada")


def test_the_event_id_is_derived_from_the_notification_id_alone() -> None:
    first = records.event(EXIT, source="urn:ecuapass-gateway", feed="default")
    again = records.event(EXIT, source="urn:ecuapass-gateway", feed="1790011674001")  # another feed, same id
    assert first.id == again.id == records.event_id("NTF-000000000008")
    assert uuid.UUID(first.id).version == 5
    assert records.event_id("NTF-000000000009") != first.id


def test_the_cloudevent_carries_the_catalogue_type_the_case_and_customs_time() -> None:
    event = records.event(SCHEDULED, source="urn:ecuapass-gateway", feed="default")
    assert event.type == "ecuapass.customs.inspection-scheduled.v1"
    assert event.subject == "CASE-2026-0001"
    assert event.source == "urn:ecuapass-gateway:intake:default"
    assert event.time == AT
    data = event.data
    assert (data.notification_id, data.notification_type, data.status_group) == (
        "NTF-000000000007",
        "inspection-scheduled",
        "action-required",
    )
    assert (data.recipient, data.message_id, data.document) == ("WAREHOUSE", CONCERNS.message_id, "export-declaration")
    assert (data.declaration_number, data.warehouse_entry_number) == ("028-2026-51-00000001", "028-2026-IE51-00000001")
    assert data.details == {
        "inspection": {"scheduled_at": (AT + timedelta(days=1)).isoformat(), "place": "Depósito temporal OCE 05909371"}
    }
    assert data.answered_event_id is None  # customs-initiated


def test_the_records_are_keyed_by_case_and_name_feed_cursor_and_id() -> None:
    raw = b"<ntf:Notification/>"
    archived = records.archive(EXIT, raw, TOPICS, feed="default", cursor="7")
    published = records.published(EXIT, TOPICS, source="urn:ecuapass-gateway", feed="default", cursor="7")
    assert (archived.topic, archived.key, archived.value) == ("ecuapass.archive.v1", b"CASE-2026-0001", raw)
    assert (published.topic, published.key) == ("ecuapass.notifications.v1", b"CASE-2026-0001")
    assert h.as_text(archived.headers) == {
        h.CONTENT_TYPE: h.XML,
        h.ARCHIVE_ITEM: "notification",
        h.NOTIFICATION_ID: "NTF-000000000008",
        h.FEED: "default",
        h.FEED_CURSOR: "7",
    }
    assert h.as_text(published.headers)[h.CONTENT_TYPE] == h.CLOUDEVENTS_JSON
    body = json.loads(published.value)
    assert body["specversion"] == "1.0" and body["id"] == records.event_id("NTF-000000000008")
    assert body["data"]["remark"] == "Salida autorizada"


def test_a_dead_letter_keeps_the_raw_bytes_and_says_why_and_where() -> None:
    unreadable = UnreadableNotification(b"<x/>", "unknown_type", "no such type", "NTF-000000000009")
    letter = records.dead_letter(
        unreadable, b"<x/>", TOPICS, feed="default", cursor="8", reason="unknown_type", detail="no such type"
    )
    assert (letter.topic, letter.key, letter.value) == ("ecuapass.intake.dlq.v1", None, b"<x/>")
    named = h.as_text(letter.headers)
    assert (named[h.FEED], named[h.FEED_CURSOR], named[h.DLQ_REASON], named[h.DLQ_DETAIL]) == (
        "default",
        "8",
        "unknown_type",
        "no such type",
    )


def test_a_checkpoint_goes_there_and_back() -> None:
    record = records.checkpoint(Checkpoint("default", "42", AT), TOPICS)
    assert (record.topic, record.key) == ("ecuapass.intake.feeds.v1", b"default")
    assert records.cursor_of(record.value) == "42"
    assert records.cursor_of(b"not json") is None and records.cursor_of(b"{}") is None


def _with_unknown_type(page: bytes) -> bytes:
    root = etree.fromstring(page)
    kinds = root.findall(f"{{{NOTIFICATIONS}}}Notification/{{{NOTIFICATIONS}}}Type")
    kinds[0].text = "warehouse-burned-down"
    return etree.tostring(root)


def test_one_unreadable_notification_does_not_hide_the_rest_of_its_page() -> None:
    page = write_feed(FeedPage("6", "8", False, (SCHEDULED, EXIT)))
    read = read_feed_tolerant(_with_unknown_type(page))
    assert isinstance(read, TolerantPage) and (read.after, read.next, read.more) == ("6", "8", False)
    (raw_bad, bad), (raw_good, good) = read.items
    assert isinstance(bad, UnreadableNotification) and bad.reason == "unknown_type"
    assert bad.notification_id == "NTF-000000000007" and raw_bad == bad.raw
    assert b"warehouse-burned-down" in raw_bad
    assert good == EXIT and b"NTF-000000000008" in raw_good


def test_an_invalid_notification_is_unreadable_and_a_gone_cursor_is_read_as_before() -> None:
    root = etree.fromstring(write_feed(FeedPage("0", "8", False, (EXIT,))))
    root.find(f"{{{NOTIFICATIONS}}}Notification/{{{NOTIFICATIONS}}}IssuedAt").text = "yesterday"  # type: ignore[union-attr]
    read = read_feed_tolerant(etree.tostring(root))
    assert isinstance(read, TolerantPage)
    assert isinstance(read.items[0][1], UnreadableNotification) and read.items[0][1].reason == "invalid"
    gone = FeedGone("3", "12", "Ya no se conservan.")
    assert read_feed_tolerant(write_gone(gone)) == gone


def test_the_published_json_schema_accepts_what_the_intake_publishes_and_only_catalogue_types() -> None:
    """Checked with the jsonschema package, not the model that generated the schema."""
    schema = json.loads((contracts_dir() / "schemas" / "ecuapass.customs.notification.v1.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for notification in (SCHEDULED, EXIT):
        published = json.loads(event(notification, source="urn:ecuapass-gateway", feed="default").model_dump_json())
        assert list(validator.iter_errors(published)) == []
    published["type"] = "ecuapass.customs.something-else.v1"
    assert [error.json_path for error in validator.iter_errors(published)] == ["$.type"]
    with pytest.raises(ValidationError, match="not the CloudEvent type of a notification"):
        NotificationEvent.model_validate(published)
