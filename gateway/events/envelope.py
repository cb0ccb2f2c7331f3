"""The CloudEvents 1.0 envelope (structured JSON mode) every case event and outcome travels in.

Context attributes are the spec's (``specversion``, ``id``, ``source``, ``type``, ``subject``, ``time``,
``datacontenttype``, ``dataschema``) plus two extensions of ours: ``sender`` (RUC of the agency or exporter that
publishes) and ``correlationid``; case events may also carry ``partitionkey`` (the CloudEvents partitioning
extension), which must then equal the ``subject``. The case id is the ``subject`` and the Kafka key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from gateway.events.common import Model, Ruc, xml_text

CaseId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
# Identifiers are echoed in outcomes, headers and logs: printable characters only.
EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"), AfterValidator(xml_text)
]
SourceUri = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f\s]+$"), AfterValidator(xml_text)
]

JsonContentType = Annotated[str, StringConstraints(pattern=r"^application/json(; ?charset=(utf|UTF)-8)?$")]

SCHEMA_PREFIX = "urn:ecuapass-gateway:schema:"


class CloudEvent(Model):
    """Attributes common to every event; subclasses pin ``type``, ``dataschema`` and ``data``."""

    specversion: Literal["1.0"] = Field(description="CloudEvents version.")
    id: EventId = Field(description="Unique per source; the gateway answers by it.")
    source: SourceUri = Field(description="URI of the system that published the event.")
    type: str
    subject: CaseId = Field(description="Case id: one outward-processing case. Also the Kafka key.")
    time: AwareDatetime = Field(description="When the event happened (RFC 3339 with offset).")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: EventId | None = Field(None, description="Correlation id, echoed on the outcome.")


class CaseData(Protocol):
    """What the ``data`` of every case event holds, whatever its document."""

    @property
    def local_reference(self) -> str: ...


class CaseEventBase(CloudEvent):
    """An event from an agency back-end asking for a document to be filed."""

    if TYPE_CHECKING:  # each event class declares its own ``data`` field, a model with a local reference
        data: CaseData

    sender: Ruc = Field(description="RUC of the agency or exporter that publishes the event.")
    # Binary-mode producers send their Kafka content-type here, often with the charset: JSON is UTF-8 anyway.
    datacontenttype: JsonContentType = Field(  # type: ignore[assignment]  # wider than the outcomes' Literal
        "application/json", description="Media type of data: application/json (a UTF-8 charset parameter allowed)."
    )
    partitionkey: CaseId | None = Field(
        None, description="CloudEvents partitioning extension: when sent, the case id (equal to subject)."
    )

    @field_validator("partitionkey")
    @classmethod
    def _partition_key_is_the_case(cls, value: str | None, info: ValidationInfo) -> str | None:
        subject = info.data.get("subject")
        if value is not None and subject is not None and value != subject:
            raise PydanticCustomError(
                "partition_key_mismatch",
                "partitionkey {value} differs from subject {subject}",
                {"value": value, "subject": subject},
            )
        return value
