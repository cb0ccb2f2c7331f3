"""What the gateway answers for every consumed event: exactly one of these three.

- ``Acknowledgment`` (acks topic): customs accepted the document; carries the official numbers.
- ``Rejection`` (rejections topic): the gateway (contract) or customs (reception, validation, business rules)
  refused the document; carries every error with its code, field path, value and messages.
- ``DeadLetter`` (DLQ topic): the record could not be processed at all; carries the original bytes and why.

Acknowledgments and rejections are CloudEvents whose ``id`` is derived from the answered event, so a redelivered
event produces the same outcome id and consumers can deduplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.events.envelope import CloudEvent
from gateway.events.validation import FieldError

_OUTCOME_NAMESPACE = uuid.UUID("6b1f3f0e-6c8f-5d59-9a54-2f6e1f0c51a0")


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Answer(_Value):
    answered_event_id: str
    answered_event_type: str
    case_id: str
    document: str | None = Field(None, description="Which e-document: authorization-request, …")
    local_reference: str | None = None
    message_id: str | None = Field(None, description="Id the document was filed under (idempotency key).")


class AcknowledgmentData(_Answer):
    submission_number: str = Field(description="21-digit reception number (número de entrega).")
    official_number: str = Field(description="Authorization, DAE or warehouse-entry number.")
    received_at: AwareDatetime
    accepted_at: AwareDatetime
    valid_until: date | None = Field(None, description="Last day an authorization can be used.")
    inspection_channel: str | None = Field(None, description="Channel assigned on warehouse entry.")
    warnings: tuple[FieldError, ...] = ()


class RejectionData(_Answer):
    stage: Literal["CONTRACT", "RECEPTION", "VALIDATION", "BUSINESS"] = Field(
        description="CONTRACT: refused by the gateway before filing; others: by customs."
    )
    rejected_by: Literal["gateway", "customs"]
    submission_number: str | None = None
    errors: tuple[FieldError, ...] = Field(min_length=1)


class Acknowledgment(CloudEvent):
    type: Literal["ecuapass.gateway.document-accepted.v1"] = "ecuapass.gateway.document-accepted.v1"
    dataschema: Literal["urn:ecuapass-gateway:schema:document-accepted:1"] = (
        "urn:ecuapass-gateway:schema:document-accepted:1"
    )
    data: AcknowledgmentData


class Rejection(CloudEvent):
    type: Literal["ecuapass.gateway.document-rejected.v1"] = "ecuapass.gateway.document-rejected.v1"
    dataschema: Literal["urn:ecuapass-gateway:schema:document-rejected:1"] = (
        "urn:ecuapass-gateway:schema:document-rejected:1"
    )
    data: RejectionData


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record the gateway could not process, kept byte for byte with the reason."""

    value: bytes
    key: bytes | None
    reason: str
    error_class: str
    detail: str
    first_failure: datetime
    attempts: int = 1
    case_id: str | None = None
    event_type: str | None = None  # when the record was a known event (delivery failures)
    document: str | None = None


Outcome = Acknowledgment | Rejection | DeadLetter


def outcome_id(answered_event_source: str, answered_event_id: str, outcome: str) -> str:
    """Deterministic: the same answered event and outcome always give the same id."""
    return str(uuid.uuid5(_OUTCOME_NAMESPACE, f"{outcome}\x1f{answered_event_source}\x1f{answered_event_id}"))
