"""Customs-initiated notifications, pulled: the mock drives a case on after its warehouse entry and serves what it
notifies as a feed, over real HTTP.

The mock's clock is a ``ManualClock`` (``create_app(clock=...)``): notifications are published when the clock passes
their time, so a test moves the clock and reads at once, and nothing sleeps. One test runs the dev pace on a clock
that moves with real time, waited for with ``eventually_sync``. Every feed read goes through the contract's
``read_feed`` (lxml, ``notifications.xsd``); one test validates the bytes with xmlschema as well.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema

from ecuapass_mock.feed import FeedSettings
from ecuapass_mock.lifecycle import LifecycleSettings
from ecuapass_mock.scenarios import scenario
from ecuapass_mock.server import MockServer
from gateway import documents
from gateway.contract.feed import FeedGone, FeedPage, read_feed
from gateway.contract.notifications import ECUADOR, InspectionAppointment, InspectionResult, Notification, Observation
from gateway.contract.replies import read_reply
from gateway.contract.schemas import schema
from gateway.documents import decode
from gateway.resources import xsd_dir
from gateway.tools.examples import Example
from tests.harness.waiting import eventually_sync

HEADERS = {"Content-Type": "application/xml"}
START = datetime(2026, 12, 5, 9, 0, tzinfo=ECUADOR)  # the examples' authorization is valid then
TOKEN_UNO = "t0ken-uno-never-shown"
TOKEN_DOS = "t0ken-dos-never-shown"
# Timings of the tests (seconds): distinct enough to tell every step apart.
LIFECYCLE = LifecycleSettings(
    automatic_exit_s=60,
    review_start_s=60,
    electronic_review_s=120,
    documentary_review_s=180,
    inspection_notice_s=30,
    inspection_lead_s=3600,
    inspection_s=600,
    exit_after_s=300,
    answer_within_s=86400,
    delay_factor=10,
)
_numbers = itertools.count(1)


class ManualClock:
    """The mock's clock, standing still until the test moves it on."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        """Set the clock to ``seconds`` after ``START``."""
        self.now = START + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Case:
    case_id: str
    dae_message_id: str
    entry_message_id: str
    dae_number: str
    entry_number: str
    channel: str


