"""``ecuapass-gateway dlq replay``: send selected dead letters back to the input topic, with a loop guard.

The dead-letter topic is read from its beginning up to where it ended when the command started; letters are
selected by time range (the dead letter's timestamp), error class, reason and case id. Each replayed record keeps
its bytes, its key and the original record's headers byte for byte (the ``dlq.*`` headers and a ``content-type`` the
gateway added are left out, so a binary-mode CloudEvent comes back as it was sent), gets ``ecuapass.replay.count``
one higher and ``ecuapass.replayed.from`` (its DLQ coordinates), and the gateway carries both onto any new dead
letter. A letter already replayed ``max_replays`` times is copied to
the quarantine topic instead: it is set aside for a person, never looped. A letter counts as replayed or quarantined
only once the broker confirmed the write; when the broker stops taking writes halfway, the report says which letters
failed and which were not sent (the command exits 3), and running it again picks them up.

Letters that were replayed and failed again (a newer letter names them in ``ecuapass.replayed.from``) and letters
already quarantined are skipped, so running the command twice does not multiply work. A letter replayed with
success may be replayed again: that is harmless, since filings and outcomes are idempotent.

Letters of records that were too large (``dlq.reason`` ``too_large``) keep only the record's first 4 KiB: replaying
them would only turn them into ``not_json`` letters; letters of ``unreadable`` ranges hold no record at all. Neither
is ever replayed; the report lists them as unreplayable, and the publisher must send the events again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.kafka import headers as h
from gateway.kafka import records
from gateway.kafka.reading import read_to_end
from gateway.kafka.records import Received
from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings

Action = Literal["replay", "quarantine"]
# Reasons whose letters do not hold the whole record (the pipeline cuts records that are too large; an unreadable
# range's letter holds none).
TRUNCATED = frozenset({"too_large", "unreadable"})


@dataclass(frozen=True, slots=True)
class Selection:
    since: datetime | None = None
    until: datetime | None = None
    error_classes: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    case_ids: frozenset[str] = frozenset()

    def matches(self, letter: Received) -> bool:
        when = _when(letter)
        about = letter.letter
        return (
            (self.since is None or when >= self.since)
            and (self.until is None or when < self.until)
            and (not self.error_classes or about.error_class in self.error_classes)
            and (not self.reasons or about.reason in self.reasons)
            and (not self.case_ids or letter.case_id in self.case_ids)
        )


@dataclass
class Report:
    scanned: int = 0
    replayed: list[Received] = field(default_factory=list)
    quarantined: list[Received] = field(default_factory=list)
    unreplayable: list[Received] = field(default_factory=list)  # truncated: the record is not there
    failed: list[tuple[Received, BaseException]] = field(default_factory=list)  # sent, never confirmed
    not_sent: list[Received] = field(default_factory=list)  # chosen, left unsent after a failure

    @property
    def complete(self) -> bool:
        """Every chosen letter replayed or quarantined, each confirmed by the broker."""
        return not self.failed and not self.not_sent


async def replay(
    settings: Settings,
    selection: Selection,
    *,
    max_replays: int = 3,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Report:
    """Replay the selected dead letters (or, with ``dry_run``, only say what would be done)."""
    letters = await read_records(settings, settings.topics.dlq)
    done_with = {letter.replayed_from for letter in letters}
    done_with |= {q.letter.quarantined_from for q in await read_records(settings, settings.topics.quarantine)}
    chosen = [
        letter for letter in letters if selection.matches(letter) and _coordinates(settings, letter) not in done_with
    ]
    report = Report(scanned=len(letters))
    report.unreplayable = [letter for letter in chosen if letter.letter.reason in TRUNCATED]
    chosen = [letter for letter in chosen if letter.letter.reason not in TRUNCATED]
    if dry_run:
        for done, letter in enumerate(chosen, start=1):
            (report.quarantined if _action(letter, max_replays) == "quarantine" else report.replayed).append(letter)
            progress(done, len(chosen))
        return report
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        acks="all",
        linger_ms=5,
        request_timeout_ms=settings.kafka.request_timeout_ms,  # aiokafka's own default is 40 s
        **client_security(settings.kafka),
    )
    async with kafka_errors(settings.kafka):  # the broker gone since the read: exit 3, not a traceback
        await producer.start()
    try:
        await _publish(producer, settings, chosen, report, max_replays, progress)
    finally:
        await producer.stop()
    return report


def _action(letter: Received, max_replays: int) -> Action:
    return "quarantine" if letter.replays >= max_replays else "replay"


async def _publish(
    producer: AIOKafkaProducer,
    settings: Settings,
    chosen: list[Received],
    report: Report,
    max_replays: int,
    progress: Callable[[int, int], None],
) -> None:
    """Send every chosen letter, then count each as replayed or quarantined only once the broker confirmed it. The
    first send the producer refuses stops the sending (the broker is most likely gone: the next would only wait as
    long); that letter and those not sent are ``report.failed`` and ``report.not_sent``."""
    sent: list[tuple[Received, Action, asyncio.Future[Any]]] = []
    for done, letter in enumerate(chosen, start=1):
        action = _action(letter, max_replays)
        topic = settings.topics.quarantine if action == "quarantine" else settings.topics.input
        try:
            sent.append(
                (
                    letter,
                    action,
                    await producer.send(
                        topic, letter.value, key=letter.key, headers=_headers(settings, letter, action)
                    ),
                )
            )
        except KafkaError as exc:
            report.failed.append((letter, exc))
            report.not_sent = chosen[done:]
            break
        progress(done, len(chosen))
    confirmations = await asyncio.gather(*(future for _, _, future in sent), return_exceptions=True)
    for (letter, action, _), confirmation in zip(sent, confirmations, strict=True):
        if isinstance(confirmation, BaseException):
            report.failed.append((letter, confirmation))
        else:
            (report.quarantined if action == "quarantine" else report.replayed).append(letter)


def _coordinates(settings: Settings, letter: Received) -> str:
    return f"{settings.topics.dlq}:{letter.partition}:{letter.offset}"


def _headers(settings: Settings, letter: Received, action: Action) -> list[tuple[str, bytes | None]]:
    coordinates = _coordinates(settings, letter).encode()
    if action == "quarantine":
        return [*letter.raw_headers, (h.DLQ_QUARANTINED_FROM, coordinates)]
    replayed = (h.REPLAY_COUNT, h.REPLAYED_FROM)
    # What the record had when it was consumed: the gateway's additions out. It adds a content-type only where the
    # record had none, and always application/octet-stream, under which no event is read differently from none.
    kept = [
        (key, value)
        for key, value in letter.raw_headers
        if not key.startswith(h.DLQ_PREFIX)
        and key not in replayed
        and not (key == h.CONTENT_TYPE and value == h.OCTET_STREAM.encode())
    ]
    return [*kept, (h.REPLAY_COUNT, str(letter.replays + 1).encode()), (h.REPLAYED_FROM, coordinates)]


async def read_records(settings: Settings, topic: str) -> list[Received]:
    """Every record of ``topic`` (dead letters, or quarantined ones) up to its end when called, in partition and
    offset order."""
    (found,) = await read_to_end(settings, [topic])
    return [records.received("dead-letter", record) for record in sorted(found, key=lambda r: (r.partition, r.offset))]


def describe(letters: Iterable[Received]) -> list[str]:
    return [
        f"{letter.partition}:{letter.offset}  {_when(letter):%Y-%m-%d %H:%M:%S}  "
        f"{letter.letter.reason or '?':<18} {letter.letter.error_class or '?':<24} "
        f"case {letter.case_id or '-'}  replays {letter.replays}"
        for letter in letters
    ]


def _when(letter: Received) -> datetime:
    """When the letter was written (records read from Kafka always say)."""
    return letter.timestamp or datetime.fromtimestamp(0, tz=UTC)
