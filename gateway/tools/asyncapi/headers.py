"""The headers of the AsyncAPI document (``gateway/tools/asyncapi/``): each message's ``headers`` schema.

``gateway/kafka/headers.py`` owns the header names and the dead-letter headers' meanings; this module describes them
for the document: what each header means (one text per name) and the form of its value (always text), including the
``ce_*`` headers of binary content mode, derived from the case events' schemas. ``channels.py`` asks ``Headers`` for
the ``headers`` schema of each message it describes; ``building.py`` builds one ``Headers`` per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.documents import CASE_EVENTS
from gateway.events import CaseEventBase
from gateway.kafka.headers import (
    CE_PREFIX,
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DLQ_ATTEMPTS,
    DLQ_FIRST_FAILURE,
    DLQ_HEADERS,
    DLQ_LAST_FAILURE,
    DLQ_ORIGINAL_LAST_OFFSET,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_QUARANTINED_FROM,
    OCTET_STREAM,
    REPLAY_COUNT,
    REPLAYED_FROM,
    TRACEPARENT,
)

# The messages' media type names no parameters; the header's value is CLOUDEVENTS_JSON exactly.
CLOUDEVENTS_MEDIA_TYPE = CLOUDEVENTS_JSON.split(";", 1)[0]
# CloudEvents attributes with a place of their own in binary mode: the value's media type is ``content-type``.
DATACONTENTTYPE = "datacontenttype"
CORRELATIONID = "correlationid"
FRAMEWORK_CORRELATION_ID = "correlation_id"  # FastStream's header, which the gateway never writes

_COORDINATES = {"type": "string", "pattern": "^.+:[0-9]+:[0-9]+$"}  # topic:partition:offset
_NUMBER = {"type": "string", "pattern": "^[0-9]+$"}
_TIME = {"type": "string", "format": "date-time"}  # RFC 3339, UTC, milliseconds (headers.timestamp)
_HEADER_FORMS: dict[str, dict[str, Any]] = {
    TRACEPARENT: {"type": "string", "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]},
    REPLAY_COUNT: {"type": "string", "pattern": "^[1-9][0-9]*$"},
    REPLAYED_FROM: _COORDINATES,
    DLQ_QUARANTINED_FROM: _COORDINATES,
    DLQ_ORIGINAL_PARTITION: _NUMBER,
    DLQ_ORIGINAL_OFFSET: _NUMBER,
    DLQ_ORIGINAL_LAST_OFFSET: _NUMBER,
    DLQ_ATTEMPTS: _NUMBER,
    DLQ_FIRST_FAILURE: _TIME,
    DLQ_LAST_FAILURE: _TIME,
}
_HEADER_TEXTS: dict[str, str] = {
    CONTENT_TYPE: f"Media type of the value. Case events: `{CLOUDEVENTS_MEDIA_TYPE}` (or no header) in structured "
    f"mode, the event's `{DATACONTENTTYPE}` in binary mode. Acknowledgments and rejections: `{CLOUDEVENTS_JSON}`. "
    f"Dead letters: the original record's, `{OCTET_STREAM}` when it had none.",
    TRACEPARENT: "W3C trace context, `<version>-<trace-id>-<parent-id>-<flags>` (https://www.w3.org/TR/trace-context/)"
    ". On a case event, the publisher's: the gateway's spans join that trace. On an acknowledgment or a rejection, the "
    "context of the gateway's processing (the event's own when the gateway traces nothing). On a dead letter, the "
    "original record's, or the processing's when it had none.",
    REPLAY_COUNT: "How often `ecuapass-gateway dlq replay` published this record again (absent before the first "
    "replay). Copied from a case event onto its outcome, so that a dead letter counts its replays.",
    REPLAYED_FROM: "The dead letter this record was replayed from, as `topic:partition:offset` (absent before the "
    "first replay). Copied from a case event onto its outcome, so that `dlq replay` skips letters that failed again.",
    DLQ_QUARANTINED_FROM: "The dead letter this is a copy of, as `topic:partition:offset`: it had been replayed "
    "`--max-replays` times already, so `dlq replay` set it aside instead of replaying it again.",
} | DLQ_HEADERS
# Attributes whose field in the events' models has no description.
_ATTRIBUTE_TEXTS = {
    "type": "Which case event this is, and so which e-document is filed.",
    "dataschema": "The schema of `data`; each `type` has its own.",
}


class Headers:
    """Every header the document names: its meaning (one text per name) and the form of its value (always text)."""

    def __init__(self) -> None:
        events = [cls.model_json_schema(mode="validation") for cls in CASE_EVENTS]
        attributes = [name for name in events[0]["properties"] if name != "data"]  # the envelope's order
        required = set.intersection(*(set(event["required"]) for event in events))
        self.forms: dict[str, dict[str, Any]] = dict(_HEADER_FORMS)
        self.texts: dict[str, str] = dict(_HEADER_TEXTS)
        self.attributes: list[str] = []  # binary mode's ce_* headers
        self.binary_content_type: dict[str, Any] = {}  # the form of datacontenttype, which is content-type
        self.required_in_binary_mode: list[str] = []
        for attribute in attributes:
            form = _merged([_as_header(event["properties"][attribute]) for event in events], attribute)
            if attribute == DATACONTENTTYPE:
                self.binary_content_type = form
                continue
            header = CE_PREFIX + attribute
            meaning = CaseEventBase.model_fields[attribute].description or _ATTRIBUTE_TEXTS[attribute]
            self.texts[header] = f"CloudEvents attribute `{attribute}` (binary content mode). {meaning}"
            self.forms[header] = form
            self.attributes.append(header)
            if attribute in required:
                self.required_in_binary_mode.append(header)

    def schema(
        self,
        description: str,
        names: Iterable[str],
        *,
        required: Iterable[str] = (),
        others: bool,
        content_type: dict[str, Any],
    ) -> dict[str, Any]:
        """A message's ``headers``: ``others`` when a record may carry headers besides ``names``."""
        listed = list(dict.fromkeys(names))
        needed = set(required)
        properties = {
            name: (content_type if name == CONTENT_TYPE else self.forms.get(name, {"type": "string"}))
            | {"description": self.texts[name]}
            for name in listed
        }
        schema: dict[str, Any] = {"type": "object", "description": description, "properties": properties}
        if needed:
            schema["required"] = [name for name in listed if name in needed]
        schema["additionalProperties"] = others
        return schema


def _as_header(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute's JSON Schema as a header's: text, never null, no title or default."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    (option,) = options
    dropped = {"anyOf", "title", "default", "description"}  # the description is the header's own
    return {"type": "string"} | {key: value for key, value in (schema | option).items() if key not in dropped}


def _merged(forms: list[dict[str, Any]], attribute: str) -> dict[str, Any]:
    """One form for an attribute every event has: the same, or a constant per event (then any of them)."""
    if all(form == forms[0] for form in forms):
        return forms[0]
    if all("const" in form for form in forms):
        rest = [{k: v for k, v in form.items() if k != "const"} for form in forms]
        if all(form == rest[0] for form in rest):
            return rest[0] | {"enum": list(dict.fromkeys(form["const"] for form in forms))}
    raise ValueError(f"the case events disagree on the attribute {attribute}")