class Mock:
    """A running mock, its clock and a client, with the steps the tests repeat."""

    def __init__(self, server: MockServer, clock: ManualClock, examples: dict[str, Example]) -> None:
        self.server = server
        self.clock = clock
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self._examples = examples

    def file(self, name: str, reference: str, numbers: dict[str, str], token: str | None = None, **data: Any) -> Any:
        """File one example as a new document (its own event id and reference); its reply, accepted. ``subject``
        (in ``data``): the case id of the event, the document's ``cmn:CaseId``."""
        reply = read_reply(self.post(name, reference, numbers, token, **data).content)
        assert reply.status == "ACCEPTED", reply
        return reply

    def post(
        self, name: str, reference: str, numbers: dict[str, str], token: str | None = None, **data: Any
    ) -> httpx.Response:
        """``POST /api/v1/documents`` of one example as a new document; ``prefer`` (in ``data``) as the header."""
        headers = _headers(token, HEADERS) | ({"Prefer": data.pop("prefer")} if "prefer" in data else {})
        event = json.loads(self._examples[name].payload(numbers))
        event["id"] = f"notifications-test-{next(_numbers)}"
        if "subject" in data:
            event["subject"] = data.pop("subject")
        event["data"]["local_reference"] = reference
        event["data"].update(data)
        body = documents.build(decode(json.dumps(event).encode())).to_bytes()
        return self.http.post("/api/v1/documents", content=body, headers=headers)

    def case(
        self, suffix: str = "", *, dae_suffix: str = "", token: str | None = None, entry_token: str | None = None
    ) -> Case:
        """An authorization, its DAE and the DAE's warehouse entry, accepted; ``suffix`` ends the entry's reference
        (magic values), ``dae_suffix`` the DAE's."""
        n = next(_numbers)
        authorization = self.file("authorization-request/accepted/minimal", f"SOL-N-{n}", {}, token)
        assert authorization.acceptance is not None
        dae = self.file(
            "export-declaration/accepted/minimal",
            f"DAE-N-{n}{dae_suffix}",
            {"authorization-request/accepted/minimal": authorization.acceptance.official_number},
            token,
            subject=f"CASE-N-{n}",
        )
        assert dae.acceptance is not None
        entry = self.file(
            "warehouse-entry/accepted/minimal",
            f"ING-N-{n}{suffix}",
            {"export-declaration/accepted/minimal": dae.acceptance.official_number},
            token if entry_token is None else entry_token,
            entry_time=(self.clock.now - timedelta(hours=1)).isoformat(),
            subject=f"CASE-N-{n}",
        )
        assert entry.acceptance is not None and entry.acceptance.inspection_channel is not None
        return Case(
            f"CASE-N-{n}",
            dae.message_id,
            entry.message_id,
            dae.acceptance.official_number,
            entry.acceptance.official_number,
            entry.acceptance.inspection_channel,
        )

    def feed(self, after: str = "0", limit: int | None = None, token: str | None = None) -> FeedPage:
        answer = self.read(after, limit, token)
        assert isinstance(answer, FeedPage), answer
        return answer

    def read(self, after: str = "0", limit: int | None = None, token: str | None = None) -> FeedPage | FeedGone:
        response = self.raw(after, limit, token)
        assert response.status_code in (200, 410), response.text
        assert response.headers["content-type"].startswith("application/xml")
        answer = read_feed(response.content)
        assert isinstance(answer, FeedGone) == (response.status_code == 410)
        return answer

    def raw(self, after: str = "0", limit: int | None = None, token: str | None = None) -> httpx.Response:
        params = {"after": after} | ({"limit": str(limit)} if limit is not None else {})
        return self.http.get("/api/v1/notifications", params=params, headers=_headers(token))

    def of(self, message_id: str) -> list[Notification]:
        """Every notification of the feed about ``message_id`` (one page holds them all here)."""
        return [n for n in self.feed(limit=500).notifications if n.concerns.message_id == message_id]

    def inject(self, message_id: str, kind: str, **fields: Any) -> httpx.Response:
        return self.http.post("/admin/notifications", json={"message_id": message_id, "type": kind, **fields})


