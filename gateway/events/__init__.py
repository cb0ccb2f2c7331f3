"""Canonical case events: the contract agency back-ends publish to the input topic.

``EventDecoder(events).decode(raw)`` is the one way in: a structured CloudEvent's bytes to a typed, validated event
of one of ``events``, or a ``gateway.errors.UndecodableEvent`` (dead letter) or ``gateway.errors.InvalidEvent``
(rejection). The gateway's decoder is that of its documents' events (``gateway.documents.decode``): a new document
is a new event class here, attached to its document there. A record in binary content mode is first made
structured by ``gateway.events.binding``; ``mode`` only words the errors.

Hostile input: a member named twice in one JSON object is refused (``GW-DUPLICATE_KEY``, a rejection naming it):
Pydantic keeps the last silently, other readers the first, so the publisher and the gateway could act on two
different events. A rejection lists at most ``MAX_REPORTED_ERRORS`` errors and cuts long paths, so that it stays a
small record whatever the event; an ``id`` or ``source`` the gateway could not echo safely (too long, control
characters) makes the record a dead letter (``not_a_cloudevent``), and an unusable ``subject`` is not echoed.
"""

from __future__ import annotations

import json
import operator
import re
from collections import Counter
from collections.abc import Sequence
from functools import reduce
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gateway.errors import InvalidEvent, UndecodableEvent
from gateway.events.authorization import AuthorizationRequested
from gateway.events.binding import Mode
from gateway.events.envelope import SCHEMA_PREFIX, CaseEventBase, CloudEvent, EventId, SourceUri
from gateway.events.validation import FieldError, field_errors, json_path
from gateway.gateway_codes import BY_CODE
from gateway.kafka.headers import CE_PREFIX


def event_type(cls: type[CaseEventBase]) -> str:
    """The CloudEvents ``type`` an event class is pinned to."""
    return str(get_args(cls.model_fields["type"].annotation)[0])


MAX_REPORTED_ERRORS = 100
MAX_PATH_CHARS = 256
_CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


class _Attributes(BaseModel):
    """The least a record must have to be a CloudEvent the gateway can answer."""

    model_config = ConfigDict(extra="allow")
    specversion: Literal["1.0"]
    id: EventId  # echoed in the rejection: the same limits as a valid event's
    source: SourceUri
    type: str


class EventDecoder:
    """Decodes the events of the classes given, discriminated by ``type``; any other type is ``unknown_type``."""

    def __init__(self, events: Sequence[type[CaseEventBase]]) -> None:
        self.events = tuple(events)
        self.types = frozenset(event_type(cls) for cls in self.events)
        union = reduce(operator.or_, self.events)
        # One class is no union: nothing to discriminate, and no discriminator value leading the error locations.
        annotation = cast(Any, Annotated)[union, Field(discriminator="type")] if len(self.events) > 1 else union
        self._skip = 1 if len(self.events) > 1 else 0
        self._adapter: TypeAdapter[CaseEventBase] = TypeAdapter(annotation)

    def decode(self, raw: bytes, mode: Mode = "structured") -> CaseEventBase:
        """Validate one event; every problem of a known event is reported at once."""
        try:
            event = self._adapter.validate_json(raw, strict=True)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            if first["type"] == "json_invalid":
                raise UndecodableEvent("not_json", detail=first["msg"]) from exc
            attributes = _attributes(raw, mode)
            if attributes.type not in self.types:
                raise UndecodableEvent("unknown_type", detail=attributes.type) from exc
            # A union's error locations start with the discriminator's value; drop it so paths match the event.
            errors = [*field_errors(exc, skip=self._skip), *duplicate_keys(raw)]
            subject = getattr(attributes, "subject", None)
            raise InvalidEvent(
                _bounded(errors),
                event_id=attributes.id,
                event_type=attributes.type,
                source=attributes.source,
                subject=subject if isinstance(subject, str) and _CASE_ID.fullmatch(subject) else None,
            ) from exc
        duplicates = duplicate_keys(raw)
        if duplicates:
            raise InvalidEvent(
                _bounded(duplicates),
                event_id=event.id,
                event_type=event.type,
                source=event.source,
                subject=event.subject,
            )
        return event


def duplicate_keys(raw: bytes) -> list[FieldError]:
    """An error for each member named twice in one object. Only called on JSON Pydantic has read: its parser
    refuses what would make this one fail (nesting deeper than 200, numbers out of range, invalid UTF-8)."""
    twice: list[_Members] = []

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        unique = dict(pairs)
        if len(unique) == len(pairs):
            return unique
        repeated = _Members(unique)
        repeated.twice = [name for name, count in Counter(name for name, _ in pairs).items() if count > 1]
        twice.append(repeated)
        return repeated

    tree = json.loads(raw, object_pairs_hook=members, parse_int=str)  # str: no conversion, no digit limit
    return _duplicate_errors(tree, ()) if twice else []


class _Members(dict[str, Any]):
    """A JSON object that held some names twice."""

    twice: list[str]


def _duplicate_errors(value: Any, location: tuple[str | int, ...]) -> list[FieldError]:
    errors = []
    if isinstance(value, dict):
        for name in getattr(value, "twice", ()):
            errors.append(
                FieldError(
                    code="GW-DUPLICATE_KEY",
                    path=json_path((*location, name)),
                    value=name[:200],
                    message_es=BY_CODE["GW-DUPLICATE_KEY"].message_es,
                    message_en="This member appears more than once in the same JSON object: readers disagree on "
                    "which one counts.",
                )
            )
        for name, item in value.items():
            errors += _duplicate_errors(item, (*location, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += _duplicate_errors(item, (*location, index))
    return errors


def _bounded(errors: list[FieldError]) -> list[FieldError]:
    """A rejection stays small whatever the event: at most ``MAX_REPORTED_ERRORS`` errors, paths cut."""
    shown = [
        error
        if len(error.path) <= MAX_PATH_CHARS
        else error.model_copy(update={"path": error.path[: MAX_PATH_CHARS - 1] + "…"})
        for error in errors[:MAX_REPORTED_ERRORS]
    ]
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
        shown.append(
            FieldError(
                code="GW-TOO_MANY_ERRORS",
                path="",
                value=len(errors),
                message_es=f"El evento tiene {more} errores más, no listados.",
                message_en=f"The event has {more} more errors, not listed.",
            )
        )
    return shown


def _attributes(raw: bytes, mode: Mode) -> _Attributes:
    try:
        return _Attributes.model_validate_json(raw)
    except ValidationError as exc:
        names = [".".join(map(str, e["loc"])) for e in exc.errors(include_url=False)]
        if mode == "binary":
            wrong = ", ".join(f"{CE_PREFIX}{name}" if name else "(headers)" for name in names)
            detail = f"binary content mode (ce_* headers): bad or missing headers {wrong}"
        else:
            wrong = ", ".join(name or "(root)" for name in names)
            detail = (
                f"structured content mode: bad or missing attributes {wrong} (binary content mode needs a "
                f"{CE_PREFIX}specversion header)"
            )
        raise UndecodableEvent("not_a_cloudevent", detail=detail) from exc


__all__ = [
    "SCHEMA_PREFIX",
    "AuthorizationRequested",
    "CaseEventBase",
    "CloudEvent",
    "EventDecoder",
    "event_type",
]
