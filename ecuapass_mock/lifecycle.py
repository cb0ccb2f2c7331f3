"""What customs does after it accepts a warehouse entry, per inspection channel, and when: the plan of the case's
notifications (regime51.md §6; what each type means and how sure we are: ``gateway/contract/notifications.py``).

    AUTOMATIC     exit-authorized                                       (no review [G])
    ELECTRONIC    review-started -> exit-authorized                     (the e-data reviewed [G])
    DOCUMENTARY   review-started -> exit-authorized                     (the digitised documents reviewed [G])
    PHYSICAL      inspection-scheduled, twice: to the exporter (about the DAE) and to the warehouse (about the
                  entry), as the officer notifies each separately [C]  ->  inspection-closed  ->  exit-authorized

With an observation (``-OBS``; on PHYSICAL also findings, ``-FIND``: ours [G], findings are what the user must
justify), the review's end or the inspection's closing raises ``observation-raised`` instead of leading to the exit,
and the rest is held until the observation is closed (``POST /admin/notifications/{id}/close-observation``; the
exporter's answer is a document of a later issue): then ``observation-closed`` at once, ``exit-authorized`` after
``exit_after``. ``-DELAY`` stretches every timing, ``-SILENT`` plans nothing (``scenarios.py``).

The whole plan is made when the entry is accepted and committed with it (``store.py``); each notification is
published once the mock's clock passes its time (``outbox.py``), so tests move a ``ManualClock`` instead of sleeping
and a restart loses nothing. Times count from when the entry's acceptance is visible (after the decision delay of a
two-stage reply). The timings are ours [G]: SENAE publishes none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ecuapass_mock.outbox import Draft, encode
from ecuapass_mock.scenarios import Scenario, scenario
from ecuapass_mock.store import Accepted, FilingStore, Planned
from gateway.contract import notifications as ntf
from gateway.contract.codelists import DISTRICTS
from gateway.contract.documents import EXPORT_DECLARATION, WAREHOUSE_ENTRY
from gateway.contract.notifications import Concerns, Details, InspectionAppointment, InspectionResult, Observation


@dataclass(frozen=True, slots=True)
class Timings:
    """How long each step takes (ours [G])."""

    automatic_exit: timedelta  # automatic channel: from the entry to exit authorised
    review_start: timedelta  # electronic and documentary: from the entry to the review's start
    electronic_review: timedelta  # from the review's start to its end
    documentary_review: timedelta
    inspection_notice: timedelta  # physical: from the entry to the inspection's appointment
    inspection_lead: timedelta  # from the appointment to the inspection's date and time
    inspection: timedelta  # from the inspection's start to its closing
    exit_after: timedelta  # from the inspection's closing, or the observation's, to exit authorised
    answer_within: timedelta  # the deadline of an observation, from when it is raised

    def scaled(self, factor: float) -> Timings:
        return Timings(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


def _seconds(**values: float) -> Timings:
    return Timings(**{name: timedelta(seconds=value) for name, value in values.items()})


HOUR, DAY = 3600, 86400
PACES: dict[str, Timings] = {
    # The dev stack and demos: a whole case in seconds.
    "dev": _seconds(
        automatic_exit=2,
        review_start=1,
        electronic_review=2,
        documentary_review=3,
        inspection_notice=1,
        inspection_lead=2,
        inspection=2,
        exit_after=1,
        answer_within=60,
    ),
    # A plausible working pace: hours for reviews, the next day for a physical inspection.
    "realistic": _seconds(
        automatic_exit=15 * 60,
        review_start=1 * HOUR,
        electronic_review=4 * HOUR,
        documentary_review=1 * DAY,
        inspection_notice=2 * HOUR,
        inspection_lead=1 * DAY,
        inspection=2 * HOUR,
        exit_after=1 * HOUR,
        answer_within=5 * DAY,
    ),
}


class LifecycleSettings(BaseModel):
    """``MOCK_LIFECYCLE__*``: the pace of customs after a warehouse entry; any step in seconds overrides the pace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pace: Literal["dev", "realistic"] = Field(
        "dev", description="Timings of every step: dev (seconds) or realistic (hours, a day for an inspection)."
    )
    automatic_exit_s: float | None = Field(None, ge=0, description="Automatic channel: entry to exit authorised.")
    review_start_s: float | None = Field(None, ge=0, description="Electronic, documentary: entry to review start.")
    electronic_review_s: float | None = Field(None, ge=0, description="Electronic review: start to end.")
    documentary_review_s: float | None = Field(None, ge=0, description="Documentary review: start to end.")
    inspection_notice_s: float | None = Field(None, ge=0, description="Physical: entry to the inspection's notice.")
    inspection_lead_s: float | None = Field(None, ge=0, description="Notice to the inspection's date and time.")
    inspection_s: float | None = Field(None, ge=0, description="Inspection's start to its closing.")
    exit_after_s: float | None = Field(None, ge=0, description="Inspection or observation closed to exit authorised.")
    answer_within_s: float | None = Field(None, ge=0, description="Deadline to answer an observation.")
    delay_factor: float = Field(10.0, ge=1, description="How much slower a case with -DELAY in a reference goes.")

    def timings(self, *, delayed: bool = False) -> Timings:
        """The pace's timings with the steps given here, stretched by ``delay_factor`` when ``delayed``."""
        given = {
            f.name: timedelta(seconds=value)
            for f in fields(Timings)
            if (value := getattr(self, f"{f.name}_s")) is not None
        }
        timings = replace(PACES[self.pace], **given)
        return timings.scaled(self.delay_factor) if delayed else timings


