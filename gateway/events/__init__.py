"""Canonical case events: the contract agency back-ends publish to the input topic.

``decode(raw)`` is the one way in: bytes of a Kafka record to a typed, validated event, or a
``gateway.errors.UndecodableEvent`` (dead letter) or ``gateway.errors.InvalidEvent`` (rejection).
A new document is a new event class here, added to the ``CaseEvent`` union.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gateway.errors import InvalidEvent, UndecodableEvent
from gateway.events.authorization import AuthorizationRequested
from gateway.events.envelope import SCHEMA_PREFIX, CaseEventBase, CloudEvent
from gateway.events.export_declaration import ExportDeclarationSubmitted
from gateway.events.validation import field_errors
from gateway.events.warehouse_entry import WarehouseEntryRegistered

# The union of every case event, discriminated by ``type``.
CaseEvent = Annotated[
    AuthorizationRequested | ExportDeclarationSubmitted | WarehouseEntryRegistered, Field(discriminator="type")
]
CASE_EVENTS: tuple[type[CaseEventBase], ...] = get_args(get_args(CaseEvent)[0])


def event_type(cls: type[CaseEventBase]) -> str:
    """The CloudEvents ``type`` an event class is pinned to."""
    return str(get_args(cls.model_fields["type"].annotation)[0])


EVENT_TYPES: frozenset[str] = frozenset(event_type(cls) for cls in CASE_EVENTS)
_CASE_EVENT: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)


class _Attributes(BaseModel):
    """The least a record must have to be a CloudEvent the gateway can answer."""

    model_config = ConfigDict(extra="allow")
    specversion: Literal["1.0"]
    id: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    type: str


def decode(raw: bytes) -> CaseEvent:
    """Validate one record's value; every problem of a known event is reported at once."""
    try:
        return _CASE_EVENT.validate_json(raw, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise UndecodableEvent("not_json", detail=first["msg"]) from exc
        attributes = _attributes(raw)
        if attributes.type not in EVENT_TYPES:
            raise UndecodableEvent("unknown_type", detail=attributes.type) from exc
        # A union's error locations start with the discriminator's value; drop it so paths match the event.
        errors = field_errors(exc, skip=1)
        subject = getattr(attributes, "subject", None)
        raise InvalidEvent(
            errors,
            event_id=attributes.id,
            event_type=attributes.type,
            source=attributes.source,
            subject=subject if isinstance(subject, str) else None,
        ) from exc


def _attributes(raw: bytes) -> _Attributes:
    try:
        return _Attributes.model_validate_json(raw)
    except ValidationError as exc:
        missing = ", ".join(".".join(map(str, e["loc"])) or "(root)" for e in exc.errors(include_url=False))
        raise UndecodableEvent("not_a_cloudevent", detail=f"bad or missing attributes: {missing}") from exc


__all__ = [
    "CASE_EVENTS",
    "SCHEMA_PREFIX",
    "AuthorizationRequested",
    "CaseEvent",
    "CaseEventBase",
    "CloudEvent",
    "decode",
    "event_type",
]