def _headers(token: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    return (base or {}) | ({"Authorization": f"Bearer {token}"} if token else {})


@pytest.fixture
def serve(tmp_path: Path, example_by_name: dict[str, Example]) -> Iterator[Callable[..., Mock]]:
    """Start mocks over a state file of the test (``MockServer`` options given), stopped at the end."""
    started: list[Mock] = []

    def start(clock: ManualClock | None = None, **options: Any) -> Mock:
        clock = clock or ManualClock()
        given: dict[str, Any] = {"lifecycle": LIFECYCLE, "clock": clock} | options
        mock = Mock(MockServer(tmp_path / "mock.sqlite3", **given).start(), clock, example_by_name)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.http.close()
        mock.server.stop()


@pytest.fixture
def mock(serve: Callable[..., Mock]) -> Mock:
    return serve()


def _types(notifications: list[Notification]) -> list[tuple[str, str]]:
    return [(n.type.code, n.recipient) for n in notifications]


CHANNEL_PATHS = {
    # magic value: (channel, [(seconds after the entry, type, recipient)])
    "AUTO": ("AUTOMATIC", [(60, "exit-authorized", "EXPORTER")]),
    "ELEC": ("ELECTRONIC", [(60, "review-started", "EXPORTER"), (180, "exit-authorized", "EXPORTER")]),
    "DOCS": ("DOCUMENTARY", [(60, "review-started", "EXPORTER"), (240, "exit-authorized", "EXPORTER")]),
    "PHYS": (
        "PHYSICAL",
        [
            (30, "inspection-scheduled", "EXPORTER"),
            (30, "inspection-scheduled", "WAREHOUSE"),
            (4230, "inspection-closed", "EXPORTER"),  # notice 30 + lead 3600 + inspection 600
            (4530, "exit-authorized", "EXPORTER"),  # + exit_after 300
        ],
    ),
}


@pytest.mark.parametrize("value", list(CHANNEL_PATHS))
def test_each_channel_ends_in_exit_authorized_step_by_step(mock: Mock, value: str) -> None:
    channel, path = CHANNEL_PATHS[value]
    case = mock.case(f"-{value}")
    assert case.channel == channel  # the entry's reply carries the forced channel
    assert mock.feed().notifications == ()
    for seconds in sorted({at for at, _, _ in path}):
        before = [step for step in path if step[0] < seconds]
        mock.clock.at(seconds - 1)
        assert len(mock.feed().notifications) == len(before)  # not a second early
        mock.clock.at(seconds)
        now = [step for step in path if step[0] <= seconds]
        served = mock.feed().notifications
        assert _types(list(served)) == [(kind, recipient) for _, kind, recipient in now]
        assert [n.issued_at for n in served] == [START + timedelta(seconds=at) for at, _, _ in now]
    served = mock.feed().notifications
    assert [n.sequence for n in served] == sorted(n.sequence for n in served)
    for notification in served:
        warehouse = notification.recipient == "WAREHOUSE"
        assert notification.concerns.case_id == case.case_id  # the filing header's cmn:CaseId, echoed
        assert notification.concerns.message_id == (case.entry_message_id if warehouse else case.dae_message_id)
        assert notification.concerns.document_type == ("warehouse-entry" if warehouse else "export-declaration")
        assert notification.concerns.declaration_number == case.dae_number
        assert notification.concerns.warehouse_entry_number == case.entry_number
        assert notification.issued_at.utcoffset() == timedelta(hours=-5)
    if channel == "PHYSICAL":
        scheduled = [n.details for n in served if n.type.code == "inspection-scheduled"]
        appointment = InspectionAppointment(
            START + timedelta(seconds=3630), "Depósito temporal OCE 05909371, Guayaquil marítimo"
        )
        assert scheduled == [appointment, appointment]
        assert served[2].details == InspectionResult(with_findings=False)


def test_an_observation_holds_the_exit_until_it_is_closed(mock: Mock) -> None:
    case = mock.case("-ELEC-OBS")
    early = mock.http.post(f"/admin/notifications/{case.dae_message_id}/close-observation")
    assert early.status_code == 409 and "not been raised" in early.json()["error"]
    mock.clock.at(180)  # review from 60 to 180
    served = mock.of(case.dae_message_id)
    assert _types(served)[-1] == ("observation-raised", "EXPORTER")
    observation = served[-1].details
    assert isinstance(observation, Observation) and "Revisión electrónica" in observation.text
    assert observation.answer_by == START + timedelta(seconds=180 + 86400)
    mock.clock.at(2 * 86400)  # two days on: still waiting for the answer, no exit
    assert [code for code, _ in _types(mock.of(case.dae_message_id))] == ["review-started", "observation-raised"]
    planned = mock.http.get(f"/admin/notifications/{case.entry_message_id}").json()["planned"]
    assert [(p["type"], p["held"]) for p in planned] == [("observation-closed", True), ("exit-authorized", True)]
    closed = mock.http.post(f"/admin/notifications/{case.entry_message_id}/close-observation")
    assert closed.status_code == 200 and closed.json()["released"] == 2
    assert _types(mock.of(case.dae_message_id))[-1] == ("observation-closed", "EXPORTER")
    mock.clock.at(2 * 86400 + 299)
    assert len(mock.of(case.dae_message_id)) == 3
    mock.clock.at(2 * 86400 + 300)
    assert [code for code, _ in _types(mock.of(case.dae_message_id))] == [
        "review-started",
        "observation-raised",
        "observation-closed",
        "exit-authorized",
    ]
    again = mock.http.post(f"/admin/notifications/{case.dae_message_id}/close-observation")
    assert again.status_code == 409 and again.json()["error"] == "the case has no open observation"


def test_a_physical_inspection_with_findings_raises_an_observation(mock: Mock) -> None:
    case = mock.case("-PHYS", dae_suffix="-FIND")  # the DAE's reference counts too
    mock.clock.at(10 * 86400)
    served = mock.of(case.dae_message_id)
    assert [code for code, _ in _types(served)] == ["inspection-scheduled", "inspection-closed", "observation-raised"]
    result, observation = served[1].details, served[2].details
    assert isinstance(result, InspectionResult) and result.with_findings and result.findings
    assert isinstance(observation, Observation) and "bultos" in observation.text
    assert served[1].issued_at == served[2].issued_at == START + timedelta(seconds=4230)


def test_findings_change_nothing_outside_a_physical_inspection(mock: Mock) -> None:
    case = mock.case("-DOCS-FIND")
    mock.clock.at(86400)
    assert [code for code, _ in _types(mock.of(case.dae_message_id))] == ["review-started", "exit-authorized"]


def test_delay_multiplies_every_timing(mock: Mock) -> None:
    delayed, plain = mock.case("-AUTO-DELAY"), mock.case("-AUTO")
    mock.clock.at(599)
    assert [n.concerns.message_id for n in mock.feed().notifications] == [plain.dae_message_id]
    mock.clock.at(600)  # 60 s times the delay factor 10
    assert [n.concerns.message_id for n in mock.feed().notifications] == [plain.dae_message_id, delayed.dae_message_id]


def test_silent_cases_notify_nothing(mock: Mock) -> None:
    silent, control = mock.case("-PHYS-SILENT"), mock.case("-PHYS")
    mock.clock.at(10 * 86400)
    served = mock.feed().notifications
    assert len(served) == 4 and {n.concerns.declaration_number for n in served} == {control.dae_number}
    assert mock.http.get(f"/admin/notifications/{silent.dae_message_id}").json() == {"notifications": [], "planned": []}


def test_timings_start_when_a_two_stage_decision_becomes_visible(serve: Callable[..., Mock]) -> None:
    mock = serve(decision_delay_s=100)
    authorization = mock.file("authorization-request/accepted/minimal", "SOL-N-TWO-STAGE", {})
    dae = mock.file(
        "export-declaration/accepted/minimal",
        "DAE-N-TWO-STAGE",
        {"authorization-request/accepted/minimal": authorization.acceptance.official_number},
    )
    received = mock.post(
        "warehouse-entry/accepted/minimal",
        "ING-N-TWO-STAGE-AUTO",
        {"export-declaration/accepted/minimal": dae.acceptance.official_number},
        prefer="respond-async",
        entry_time=(START - timedelta(hours=1)).isoformat(),
    )
    assert received.status_code == 202
    mock.clock.at(159)  # decided at 100, exit 60 s later
    assert mock.feed().notifications == ()
    mock.clock.at(160)
    assert [n.type.code for n in mock.feed().notifications] == ["exit-authorized"]


def test_admin_injection_appears_in_the_feed(mock: Mock) -> None:
    case = mock.case("-AUTO")
    mock.clock.at(5)
    answer = mock.inject(case.dae_message_id, "observation-raised", text="Justifique el valor declarado.")
    assert answer.status_code == 201, answer.text
    injected = answer.json()
    assert injected["notification_id"].startswith("NTF-") and injected["issued_at"] == "2026-12-05T09:00:05-05:00"
    for_entry = mock.inject(case.entry_message_id, "inspection-scheduled", place="Patio 3").json()
    decision = mock.inject(case.dae_message_id, "correction-accepted", remark="Corrección aprobada.").json()
    served = mock.feed().notifications
    assert [n.notification_id for n in served] == [
        injected["notification_id"],
        for_entry["notification_id"],
        decision["notification_id"],
    ]
    observation, appointment, accepted = served
    assert observation.details == Observation("Justifique el valor declarado.", START + timedelta(seconds=5 + 86400))
    assert (appointment.recipient, appointment.concerns.message_id) == ("WAREHOUSE", case.entry_message_id)
    assert appointment.details == InspectionAppointment(START + timedelta(seconds=3605), "Patio 3")
    assert (accepted.type.status_group, accepted.remark, accepted.details) == (
        "in-progress",
        "Corrección aprobada.",
        None,
    )
    listed = mock.http.get(f"/admin/notifications/{case.dae_message_id}").json()
    assert [n["type"] for n in listed["notifications"]] == ["observation-raised", "correction-accepted"]
    assert [(p["type"], p["held"]) for p in listed["planned"]] == [("exit-authorized", False)]  # unchanged by them


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"type": "no-such-type"}, 422),
        ({"type": "exit-authorized", "text": "an observation's text"}, 422),
        ({"type": "observation-raised", "text": "x" * 513}, 422),
        ({"type": "observation-raised", "text": "control \x01 character"}, 422),
        ({"type": "observation-raised", "answer_by": "2026-12-06T12:00:00"}, 422),  # no offset
        ({"type": "exit-authorized", "surprise": 1}, 422),
        ({"type": "exit-authorized", "message_id": "00000000-0000-4000-8000-000000000000"}, 404),
    ],
)
def test_admin_injection_refuses_what_the_feed_could_not_carry(mock: Mock, fields: dict[str, Any], status: int) -> None:
    case = mock.case("-AUTO")
    answer = mock.http.post("/admin/notifications", json={"message_id": case.dae_message_id} | fields)
    assert answer.status_code == status, answer.text
    assert mock.feed().notifications == ()  # nothing half-published


