"""``ecuapass-gateway dlq replay-notifications``: the intake's dead letters read again from the archive, and published
once they read.

The intake archives every notification before anything is made of it, readable or not, and its dead letter names
that archive record (``ecuapass.archived.at``). The command reads the intake's dead-letter topic, the archive topic
and the notifications topic from their beginning up to where they ended when it started; for each selected letter
(by feed, by reason) not yet replayed it finds the raw notification in the archive (by the coordinates the letter
names, else by notification id, feed and cursor, else by its raw bytes), reads it with today's code
(``gateway.contract.feed.read_notification``, the intake's own per-notification reader) and, when it now reads,
publishes its CloudEvent with the intake's encoder (``gateway.intake.records.published``): the same CloudEvent id as
the puller would have given (derived from customs' notification id), so a replay never makes a second id.

The replay is recorded on the published CloudEvent itself, ``ecuapass.replayed.from`` naming the letter's
coordinates: the publication and its record are one write, so a letter is never recorded as replayed without its
notification published. A letter counts as replayed only once the broker confirmed that write; running the command
again skips letters some CloudEvent names, so it never publishes twice. Letters that still do not read (or whose
notification is not in the archive: letters older than this rule, or whose archive record the broker refused) are
reported with their reason and left where they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from gateway.contract.feed import UnreadableNotification, read_notification
from gateway.errors import UnsafeXmlError
from gateway.intake import records
from gateway.kafka import headers as h
from gateway.kafka.reading import read_to_end
from gateway.kafka.records import OutboundRecord
from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class IntakeLetter:
    """One intake dead letter: where it is, what its headers say, and the raw notification it holds."""

    coordinates: str  # topic:partition:offset
    feed: str
    cursor: str
    notification_id: str | None
    reason: str
    detail: str
    archived: str | None  # the archive record's coordinates, when the puller wrote them
    raw: bytes


@dataclass(frozen=True, slots=True)
class Selection:
    """Which letters to replay: of these feeds, for these reasons (empty: all)."""

    feeds: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()

    def matches(self, letter: IntakeLetter) -> bool:
        return (not self.feeds or letter.feed in self.feeds) and (not self.reasons or letter.reason in self.reasons)


@dataclass(frozen=True, slots=True)
class Unread:
    """A letter whose notification still does not read today, and why."""

    letter: IntakeLetter
    reason: str
    detail: str


@dataclass
class Report:
    scanned: int = 0
    replayed: list[IntakeLetter] = field(default_factory=list)  # confirmed (or, dry run, would be)
    unreadable: list[Unread] = field(default_factory=list)  # still does not read: left
    not_archived: list[IntakeLetter] = field(default_factory=list)  # its notification is not in the archive: left
    failed: list[tuple[IntakeLetter, BaseException]] = field(default_factory=list)  # sent, never confirmed
    not_sent: list[IntakeLetter] = field(default_factory=list)  # readable, left unsent after a failure

    @property
    def complete(self) -> bool:
        """Every letter that reads now published, each confirmed by the broker."""
        return not self.failed and not self.not_sent


async def replay_notifications(settings: Settings, selection: Selection, *, dry_run: bool = False) -> Report:
    """Replay the selected intake dead letters whose notification now reads (``dry_run``: only say which would)."""
    topics = settings.topics
    letters_found, archived_found, published_found = await read_to_end(
        settings, [topics.intake_dlq, topics.archive, topics.notifications]
    )
    letters = [letter_of(record) for record in _in_order(letters_found)]
    done = replayed_letters(published_found)
    archive = Archive(_in_order(archived_found))
    report = Report(scanned=len(letters))
    ready: list[tuple[IntakeLetter, OutboundRecord]] = []
    for letter in letters:
        if selection.matches(letter) and letter.coordinates not in done:
            outbound = _reread(settings, letter, archive, report)
            if outbound is not None:
                ready.append((letter, outbound))
    if dry_run:
        report.replayed = [letter for letter, _ in ready]
        return report
    if ready:
        await _publish(settings, ready, report)
    return report


def letter_of(record: ConsumerRecord) -> IntakeLetter:
    """An intake dead letter as the puller wrote it (``gateway.intake.records.dead_letter``)."""
    named = record.headers or ()
    return IntakeLetter(
        coordinates=_coordinates(record),
        feed=h.text(named, h.FEED) or "",
        cursor=h.text(named, h.FEED_CURSOR) or "",
        notification_id=h.text(named, h.NOTIFICATION_ID),
        reason=h.text(named, h.DLQ_REASON) or "",
        detail=h.text(named, h.DLQ_DETAIL) or "",
        archived=h.text(named, h.ARCHIVED_AT),
        raw=record.value or b"",
    )


def replayed_letters(published: Iterable[ConsumerRecord]) -> set[str]:
    """The letters some CloudEvent of the notifications topic says it was replayed from: done, never again."""
    return {found for record in published if (found := h.text(record.headers or (), h.REPLAYED_FROM)) is not None}


class Archive:
    """The archive topic's notifications, found by coordinates, by notification id (and feed and cursor), or by
    their raw bytes: the letter's own copy is used only to find the archived one, never published from."""

    def __init__(self, archived: Sequence[ConsumerRecord]) -> None:
        self._at = {_coordinates(record): record for record in archived}
        self._by_id: dict[tuple[str | None, str | None, str | None], ConsumerRecord] = {}
        self._by_raw: dict[bytes, ConsumerRecord] = {}
        for record in archived:
            named = record.headers or ()
            where = (h.text(named, h.NOTIFICATION_ID), h.text(named, h.FEED), h.text(named, h.FEED_CURSOR))
            self._by_id.setdefault(where, record)  # the first archived: the one the letter was written after
            self._by_raw.setdefault(record.value or b"", record)

    def find(self, letter: IntakeLetter) -> bytes | None:
        """The raw notification the letter is about, as archived; ``None`` when the archive does not hold it."""
        found = self._at.get(letter.archived or "")
        if found is None and letter.notification_id is not None:
            found = self._by_id.get((letter.notification_id, letter.feed, letter.cursor))
        if found is None:
            found = self._by_raw.get(letter.raw)
        return None if found is None else found.value


