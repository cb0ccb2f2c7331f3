"""The test-support side of notifications: the body of ``POST /admin/notifications`` and the JSON the admin routes
answer about notifications (``admin.py``).

An injection names the filing (``message_id`` of an accepted DAE or warehouse entry) and the type (a code of the
catalogue, ``gateway/contract/notifications.py``); the rest is optional. Details default from the case and the
lifecycle's timings: an inspection at the warehouse the goods entered, ``inspection_lead`` from now; an observation
due ``answer_within`` from now; an inspection closed without findings. The recipient defaults to the warehouse for
an entry, to the exporter for a DAE. Details of another type than the one named are refused (422).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ecuapass_mock.lifecycle import Case, Timings
from ecuapass_mock.outbox import Draft, decode, details_json
from ecuapass_mock.store import Accepted, Planned
from gateway.contract.documents import WAREHOUSE_ENTRY
from gateway.contract.notifications import (
    BY_CODE,
    ECUADOR,
    Details,
    DetailsKind,
    InspectionAppointment,
    InspectionResult,
    Notification,
    NotificationType,
    Observation,
    Recipient,
)

Text = Annotated[str, Field(min_length=1, max_length=512)]  # cmn:TextType
INJECTED_OBSERVATION = "Observación de prueba, inyectada por POST /admin/notifications."
_FIELDS: dict[DetailsKind, frozenset[str]] = {
    InspectionAppointment: frozenset({"scheduled_at", "place"}),
    InspectionResult: frozenset({"with_findings", "findings"}),
    Observation: frozenset({"text", "answer_by"}),
}


class Injection(BaseModel):
    """What to publish: the filing and the type, then the details of that type and a remark, all optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str
    type: str
    recipient: Recipient | None = None
    scheduled_at: AwareDatetime | None = None
    place: Text | None = None
    with_findings: bool | None = None
    findings: Text | None = None
    text: Text | None = None
    answer_by: AwareDatetime | None = None
    remark: Text | None = None

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BY_CODE:
            raise ValueError(f"unknown notification type {value!r}; the catalogue has {', '.join(BY_CODE)}")
        return value

    @model_validator(mode="after")
    def _details_of_its_type(self) -> Injection:
        kind = BY_CODE[self.type].details
        given = {name for fields in _FIELDS.values() for name in fields if getattr(self, name) is not None}
        foreign = given - (_FIELDS[kind] if kind is not None else frozenset())
        if foreign:
            raise ValueError(f"a {self.type} notification carries no {', '.join(sorted(foreign))}")
        return self

    def draft(self, case: Case, filing: Accepted, now: datetime, timings: Timings) -> Draft:
        """The notification to publish about ``filing`` of ``case``, details filled in as of ``now``."""
        kind = BY_CODE[self.type]
        recipient = self.recipient or ("WAREHOUSE" if filing.kind == WAREHOUSE_ENTRY.name else "EXPORTER")
        return Draft(kind, recipient, case.concerns(filing), self._details(kind, case, now, timings), self.remark)

    def _details(self, kind: NotificationType, case: Case, now: datetime, timings: Timings) -> Details | None:
        if kind.details is InspectionAppointment:
            return InspectionAppointment(self.scheduled_at or now + timings.inspection_lead, self.place or case.place())
        if kind.details is InspectionResult:
            return InspectionResult(bool(self.with_findings), self.findings)
        if kind.details is Observation:
            return Observation(self.text or INJECTED_OBSERVATION, self.answer_by or now + timings.answer_within)
        return None


def as_json(notification: Notification) -> dict[str, Any]:
    return {
        "notification_id": notification.notification_id,
        "sequence": notification.sequence,
        "type": notification.type.code,
        "issued_at": notification.issued_at.astimezone(ECUADOR).isoformat(timespec="seconds"),
        "recipient": notification.recipient,
        "concerns": asdict(notification.concerns),
        "details": details_json(notification.details),
        "remark": notification.remark,
    }


def planned_json(planned: Planned) -> dict[str, Any]:
    """A notification still to come: its type and filing, and when (``None`` while held behind an observation)."""
    draft = decode(planned.body)
    due = None if planned.due is None else datetime.fromtimestamp(planned.due, ECUADOR).isoformat(timespec="seconds")
    return {
        "type": draft.type.code,
        "recipient": draft.recipient,
        "message_id": planned.message_id,
        "due_at": due,
        "held": planned.due is None,
    }
