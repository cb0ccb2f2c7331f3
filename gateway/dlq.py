"""``ecuapass-gateway dlq replay``: send selected dead letters back to the input topic, with a loop guard.

The dead-letter topic is read from its beginning up to where it ended when the command started; letters are
selected by time range (the dead letter's timestamp), error class, reason and case id. Each replayed record keeps
its bytes and key, gets ``ecuapass.replay.count`` one higher and ``ecuapass.replayed.from`` (its DLQ coordinates),
and the gateway carries both onto any new dead letter. A letter already replayed ``max_replays`` times is copied to
the quarantine topic instead: it is set aside for a person, never looped.

Letters that were replayed and failed again (a newer letter names them in ``ecuapass.replayed.from``) and letters
already quarantined are skipped, so running the command twice does not multiply work. A letter replayed with
success may be replayed again: that is harmless, since filings and outcomes are idempotent.

Letters of records that were too large (``dlq.reason`` ``too_large``) keep only the record's first 4 KiB: replaying
them would only turn them into ``not_json`` letters. They are never replayed; the report lists them as
unreplayable, and the publisher must send the event again (within ``GATEWAY_PROCESSING__MAX_EVENT_BYTES``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from aiokafka import AIOKafkaProducer, ConsumerRecord

from gateway.kafka.reading import read_to_end
from gateway.kafka.security import client_security
from gateway.kafka.service import REPLAY_COUNT, REPLAYED_FROM
from gateway.settings import Settings

Action = Literal["replay", "quarantine"]
# Reasons whose letters do not hold the whole record (the pipeline cuts records that are too large).
TRUNCATED = frozenset({"too_large"})


@dataclass(frozen=True, slots=True)
class Selection:
    since: datetime | None = None
    until: datetime | None = None
    error_classes: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    case_ids: frozenset[str] = frozenset()

    def matches(self, letter: DeadLetterRecord) -> bool:
        when = letter.timestamp
        return (
            (self.since is None or when >= self.since)
            and (self.until is None or when < self.until)
            and (not self.error_classes or letter.headers.get("dlq.error.class") in self.error_classes)
            and (not self.reasons or letter.headers.get("dlq.reason") in self.reasons)
            and (not self.case_ids or letter.case_id in self.case_ids)
        )


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def case_id(self) -> str | None:
        original = self.headers.get("dlq.original.key")
        return original if original is not None else (self.key.decode("utf-8", "replace") if self.key else None)

    @property
    def replays(self) -> int:
        try:
            return int(self.headers.get(REPLAY_COUNT, "0"))
        except ValueError:
            return 0


@dataclass
class Report:
    scanned: int = 0
    replayed: list[DeadLetterRecord] = field(default_factory=list)
    quarantined: list[DeadLetterRecord] = field(default_factory=list)
    unreplayable: list[DeadLetterRecord] = field(default_factory=list)  # truncated: the record is not there


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
    done_with = {letter.headers.get(REPLAYED_FROM) for letter in letters}
    done_with |= {
        q.headers.get("dlq.quarantined.from") for q in await read_records(settings, settings.topics.quarantine)
    }
    chosen = [
        letter for letter in letters if selection.matches(letter) and _coordinates(settings, letter) not in done_with
    ]
    report = Report(scanned=len(letters))
    report.unreplayable = [letter for letter in chosen if letter.headers.get("dlq.reason") in TRUNCATED]
    chosen = [letter for letter in chosen if letter.headers.get("dlq.reason") not in TRUNCATED]
    producer = None
    if not dry_run:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            acks="all",
            linger_ms=5,
            **client_security(settings.kafka),
        )
        await producer.start()
    try:
        for done, letter in enumerate(chosen, start=1):
            action: Action = "quarantine" if letter.replays >= max_replays else "replay"
            (report.quarantined if action == "quarantine" else report.replayed).append(letter)
            if producer is not None:
                topic = settings.topics.quarantine if action == "quarantine" else settings.topics.input
                await producer.send(topic, letter.value, key=letter.key, headers=_headers(settings, letter, action))
            progress(done, len(chosen))
        if producer is not None:
            await producer.flush()
    finally:
        if producer is not None:
            await producer.stop()
    return report


def _coordinates(settings: Settings, letter: DeadLetterRecord) -> str:
    return f"{settings.topics.dlq}:{letter.partition}:{letter.offset}"


def _headers(settings: Settings, letter: DeadLetterRecord, action: Action) -> list[tuple[str, bytes]]:
    coordinates = _coordinates(settings, letter)
    if action == "quarantine":
        kept = dict(letter.headers) | {"dlq.quarantined.from": coordinates}
    else:
        kept = {k: v for k, v in letter.headers.items() if k == "traceparent"}
        kept |= {REPLAY_COUNT: str(letter.replays + 1), REPLAYED_FROM: coordinates}
    return [(k, v.encode()) for k, v in kept.items()]


async def read_records(settings: Settings, topic: str) -> list[DeadLetterRecord]:
    """Every record of ``topic`` up to its end when called, in partition and offset order."""
    (records,) = await read_to_end(settings, [topic])
    return [_letter(record) for record in sorted(records, key=lambda r: (r.partition, r.offset))]


def _letter(record: ConsumerRecord) -> DeadLetterRecord:
    return DeadLetterRecord(
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, tz=UTC),
        key=record.key,
        value=record.value or b"",
        headers={k: v.decode("utf-8", "replace") for k, v in record.headers or ()},
    )


def describe(letters: Iterable[DeadLetterRecord]) -> list[str]:
    return [
        f"{letter.partition}:{letter.offset}  {letter.timestamp:%Y-%m-%d %H:%M:%S}  "
        f"{letter.headers.get('dlq.reason', '?'):<18} {letter.headers.get('dlq.error.class', '?'):<24} "
        f"case {letter.case_id or '-'}  replays {letter.replays}"
        for letter in letters
    ]