def test_only_a_case_of_a_dae_can_be_notified(mock: Mock) -> None:
    authorization = mock.file("authorization-request/accepted/minimal", "SOL-N-ALONE", {})
    assert mock.inject(authorization.message_id, "exit-authorized").status_code == 404


def test_pages_cursors_and_re_reading(serve: Callable[..., Mock]) -> None:
    mock = serve(feed=FeedSettings(page_size=3, max_page_size=4))
    case = mock.case("-AUTO")
    ids = [mock.inject(case.dae_message_id, "review-started").json()["notification_id"] for _ in range(7)]
    first = mock.feed()  # the page size by default
    assert ([n.notification_id for n in first.notifications], first.more) == (ids[:3], True)
    second = mock.feed(first.next, limit=100)  # capped at the largest page
    assert ([n.notification_id for n in second.notifications], second.more) == (ids[3:7], False)
    assert second.after == first.next and second.next == str(second.notifications[-1].sequence)
    empty = mock.feed(second.next)
    assert (empty.notifications, empty.next, empty.more) == ((), second.next, False)
    again = mock.feed(first.next, limit=2)
    assert [n.notification_id for n in again.notifications] == ids[3:5] and again.more
    assert [n.notification_id for n in mock.feed(limit=4).notifications] == ids[:4]
    later = mock.inject(case.dae_message_id, "review-started").json()
    assert [n.notification_id for n in mock.feed(second.next).notifications] == [later["notification_id"]]
    for after, limit in (("-1", None), ("abc", None), ("0", 0), ("0", -2), ("1" * 30, None)):
        response = mock.raw(after, limit)
        assert response.status_code == 400 and "error" in response.json(), (after, limit)