def _reread(settings: Settings, letter: IntakeLetter, archive: Archive, report: Report) -> OutboundRecord | None:
    """The letter's CloudEvent when its archived notification reads today; otherwise ``None``, the report saying
    why (so the letter stays and is tried again on a later run)."""
    raw = archive.find(letter)
    if raw is None:
        report.not_archived.append(letter)
        return None
    try:
        item = read_notification(raw)
    except UnsafeXmlError as exc:
        report.unreadable.append(Unread(letter, "invalid", str(exc)))
        return None
    if isinstance(item, UnreadableNotification):
        report.unreadable.append(Unread(letter, item.reason, item.detail))
        return None
    try:
        return records.published(
            item,
            settings.topics,
            source=settings.source,
            feed=letter.feed,
            cursor=letter.cursor,
            replayed_from=letter.coordinates,
        )
    except ValidationError as exc:  # as the puller: no CloudEvent can be made of it
        report.unreadable.append(Unread(letter, "invalid", f"no CloudEvent can be made of it: {exc}"))
        return None


async def _publish(settings: Settings, ready: list[tuple[IntakeLetter, OutboundRecord]], report: Report) -> None:
    """Send every CloudEvent, then count a letter as replayed only once the broker confirmed its CloudEvent. The
    first send the producer refuses stops the sending (the broker is most likely gone); that letter and those not
    sent are ``report.failed`` and ``report.not_sent``: a later run picks them up."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        acks="all",
        linger_ms=5,
        request_timeout_ms=settings.kafka.request_timeout_ms,
        **client_security(settings.kafka),
    )
    async with kafka_errors(settings.kafka):  # the broker gone since the read: exit 3, not a traceback
        await producer.start()
    try:
        sent: list[tuple[IntakeLetter, asyncio.Future[Any]]] = []
        for done, (letter, record) in enumerate(ready, start=1):
            try:
                future = await producer.send(record.topic, record.value, key=record.key, headers=record.headers)
            except KafkaError as exc:
                report.failed.append((letter, exc))
                report.not_sent = [later for later, _ in ready[done:]]
                break
            sent.append((letter, future))
        confirmations = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
    finally:
        await producer.stop()
    for (letter, _), confirmation in zip(sent, confirmations, strict=True):
        if isinstance(confirmation, BaseException):
            report.failed.append((letter, confirmation))
        else:
            report.replayed.append(letter)


def describe(letters: Iterable[IntakeLetter]) -> list[str]:
    """A line per letter, for the command's output."""
    return [
        f"{letter.coordinates}  feed {letter.feed or '?'}  cursor {letter.cursor or '?'}  "
        f"{letter.notification_id or 'no id'}  {letter.reason or '?'}"
        for letter in letters
    ]


def _in_order(found: Iterable[ConsumerRecord]) -> list[ConsumerRecord]:
    return sorted(found, key=lambda record: (record.partition, record.offset))


def _coordinates(record: ConsumerRecord) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"
