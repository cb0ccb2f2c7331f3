"""One outcome of a case as an ``Entry``, read from an outcome record: the data of ``case`` and ``tail``.

Part of ``gateway.tools.tracking``: ``reading`` turns every record it reads into an entry here, ``masking`` and
``rendering`` print them.

- ``Entry`` is one outcome, whichever it is (an acceptance, a rejection or a dead letter); fields that do not apply
  are ``None``. ``Entry.to_json()`` has every field, always, in declaration order.
- ``entry_from_record(received)`` reads a record decoded by the one decoder of outcome records
  (``gateway.kafka.records.received``). An acknowledgment's or rejection's time is its CloudEvents ``time``; a dead
  letter's time is its record timestamp, or the ``dlq.last.failure`` header the gateway sets when it has none.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from gateway.documents import BY_EVENT_TYPE
from gateway.kafka.headers import REPLAY_COUNT
from gateway.kafka.records import OutcomeName, Received, aware_time

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning of an outcome, as the gateway published it."""

    code: str
    path: str
    message_es: str
    message_en: str = ""
    value: Any = None
    pointer: str | None = None
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class Entry:
    """One outcome of a case: an acceptance, a rejection or a dead letter. Fields that do not apply are ``None``."""

    time: datetime
    outcome: OutcomeName
    case_id: str | None
    document: str | None = None
    event_id: str | None = None  # the answered event (for a dead letter: the record's id, when it had one)
    event_type: str | None = None
    outcome_id: str | None = None
    local_reference: str | None = None
    message_id: str | None = None
    submission_number: str | None = None
    official_number: str | None = None
    valid_until: str | None = None
    inspection_channel: str | None = None
    stage: str | None = None
    rejected_by: str | None = None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    reason: str | None = None
    error_class: str | None = None
    attempts: int | None = None
    detail: str | None = None
    original_record: str | None = None  # topic:partition:offset of the input record a dead letter keeps
    replay_count: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field, always, in declaration order (``None`` when it does not apply)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif spec.name in ("errors", "warnings"):
                value = [{f.name: getattr(problem, f.name) for f in fields(problem)} for problem in value]
            out[spec.name] = value
        return out


def entry_from_record(received: Received) -> Entry | None:
    """An outcome record as an ``Entry``; ``None`` (logged) for an acknowledgment or rejection that is not one."""
    outcome, key, timestamp = received.outcome, received.key, received.timestamp
    replays = _int(received.headers.get(REPLAY_COUNT))
    if outcome == "dead-letter":
        return _dead_letter(received, replays)
    body = _json(received.value)
    data = body.get("data") if body is not None else None
    if body is None or not isinstance(data, dict):
        log.warning("skipping a record of the %s topic that is not an outcome CloudEvent", outcome)
        return None
    when = aware_time(body.get("time")) or timestamp or datetime.now(UTC)
    event_type = _str(data.get("answered_event_type"))
    common = Entry(
        time=when,
        outcome=outcome,
        case_id=_str(body.get("subject")) or _str(data.get("case_id")) or _text(key),
        document=_str(data.get("document")) or _document(event_type),  # contract rejections name no document
        event_id=_str(data.get("answered_event_id")),
        event_type=event_type,
        outcome_id=_str(body.get("id")),
        local_reference=_str(data.get("local_reference")),
        message_id=_str(data.get("message_id")),
        submission_number=_str(data.get("submission_number")),
        warnings=_problems(data.get("warnings")),
        replay_count=replays,
    )
    if outcome == "accepted":
        return replace(
            common,
            official_number=_str(data.get("official_number")),
            valid_until=_str(data.get("valid_until")),
            inspection_channel=_str(data.get("inspection_channel")),
        )
    return replace(
        common,
        stage=_str(data.get("stage")),
        rejected_by=_str(data.get("rejected_by")),
        errors=_problems(data.get("errors")),
    )


def _dead_letter(received: Received, replays: int | None) -> Entry:
    event = _json(received.value) or {}  # a delivery failure keeps a valid event: say which one
    event_type = _str(event.get("type"))
    data = event.get("data")
    letter = received.letter
    return Entry(
        time=received.timestamp or letter.last_failure or datetime.now(UTC),
        outcome="dead-letter",
        case_id=received.case_id or _str(event.get("subject")),
        document=_document(event_type),
        event_id=_str(event.get("id")),
        event_type=event_type,
        local_reference=_str(data.get("local_reference")) if isinstance(data, dict) else None,
        reason=letter.reason,
        error_class=letter.error_class,
        attempts=letter.attempts,
        detail=letter.detail,
        original_record=letter.original_record,
        replay_count=replays,
    )


def _document(event_type: str | None) -> str | None:
    document = BY_EVENT_TYPE.get(event_type or "")
    return document.name if document is not None else None


def _json(value: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _problems(value: object) -> tuple[Problem, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        Problem(
            code=_str(item.get("code")) or "?",
            path=_str(item.get("path")) or "",
            message_es=_str(item.get("message_es")) or "",
            message_en=_str(item.get("message_en")) or "",
            value=item.get("value"),
            pointer=_str(item.get("pointer")),
            severity=_str(item.get("severity")) or "error",
        )
        for item in value
        if isinstance(item, dict)
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