@dataclass(frozen=True, slots=True)
class Case:
    """A DAE and, once accepted, its warehouse entry: what the case's notifications concern, and whose feeds they
    go to (each filing's own filer)."""

    declaration: Accepted
    entry: Accepted | None = None

    @property
    def key(self) -> str:
        """The case in the planned table: its entry's message id (the DAE's before there is an entry)."""
        return (self.entry or self.declaration).message_id

    def concerns(self, filing: Accepted) -> Concerns:
        return Concerns(
            filing.case_id,
            filing.message_id,
            filing.kind,
            self.declaration.grant.number,
            self.entry.grant.number if self.entry else None,
        )

    def place(self) -> str:
        """Where a physical inspection takes place: the temporary warehouse the goods entered (ours [G])."""
        details = (self.entry or self.declaration).grant.details
        district = str(details.get("district", ""))
        where = DISTRICTS.get(district, district)
        oce = details.get("warehouse_oce_code")
        return f"Depósito temporal OCE {oce}, {where}" if oce else f"Zona primaria, {where}"


def case_of(store: FilingStore, message_id: str) -> Case | None:
    """The case of an accepted DAE or warehouse entry sent under ``message_id``; ``None`` for any other filing."""
    filing = store.accepted(message_id)
    if filing is not None and filing.kind == EXPORT_DECLARATION.name:
        entries = store.grants_under(filing.grant.number, WAREHOUSE_ENTRY.name)
        return Case(filing, store.accepted_grant(entries[0].number) if entries else None)
    if filing is not None and filing.kind == WAREHOUSE_ENTRY.name and filing.grant.parent:
        declaration = store.accepted_grant(filing.grant.parent)
        return Case(declaration, filing) if declaration is not None else None
    return None


@dataclass(frozen=True, slots=True)
class Step:
    """One planned notification about ``filing``: due at ``due``, or held (``due`` is ``None``) until the case's
    observation is closed and due ``after_close`` after that."""

    filing: Accepted
    draft: Draft
    due: datetime | None
    after_close: timedelta = timedelta(0)

    def planned(self, case: str) -> Planned:
        due = None if self.due is None else self.due.timestamp()
        client = self.filing.client
        return Planned(case, self.filing.message_id, client, due, self.after_close.total_seconds(), encode(self.draft))


def follow_up(store: FilingStore, settings: LifecycleSettings, filing: Accepted, start: datetime) -> list[Planned]:
    """The notifications a just-accepted filing sets off: the case's whole plan for a warehouse entry (``start``:
    when its acceptance becomes visible), nothing for any other filing."""
    if filing.kind != WAREHOUSE_ENTRY.name or not filing.grant.parent:
        return []
    declaration = store.accepted_grant(filing.grant.parent)
    if declaration is None:
        return []
    case = Case(declaration, filing)
    chosen = scenario(filing.reference, declaration.reference)
    steps = plan(case, chosen, settings.timings(delayed=chosen.delayed), start)
    return [step.planned(case.key) for step in steps]


