"""What customs tells a case's parties on its own initiative, after a filing: the catalogue of notification types
and the typed records of a notification. The feed that carries them and its XML (``notifications.xsd``) are
``feed.py``.

The mock writes the feed (``ecuapass_mock/feed.py``) and the gateway's intake reads it, both with this module and
``feed.py``: one owner for the types, their CloudEvent types and status groups, and the XML both ways.

    NotificationType   one entry of ``CATALOGUE``: code, status group, source tag, meaning, details it carries
    Notification       one notification of the feed (id, sequence, type, time, recipient, what it concerns, details)

Each type carries the tag of ``shared/domain/regime51.md`` §6 for how sure we are that customs does this: [C]
confirmed, [L] likely, [G] ours. How Ecuapass hands notifications to software is not public: the feed itself, its
codes and its XML are ours [G] (``notifications.xsd`` says so). Adding a type is one entry here and its code in the
XSD's ``NotificationTypeCode`` (a test checks they match); a type with new details adds a record and an element to
the XSD's choice of details, so the later decisions (corrections, cancellation, extensions) fit without a new feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, get_args

StatusGroup = Literal["action-required", "in-progress", "completed", "rejected", "cancelled"]
STATUS_GROUPS: tuple[StatusGroup, ...] = get_args(StatusGroup)
Source = Literal["C", "L", "G"]
SOURCES: tuple[Source, ...] = get_args(Source)
Recipient = Literal["EXPORTER", "WAREHOUSE"]  # the exporter or its customs agent (the declarant), or the warehouse
#: Customs' time: mainland Ecuador, UTC-5 all year (no daylight saving time). [C]
ECUADOR = timezone(timedelta(hours=-5))


@dataclass(frozen=True, slots=True)
class InspectionAppointment:
    """The details of ``inspection-scheduled``: when and where the physical inspection takes place."""

    scheduled_at: datetime
    place: str


@dataclass(frozen=True, slots=True)
class InspectionResult:
    """The details of ``inspection-closed``: with or without findings, and which."""

    with_findings: bool
    findings: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """The details of ``observation-raised``: what the user must justify, and by when."""

    text: str
    answer_by: datetime


Details = InspectionAppointment | InspectionResult | Observation
DetailsKind = type[InspectionAppointment] | type[InspectionResult] | type[Observation]
DETAILS_ELEMENTS: dict[DetailsKind, str] = {
    InspectionAppointment: "Inspection",
    InspectionResult: "InspectionResult",
    Observation: "Observation",
}


@dataclass(frozen=True, slots=True)
class NotificationType:
    """One type of notification: ``code`` (kebab-case, the feed's ``Type``), the status group the case is in once
    it arrives, how sure we are customs does this (``source``), its meaning, and the details it carries."""

    code: str
    status_group: StatusGroup
    source: Source
    meaning: str
    details: DetailsKind | None = None

    @property
    def cloudevent_type(self) -> str:
        """The CloudEvent type the gateway's intake publishes it as."""
        return f"ecuapass.customs.{self.code}.v1"

    def carries(self, details: Details | None) -> bool:
        """Whether ``details`` are this type's (none for a type without details)."""
        return details is None if self.details is None else isinstance(details, self.details)


REVIEW_STARTED = NotificationType(
    "review-started",
    "in-progress",
    "G",  # §6: what the electronic and documentary channels do is not documented
    "An officer began reviewing the declaration: its e-data (electronic channel) or its digitised documents "
    "(documentary channel).",
)
INSPECTION_SCHEDULED = NotificationType(
    "inspection-scheduled",
    "action-required",
    "C",  # §6: the officer notifies date and time to the exporter and/or agent and to the warehouse
    "A physical inspection was appointed: the goods must be presented at its date, time and place.",
    InspectionAppointment,
)
INSPECTION_CLOSED = NotificationType(
    "inspection-closed",
    "in-progress",
    "C",  # §6: the officer records the result of the physical inspection
    "The physical inspection was closed, with or without findings.",
    InspectionResult,
)
OBSERVATION_RAISED = NotificationType(
    "observation-raised",
    "action-required",
    "C",  # §6: observations the user must justify (the deadline is ours)
    "Customs raised an observation the exporter must answer by a deadline.",
    Observation,
)
OBSERVATION_CLOSED = NotificationType(
    "observation-closed",
    "in-progress",
    "G",
    "Customs closed the observation; the case goes on.",
)
EXIT_AUTHORIZED = NotificationType(
    "exit-authorized",
    "completed",
    "L",  # §6: the state name "Salida autorizada" is confirmed, its use on the normal DAE likely
    "Exit of the goods authorised (salida autorizada): they may be shipped.",
)
# Decisions on documents of later issues: not emitted by the mock's lifecycle yet, but typed now.
CORRECTION_ACCEPTED = NotificationType(
    "correction-accepted",
    "in-progress",
    "L",  # §6: confirmed for import declarations, likely for export
    "An officer approved a correction of the declaration; it keeps its number.",
)
CORRECTION_REFUSED = NotificationType(
    "correction-refused", "rejected", "L", "An officer refused a correction of the declaration."
)
CANCELLATION_ACCEPTED = NotificationType(
    "cancellation-accepted", "cancelled", "L", "An officer accepted the cancellation of the declaration."
)
CANCELLATION_REFUSED = NotificationType(
    "cancellation-refused", "rejected", "L", "An officer refused the cancellation of the declaration."
)
EXTENSION_GRANTED = NotificationType(
    "extension-granted",
    "in-progress",
    "G",  # §6: how an extension is requested and decided was not found
    "Customs granted an extension (prórroga) of the time the goods may stay abroad.",
)
EXTENSION_REFUSED = NotificationType(
    "extension-refused", "rejected", "G", "Customs refused an extension of the time the goods may stay abroad."
)

CATALOGUE: tuple[NotificationType, ...] = (
    REVIEW_STARTED,
    INSPECTION_SCHEDULED,
    INSPECTION_CLOSED,
    OBSERVATION_RAISED,
    OBSERVATION_CLOSED,
    EXIT_AUTHORIZED,
    CORRECTION_ACCEPTED,
    CORRECTION_REFUSED,
    CANCELLATION_ACCEPTED,
    CANCELLATION_REFUSED,
    EXTENSION_GRANTED,
    EXTENSION_REFUSED,
)
BY_CODE: dict[str, NotificationType] = {entry.code: entry for entry in CATALOGUE}


def table() -> str:
    """The catalogue as a Markdown table (the README's, regenerated by ``make docs``)."""
    rows = ["| type | CloudEvent type | status group | source | details | meaning |", "|---|---|---|---|---|---|"]
    rows += [
        f"| `{t.code}` | `{t.cloudevent_type}` | {t.status_group} | [{t.source}] | "
        f"{DETAILS_ELEMENTS[t.details] if t.details else '—'} | {t.meaning} |"
        for t in CATALOGUE
    ]
    return "\n".join(rows)


@dataclass(frozen=True, slots=True)
class Concerns:
    """The case and filing a notification is about (case id, message id, document) and the official numbers of its
    case. ``case_id`` echoes the filing's header (``cmn:CaseId``): the gateway keys the notification by it."""

    case_id: str
    message_id: str
    document_type: str
    declaration_number: str
    warehouse_entry_number: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: str  # customs' id: stable, never reused (the intake's idempotency key)
    sequence: int  # position in the feed
    type: NotificationType
    issued_at: datetime
    recipient: Recipient
    concerns: Concerns
    details: Details | None = None
    remark: str | None = None