def test_a_cursor_older_than_the_retention_period_is_gone(serve: Callable[..., Mock]) -> None:
    mock = serve(feed=FeedSettings(retention_days=1))
    case = mock.case("-AUTO")
    mock.clock.at(60)  # exit-authorized
    old = mock.inject(case.dae_message_id, "correction-accepted").json()
    mock.clock.at(86400 + 61)  # a day later both are gone
    recent = mock.inject(case.dae_message_id, "correction-refused").json()
    gone = mock.read("0")
    assert isinstance(gone, FeedGone) and gone.oldest == str(old["sequence"]) and gone.after == "0"
    assert "1 días" in gone.description
    page = mock.feed(gone.oldest)
    assert [n.notification_id for n in page.notifications] == [recent["notification_id"]]
    assert isinstance(mock.read(str(old["sequence"] - 1)), FeedGone)


def test_each_agency_reads_only_the_notifications_of_its_own_filings(serve: Callable[..., Mock]) -> None:
    mock = serve(require_token={"uno": TOKEN_UNO, "dos": TOKEN_DOS})
    mine = mock.case("-AUTO", token=TOKEN_UNO)
    theirs = mock.case("-AUTO", token=TOKEN_DOS)
    shared = mock.case("-PHYS", token=TOKEN_UNO, entry_token=TOKEN_DOS)  # the warehouse files with its own token
    mock.clock.at(100)
    uno, dos = mock.feed(token=TOKEN_UNO).notifications, mock.feed(token=TOKEN_DOS).notifications
    assert {n.concerns.message_id for n in uno} == {mine.dae_message_id, shared.dae_message_id}
    assert {n.concerns.message_id for n in dos} == {theirs.dae_message_id, shared.entry_message_id}
    assert _types([n for n in uno if n.concerns.message_id == shared.dae_message_id]) == [
        ("inspection-scheduled", "EXPORTER")
    ]
    assert _types([n for n in dos if n.concerns.message_id == shared.entry_message_id]) == [
        ("inspection-scheduled", "WAREHOUSE")
    ]
    assert mock.raw().status_code == 401
    assert mock.raw(token="not-a-token").status_code == 401
    assert mock.http.get("/admin/clients").json()[shared.entry_message_id] == "dos"


