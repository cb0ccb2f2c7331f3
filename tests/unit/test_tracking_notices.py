"""``case`` shows customs' notifications among the outcomes: a record of the notifications topic read back as a
``Notice``, printed in time order with the outcomes, its JSON line telling itself apart (``kind``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from gateway.contract.notifications import EXIT_AUTHORIZED, Concerns, Notification
from gateway.intake import records
from gateway.settings import TopicSettings
from gateway.tools.tracking import Printer
from gateway.tools.tracking.entries import Entry
from gateway.tools.tracking.notices import masked_notice, notice_from_record

AT = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
EXIT = Notification(
    "NTF-000000000008",
    8,
    EXIT_AUTHORIZED,
    AT,
    "EXPORTER",
    Concerns("CASE-1", "5b1e7f02-8c43-4d19-a6e5-0f2d9c7b3a14", "export-declaration", "028-2026-51-00000001"),
)


def _record() -> ConsumerRecord:
    out = records.published(EXIT, TopicSettings(), source="urn:ecuapass-gateway", feed="1790011674001", cursor="7")
    return ConsumerRecord(out.topic, 0, 0, 0, 0, out.key, out.value, None, 0, 0, out.headers)


def test_a_notification_record_reads_back_as_a_notice_its_feed_masked() -> None:
    notice = notice_from_record(_record())
    assert notice is not None
    assert (notice.case_id, notice.notification_type, notice.status_group) == ("CASE-1", "exit-authorized", "completed")
    assert notice.event_id == records.event_id("NTF-000000000008") and notice.time == AT
    assert notice.feed == "1790011674001" and masked_notice(notice).feed == "**********001"  # masked when shown
    assert notice_from_record(ConsumerRecord("t", 0, 0, 0, 0, None, b"no json", None, 0, 0, [])) is None


def test_the_case_timeline_shows_notifications_among_outcomes_in_time_order() -> None:
    notice = notice_from_record(_record())
    assert notice is not None
    earlier = Entry(time=AT - timedelta(hours=1), outcome="accepted", case_id="CASE-1", official_number="028-X")
    for json_lines in (False, True):
        stream = io.StringIO()
        Printer(json_lines=json_lines, stream=stream).case("CASE-1", [earlier], [notice])
        shown = stream.getvalue()
        if json_lines:
            first, second = (json.loads(line) for line in shown.splitlines())
            assert first["outcome"] == "accepted" and "notification" not in first
            assert second["notification"] == "exit-authorized" and "outcome" not in second
            assert second["feed"] == "**********001"
        else:
            assert "1 customs notification" in shown
            assert shown.index("ACCEPTED") < shown.index("NOTIFIED") < shown.index("exit-authorized")
