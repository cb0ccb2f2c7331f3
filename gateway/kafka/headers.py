"""The Kafka headers the gateway reads and writes: every name, content type and time format, in one place.

Records in:
- structured CloudEvents (the event is the JSON value; ``content-type`` ``application/cloudevents+json``, or none);
- binary CloudEvents (attributes in ``ce_*`` headers, ``content-type`` is ``datacontenttype``, the value is
  ``data``), as the CloudEvents Kafka protocol binding defines them;
- ``traceparent`` (W3C trace context) and, on records ``dlq replay`` published, ``ecuapass.replay.*``.

Records out (acks, rejections): structured CloudEvents with ``content-type`` and, when there is one, ``traceparent``
and the replay headers of the record answered. No framework header is added (FastStream's ``correlation_id`` is
not: the correlation id is the CloudEvent's ``correlationid``).

Dead letters: every header of the original record, byte for byte and in order, then the ``dlq.*`` headers below;
``content-type`` is the original's, or ``application/octet-stream`` when the original had none. Quarantined
letters: the dead letter's headers and ``dlq.quarantined.from``.

The intake (``gateway/intake/records.py``): a notification's raw XML on the archive topic, with
``ecuapass.archive.item``, ``ecuapass.notification.id``, ``ecuapass.feed`` and ``ecuapass.feed.cursor`` (the cursor
its page was read after); its CloudEvent on the notifications topic (``content-type``, the id and feed headers); an
unreadable one on the intake's dead-letter topic, raw, with the feed headers, ``dlq.reason``, ``dlq.detail`` and
``ecuapass.archived.at`` (its archive record); a CloudEvent ``dlq replay-notifications`` published carries
``ecuapass.replayed.from`` (the letter's coordinates); the cursors on the control topic (JSON, keyed by feed).

Times in headers are RFC 3339 in UTC with milliseconds and ``Z`` (``2026-12-04T03:28:03.120Z``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

# A record's headers as the client gives them: names, and values as bytes (Kafka allows null values).
Headers = Sequence[tuple[str, bytes | None]]

CONTENT_TYPE = "content-type"
CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"
CLOUDEVENTS_MEDIA_TYPE = "application/cloudevents"  # any structured format: +json, +avro…
OCTET_STREAM = "application/octet-stream"
JSON = "application/json"  # the data of a binary-mode case event
TRACEPARENT = "traceparent"

# CloudEvents binary content mode: attribute ``x`` travels as header ``ce_x``.
CE_PREFIX = "ce_"

REPLAY_COUNT = "ecuapass.replay.count"
REPLAYED_FROM = "ecuapass.replayed.from"
# Input headers carried onto acknowledgments and rejections.
PASSED = (TRACEPARENT, REPLAY_COUNT, REPLAYED_FROM)

DLQ_PREFIX = "dlq."
DLQ_REASON = "dlq.reason"
DLQ_ERROR_CLASS = "dlq.error.class"
DLQ_DETAIL = "dlq.detail"
DLQ_ATTEMPTS = "dlq.attempts"
DLQ_FIRST_FAILURE = "dlq.first.failure"
DLQ_LAST_FAILURE = "dlq.last.failure"
DLQ_ORIGINAL_TOPIC = "dlq.original.topic"
DLQ_ORIGINAL_PARTITION = "dlq.original.partition"
DLQ_ORIGINAL_OFFSET = "dlq.original.offset"
DLQ_ORIGINAL_LAST_OFFSET = "dlq.original.last.offset"
DLQ_ORIGINAL_KEY = "dlq.original.key"
DLQ_QUARANTINED_FROM = "dlq.quarantined.from"

# What each header says, for the AsyncAPI document (gateway/tools/asyncapi/headers.py) and the README.
DLQ_HEADERS: dict[str, str] = {
    DLQ_REASON: "Why: not_json, not_a_cloudevent, unknown_type, too_large, unreadable, delivery_failed, "
    "unpublishable (the broker refused the record's acknowledgment or rejection for good) or internal_error.",
    DLQ_ERROR_CLASS: "Class of the error behind the reason, e.g. PermanentDeliveryError.",
    DLQ_DETAIL: "What went wrong, for a person.",
    DLQ_ORIGINAL_TOPIC: "Topic the record was consumed from.",
    DLQ_ORIGINAL_PARTITION: "Partition the record was consumed from.",
    DLQ_ORIGINAL_OFFSET: "Offset of the record in that partition (the first offset of an unreadable range).",
    DLQ_ORIGINAL_LAST_OFFSET: "Last offset of the range of records the client could not read (reason unreadable "
    "only; the value is then empty).",
    DLQ_ORIGINAL_KEY: "Key of the record (the case id), when it had one.",
    DLQ_ATTEMPTS: "Filing attempts made before giving up (1 when the record was never filed).",
    DLQ_FIRST_FAILURE: "When the first attempt failed (RFC 3339, UTC, milliseconds).",
    DLQ_LAST_FAILURE: "When the record was dead-lettered (RFC 3339, UTC, milliseconds).",
}
DLQ_OPTIONAL = frozenset({DLQ_ORIGINAL_KEY, DLQ_ORIGINAL_LAST_OFFSET})


# The intake's headers.
XML = "application/xml"
ARCHIVE_ITEM = "ecuapass.archive.item"  # what the archived record is: "notification"
NOTIFICATION_ID = "ecuapass.notification.id"  # customs' id of the notification (NTF-…), when it could be read
FEED = "ecuapass.feed"  # the feed it was read from: "default" or an agency's RUC
FEED_CURSOR = "ecuapass.feed.cursor"  # the cursor the page holding it was asked after
ARCHIVED_AT = "ecuapass.archived.at"  # on an intake dead letter: its raw notification's archive record (topic:p:o)
INTAKE_REASONS: dict[str, str] = {
    "unknown_type": "a notification type the catalogue lacks",
    "invalid": "breaks notifications.xsd, or carries another type's details",
    "unpublishable": "the broker refused its archive record or CloudEvent for good",
}


def timestamp(moment: datetime) -> str:
    """The one time format of headers: RFC 3339, UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def text(headers: Headers, name: str) -> str | None:
    """The last value of header ``name`` as text (invalid UTF-8 replaced), or ``None`` when absent."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return None if found is None else found.decode("utf-8", "replace")


def as_text(headers: Headers) -> dict[str, str]:
    """Every header as text, the last value of a repeated name winning (for tools and logs, not for copies)."""
    return {key: (value or b"").decode("utf-8", "replace") for key, value in headers}


def encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[str, bytes]]:
    return [(key, value.encode("utf-8")) for key, value in headers]