def test_without_authentication_every_notification_is_served(mock: Mock) -> None:
    first, second = mock.case("-AUTO"), mock.case("-ELEC")
    mock.clock.at(60)
    assert {n.concerns.message_id for n in mock.feed().notifications} == {first.dae_message_id, second.dae_message_id}


def test_a_restart_keeps_notifications_and_plans(serve: Callable[..., Mock]) -> None:
    clock = ManualClock()
    before = serve(clock)
    case = before.case("-PHYS")
    before.clock.at(30)  # the two appointments are out, the rest is planned
    served = before.feed().notifications
    before.http.close()
    before.server.stop()
    after = serve(clock)  # the same state file
    assert after.feed().notifications == served
    clock.at(4530)
    resumed = after.feed(str(served[-1].sequence)).notifications
    assert [n.type.code for n in resumed] == ["inspection-closed", "exit-authorized"]
    assert min(n.sequence for n in resumed) > max(n.sequence for n in served)
    assert {n.concerns.message_id for n in resumed} == {case.dae_message_id}


def test_ids_are_never_reused_even_after_a_reset(mock: Mock) -> None:
    case = mock.case("-AUTO")
    first = mock.inject(case.dae_message_id, "review-started").json()
    assert mock.http.post("/admin/reset").status_code == 200
    assert mock.feed().notifications == ()
    again = mock.case("-AUTO")
    second = mock.inject(again.dae_message_id, "review-started").json()
    assert second["sequence"] > first["sequence"] and second["notification_id"] != first["notification_id"]


def test_what_the_mock_serves_validates_with_xmlschema_and_parses_into_typed_records(mock: Mock) -> None:
    mock.case("-PHYS-FIND")
    mock.case("-ELEC-OBS")
    mock.clock.at(5000)
    independent = xmlschema.XMLSchema(str(xsd_dir() / "notifications.xsd"))
    page = mock.raw(limit=100)
    assert page.status_code == 200
    independent.validate(page.content.decode())  # raises with the reason when invalid
    from lxml import etree

    assert schema("notifications").validate(etree.fromstring(page.content))
    assert b"-05:00</ntf:IssuedAt>" in page.content
    parsed = read_feed(page.content)
    assert isinstance(parsed, FeedPage)
    kinds = {type(n.details) for n in parsed.notifications}
    assert kinds == {InspectionAppointment, InspectionResult, Observation, type(None)}
    for notification in parsed.notifications:
        assert notification.type.carries(notification.details)
        assert notification.notification_id == f"NTF-{notification.sequence:012d}"
    mock.clock.at(30 * 86400)  # everything past the 14 days of retention
    gone = mock.raw("0")
    assert gone.status_code == 410
    independent.validate(gone.content.decode())
    assert isinstance(read_feed(gone.content), FeedGone)


def test_the_dev_pace_runs_on_real_time(serve: Callable[..., Mock]) -> None:
    started = time.monotonic()

    class RunningClock(ManualClock):
        def __call__(self) -> datetime:
            return START + timedelta(seconds=time.monotonic() - started)

    mock = serve(RunningClock(), lifecycle=LifecycleSettings())  # dev pace: exit 2 s after an automatic entry
    case = mock.case("-AUTO")

    def exit_authorized() -> None:
        assert [n.type.code for n in mock.of(case.dae_message_id)] == ["exit-authorized"]

    eventually_sync(exit_authorized, timeout_s=15)


def test_magic_values_are_dash_separated_parts_after_the_first() -> None:
    assert scenario("ING-2026-0001-phys-Find") == scenario("ING-PHYS", "DAE-FIND")
    chosen = scenario("ING-PHYS-FIND")
    assert (chosen.channel, chosen.findings, chosen.observation) == ("PHYSICAL", True, False)
    assert scenario("OBS-1", "DAE-OBSERVE", "ING-2026-0001-B") == scenario()
    assert scenario("ING-ELEC-AUTO", "DAE-PHYS").channel == "ELECTRONIC"  # the first one found wins
    assert scenario("X-DELAY-SILENT").delayed and scenario("X-DELAY-SILENT").silent
