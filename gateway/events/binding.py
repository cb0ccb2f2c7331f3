"""The CloudEvents Kafka protocol binding on input: a record's value and headers -> the event as structured JSON.

The decoder (``gateway.events.decode``) reads one form, structured JSON; this module turns either content mode
into it, so that both get the same rules, errors and outcomes:

- **structured**: the value is the whole event. A record whose ``content-type`` is ``application/cloudevents…``, or
  that has no ``ce_specversion`` header, is structured (the gateway's first producers send no content type).
- **binary**: attributes in ``ce_<name>`` headers (UTF-8), ``content-type`` as ``datacontenttype``, the value as
  ``data``. The event is rebuilt as ``{<attributes>, "data": <value>}``; the value is checked to be one JSON value
  before it is spliced in, so that it can add no member of its own. A value under a content type that is not JSON
  travels as a JSON string (and is refused by the events' rules, as its structured twin would be).

The record's key is the case id in both modes; a ``partitionkey`` attribute, when sent, must equal the ``subject``
(the events' rule).
"""

from __future__ import annotations

import json
from typing import Literal

import pydantic_core

from gateway.errors import UndecodableEvent
from gateway.kafka.headers import CE_PREFIX, CLOUDEVENTS_MEDIA_TYPE, CONTENT_TYPE, Headers

Mode = Literal["structured", "binary"]
_SPECVERSION = CE_PREFIX + "specversion"


def content_mode(headers: Headers) -> Mode:
    content_type = None
    binary = False
    for key, value in headers:
        if key == CONTENT_TYPE:
            content_type = value
        elif key == _SPECVERSION:
            binary = True
    if content_type is not None and content_type.lower().startswith(CLOUDEVENTS_MEDIA_TYPE.encode()):
        return "structured"
    return "binary" if binary else "structured"


def structured(value: bytes, headers: Headers) -> tuple[bytes, Mode]:
    """The event as structured JSON, and the content mode it came in."""
    mode = content_mode(headers)
    if mode == "structured":
        return value, mode
    attributes: dict[str, str] = {}
    for key, raw in headers:
        if key == CONTENT_TYPE:
            name = "datacontenttype"
        elif key.startswith(CE_PREFIX):
            name = key.removeprefix(CE_PREFIX)
        else:
            continue
        if raw is None:
            raise UndecodableEvent("not_a_cloudevent", detail=f"binary content mode: header {key} has no value")
        if name in attributes:
            raise UndecodableEvent(
                "not_a_cloudevent", detail=f"binary content mode: attribute {name} given twice (header {key})"
            )
        if name == "data":
            raise UndecodableEvent(
                "not_a_cloudevent", detail="binary content mode: data travels as the record's value, not as ce_data"
            )
        try:
            attributes[name] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UndecodableEvent(
                "not_a_cloudevent", detail=f"binary content mode: header {key} is not UTF-8"
            ) from None
    head = json.dumps(attributes, ensure_ascii=False).encode("utf-8")
    if not value:
        return head, mode  # no data: refused by the events' rules (data is required)
    if _is_json(attributes.get("datacontenttype")):
        try:
            pydantic_core.from_json(value)
        except ValueError as exc:
            raise UndecodableEvent(
                "not_json", detail=f"binary content mode: the value (data) is not JSON: {exc}"
            ) from exc
        data = value
    else:
        data = json.dumps(value.decode("utf-8", "replace"), ensure_ascii=False).encode("utf-8")
    return head[:-1] + b', "data": ' + data + b"}", mode


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # the events' default datacontenttype
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
