"""``dlq replay-notifications`` on a real Tansu broker: a notification the intake could not read is dead-lettered
(and archived); once the code reads its type, the replay publishes it once, from the archive, under the id the
puller would have given; a second run and a dry run publish nothing; one that still does not read is left.

The intake runs in the test's process, its catalogue lacking ``review-started`` (``BY_CODE`` monkeypatched): that
notification is dead-lettered as ``unknown_type``, like a type customs added before the gateway knew it. The
catalogue restored, the code "learned" it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace

import httpx
import pytest
from aiokafka import ConsumerRecord

import gateway.contract.feed as feed_module
from adapters.http_notification_feed import HttpNotificationFeed
from gateway.contract.feed import FeedPage, write_feed
from gateway.contract.notifications import BY_CODE, REVIEW_STARTED
from gateway.devstack.broker import TansuBroker
from gateway.intake import records
from gateway.intake.service import Intake
from gateway.kafka import headers as h
from gateway.kafka.topics import ensure_topics
from gateway.settings import Settings
from gateway.tools.intake_replay import Selection, replay_notifications
from tests.harness.waiting import eventually
from tests.integration.test_intake import NOTICE, intake_settings, read_topic

LEARNED = "NTF-000000000002"  # review-started: unknown to the intake, then known
NEVER = "NTF-000000000003"  # goods-vanished: in no catalogue


async def _at_least(settings: Settings, topic: str, count: int) -> list[ConsumerRecord]:
    found = await read_topic(settings, topic)
    assert len(found) >= count, f"{len(found)} of {count} records on {topic}"
    return found


async def _dead_lettered(broker: TansuBroker, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The intake run over one page (an exit-authorized, a review-started it cannot read, a goods-vanished) until
    both unreadable ones are on the intake DLQ; the catalogue then restored."""
    notices = (
        NOTICE,
        replace(NOTICE, notification_id=LEARNED, sequence=2, type=REVIEW_STARTED),
        replace(NOTICE, notification_id=NEVER, sequence=3),
    )
    page = write_feed(FeedPage("0", "3", False, notices))
    third = page.index(NEVER.encode())
    page = page[:third] + page[third:].replace(b"exit-authorized", b"goods-vanished", 1)

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params["after"]
        served = page if after == "0" else write_feed(FeedPage(after, after, False, ()))
        return httpx.Response(200, content=served, headers={"content-type": "application/xml"})

    settings = intake_settings(broker.bootstrap_servers, "http://127.0.0.1:9")
    await ensure_topics(settings)
    with monkeypatch.context() as patched:
        patched.setattr(feed_module, "BY_CODE", {c: t for c, t in BY_CODE.items() if c != REVIEW_STARTED.code})
        transport = httpx.MockTransport(answer)
        feed = HttpNotificationFeed("default", settings.ecuapass, settings.intake, transport=transport)
        running = Intake(settings, [feed])
        await running.start()
        try:
            await eventually(lambda: _at_least(settings, settings.topics.intake_dlq, 2), 30)
            await eventually(lambda: _at_least(settings, settings.topics.notifications, 1), 10)
        finally:
            await running.stop()
    return settings


def _published(found: list[ConsumerRecord], notification_id: str) -> list[ConsumerRecord]:
    return [r for r in found if h.text(r.headers or (), h.NOTIFICATION_ID) == notification_id]


async def test_a_notification_the_code_learned_is_published_once_from_the_archive_with_the_pullers_id(
    broker: TansuBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await _dead_lettered(broker, monkeypatch)
    letters = await read_topic(settings, settings.topics.intake_dlq)
    archived = await read_topic(settings, settings.topics.archive)
    assert {h.text(r.headers or (), h.NOTIFICATION_ID) for r in archived} >= {LEARNED, NEVER}  # archived first
    (learned_letter,) = _published(letters, LEARNED)
    archived_at = h.text(learned_letter.headers or (), h.ARCHIVED_AT)
    at = {f"{r.topic}:{r.partition}:{r.offset}": r for r in archived}
    assert archived_at in at and h.text(at[archived_at].headers or (), h.NOTIFICATION_ID) == LEARNED

    dry = await replay_notifications(settings, Selection(), dry_run=True)
    assert [letter.notification_id for letter in dry.replayed] == [LEARNED]
    assert len(await read_topic(settings, settings.topics.notifications)) == 1  # the dry run published nothing

    report = await replay_notifications(settings, Selection())
    assert report.complete and report.scanned == 2
    assert [letter.notification_id for letter in report.replayed] == [LEARNED]
    (unread,) = report.unreadable
    assert (unread.letter.notification_id, unread.reason) == (NEVER, "unknown_type")
    published = await read_topic(settings, settings.topics.notifications)
    (replayed,) = _published(published, LEARNED)
    event = json.loads(replayed.value)
    assert event["id"] == records.event_id(LEARNED)  # the id the puller would have given
    assert event["source"] == records.intake_source(settings.source, "default")
    assert event["type"] == REVIEW_STARTED.cloudevent_type and replayed.key == NOTICE.concerns.case_id.encode()
    coordinates = f"{settings.topics.intake_dlq}:{learned_letter.partition}:{learned_letter.offset}"
    assert h.text(replayed.headers or (), h.REPLAYED_FROM) == coordinates

    again = await replay_notifications(settings, Selection())
    assert again.replayed == [] and [u.letter.notification_id for u in again.unreadable] == [NEVER]
    assert len(await read_topic(settings, settings.topics.notifications)) == 2  # published once
    by_reason = await replay_notifications(settings, Selection(reasons=frozenset({"invalid"})), dry_run=True)
    assert by_reason.replayed == [] and by_reason.unreadable == []


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    t = settings.topics
    env |= {
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "GATEWAY_TOPICS__ARCHIVE": t.archive,
        "GATEWAY_TOPICS__NOTIFICATIONS": t.notifications,
        "GATEWAY_TOPICS__INTAKE_DLQ": t.intake_dlq,
    }
    command = [sys.executable, "-m", "gateway", "dlq", "replay-notifications", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_the_command_says_what_it_publishes_and_exits_0_or_2(
    broker: TansuBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await _dead_lettered(broker, monkeypatch)
    dry = await asyncio.to_thread(_cli, settings, "--feed", "default", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(line.startswith("would publish: ") and LEARNED in line for line in lines), dry.stdout
    assert any(line.startswith("still unreadable (unknown_type: ") and NEVER in line for line in lines), dry.stdout
    assert lines[-1].startswith("2 intake dead letters scanned, 1 would publish")

    done = await asyncio.to_thread(_cli, settings)
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("published: ") and LEARNED in line for line in done.stdout.splitlines())
    again = await asyncio.to_thread(_cli, settings)
    assert again.returncode == 0 and "0 published" in again.stdout.splitlines()[-1], again.stdout
    assert len(_published(await read_topic(settings, settings.topics.notifications), LEARNED)) == 1

    mistake = await asyncio.to_thread(_cli, settings, "--reason", "no-such-reason")
    assert mistake.returncode == 2 and "invalid choice" in mistake.stderr