def plan(case: Case, chosen: Scenario, t: Timings, start: datetime) -> list[Step]:
    """Every notification of ``case`` from ``start`` on, in order, by its entry's inspection channel."""
    if chosen.silent or case.entry is None:
        return []
    channel = case.entry.grant.details.get("inspection_channel")
    if channel == "PHYSICAL":
        return _physical(case, chosen, t, start)
    to_exporter = _Notifier(case, case.declaration)
    if channel in ("ELECTRONIC", "DOCUMENTARY"):
        review = start + t.review_start
        took = t.electronic_review if channel == "ELECTRONIC" else t.documentary_review
        steps = [to_exporter.step(ntf.REVIEW_STARTED, review)]
        if chosen.observation:
            return steps + _observed(to_exporter, review + took, t, REVIEW_OBSERVATIONS[channel])
        return [*steps, to_exporter.step(ntf.EXIT_AUTHORIZED, review + took)]
    return [to_exporter.step(ntf.EXIT_AUTHORIZED, start + t.automatic_exit)]


REVIEW_OBSERVATIONS = {  # ours [G]: what a simulated review finds
    "ELECTRONIC": "Revisión electrónica: el valor FOB declarado no coincide con la factura comercial; justifique la "
    "diferencia (observación simulada).",
    "DOCUMENTARY": "Revisión documental: la carta del exportador digitalizada es ilegible; preséntela de nuevo "
    "(observación simulada).",
}
FINDINGS = "Aforo físico: se encontraron dos bultos más de los declarados (hallazgo simulado)."
FINDINGS_OBSERVATION = "Justifique los bultos encontrados de más en el aforo físico (observación simulada)."
INSPECTION_OBSERVATION = "Aforo físico sin hallazgos; justifique la subpartida declarada (observación simulada)."


def _physical(case: Case, chosen: Scenario, t: Timings, start: datetime) -> list[Step]:
    assert case.entry is not None
    to_exporter, to_warehouse = _Notifier(case, case.declaration), _Notifier(case, case.entry, "WAREHOUSE")
    noticed = start + t.inspection_notice
    appointment = InspectionAppointment(noticed + t.inspection_lead, case.place())
    closed = appointment.scheduled_at + t.inspection
    result = InspectionResult(True, FINDINGS) if chosen.findings else InspectionResult(False)
    steps = [
        to_exporter.step(ntf.INSPECTION_SCHEDULED, noticed, appointment),
        to_warehouse.step(ntf.INSPECTION_SCHEDULED, noticed, appointment),
        to_exporter.step(ntf.INSPECTION_CLOSED, closed, result),
    ]
    if chosen.findings or chosen.observation:
        text = FINDINGS_OBSERVATION if chosen.findings else INSPECTION_OBSERVATION
        return steps + _observed(to_exporter, closed, t, text)
    return [*steps, to_exporter.step(ntf.EXIT_AUTHORIZED, closed + t.exit_after)]


def _observed(notifier: _Notifier, raised: datetime, t: Timings, text: str) -> list[Step]:
    """An observation raised at ``raised``, and what waits for it to be closed."""
    return [
        notifier.step(ntf.OBSERVATION_RAISED, raised, Observation(text, raised + t.answer_within)),
        notifier.held(ntf.OBSERVATION_CLOSED, timedelta(0)),
        notifier.held(ntf.EXIT_AUTHORIZED, t.exit_after),
    ]


@dataclass(frozen=True, slots=True)
class _Notifier:
    """Steps about one filing of the case, to one recipient."""

    case: Case
    filing: Accepted
    recipient: ntf.Recipient = "EXPORTER"

    def _draft(self, kind: ntf.NotificationType, details: Details | None) -> Draft:
        return Draft(kind, self.recipient, self.case.concerns(self.filing), details)

    def step(self, kind: ntf.NotificationType, due: datetime, details: Details | None = None) -> Step:
        return Step(self.filing, self._draft(kind, details), due)

    def held(self, kind: ntf.NotificationType, after_close: timedelta) -> Step:
        return Step(self.filing, self._draft(kind, None), None, after_close)
