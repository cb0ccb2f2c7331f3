"""What became of a case's documents, read back from the outcome topics: the core of ``case`` and ``tail``.

An operations tool beside ``gateway/tools/dlq.py``: it only reads Kafka, never the input topic and never customs.

- ``case_timeline(settings, case_id)`` reads the acknowledgments, rejections and dead-letter topics from their
  beginning up to where they ended when called (every partition, one group-less consumer), keeps the records of
  one case (Kafka key, or the ``dlq.original.key`` header of a dead letter) and returns them in time
  order: the outcome's CloudEvents ``time``, or the record timestamp of a dead letter.
- ``follow(settings)`` follows the same three topics live (from their current end, or from their beginning) with
  the demo's group-less ``OutcomeReader`` and yields each outcome as it arrives, until cancelled. On Tansu, which
  reports a partition's end one record batch early, following "from now on" may first show the last outcomes
  already there.
- Both read records through the one decoder of outcome records (``gateway.kafka.records.received``): a dead
  letter's time is its record timestamp, or the ``dlq.last.failure`` header the gateway sets when it has none.
- ``Entry`` is one outcome whatever its kind; acknowledgments and rejections are deduplicated by their outcome
  ``id`` (a redelivered event gets the same one), dead letters are all kept.
- ``Printer`` renders entries for a person (rich: one block per entry, coloured by kind, official numbers and
  error codes in bold) or as JSON lines for pipes (one object per entry, always the same keys in the same order).

Masking, in both renderings: values a back-end may have put personal or tax identifiers in are masked so that only
their last three characters remain (``1790011674001`` -> ``**********001``):

- the value of an error or warning whose field is an identifier (``ruc``, ``sender``, ``cedula``, ``…_ruc``,
  ``…_cedula``), whatever its shape, and every occurrence of that value in the error's messages;
- in every other error or warning value (tariff codes excepted: they are 10 digits too), in every error message
  and in a dead letter's detail, any standalone run of 10 digits (a cédula) or 13 digits (a RUC).

Case ids, event and message ids, references, submission and official numbers are printed as they are. ``Entry``
objects themselves are never masked: ``masked(entry)`` is applied when rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from gateway.devstack.demo import OutcomeReader
from gateway.documents import BY_EVENT_TYPE
from gateway.kafka import records
from gateway.kafka.headers import REPLAY_COUNT
from gateway.kafka.reading import read_to_end, reading_errors
from gateway.kafka.records import KINDS, Kind, Received
from gateway.kafka.security import kafka_errors
from gateway.runtime.logs import mask
from gateway.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning of an outcome, as the gateway published it."""

    code: str
    path: str
    message_es: str
    message_en: str = ""
    value: Any = None
    pointer: str | None = None
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class Entry:
    """One outcome of a case: an acceptance, a rejection or a dead letter. Fields that do not apply are ``None``."""

    time: datetime
    kind: Kind
    case_id: str | None
    document: str | None = None
    event_id: str | None = None  # the answered event (for a dead letter: the record's id, when it had one)
    event_type: str | None = None
    outcome_id: str | None = None
    local_reference: str | None = None
    message_id: str | None = None
    submission_number: str | None = None
    official_number: str | None = None
    valid_until: str | None = None
    inspection_channel: str | None = None
    stage: str | None = None
    rejected_by: str | None = None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    reason: str | None = None
    error_class: str | None = None
    attempts: int | None = None
    detail: str | None = None
    original_record: str | None = None  # topic:partition:offset of the input record a dead letter keeps
    replay_count: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field, always, in declaration order (``None`` when it does not apply)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif spec.name in ("errors", "warnings"):
                value = [{f.name: getattr(problem, f.name) for f in fields(problem)} for problem in value]
            out[spec.name] = value
        return out


# -- reading --------------------------------------------------------------------------------------------------


async def case_timeline(settings: Settings, case_id: str) -> list[Entry]:
    """Every outcome known for ``case_id`` up to now, oldest first (empty: nothing is known about the case)."""
    contents = await read_to_end(settings, _topics(settings))
    seen = _Seen()
    entries: list[Entry] = []
    for kind, found in zip(KINDS, contents, strict=True):
        for record in found:
            received = records.received(kind, record)
            if received.case_id != case_id:
                continue
            entry = entry_from_record(received)
            if entry is not None and seen.first(entry):
                entries.append(entry)
    return sorted(entries, key=lambda entry: entry.time)


async def follow(
    settings: Settings, *, from_beginning: bool = False, on_ready: Callable[[], None] | None = None
) -> AsyncGenerator[Entry, None]:
    """Outcomes of every case as they arrive (from the topics' current end unless ``from_beginning``), until
    cancelled. ``on_ready`` is called once the reader holds its position: outcomes published after it are seen."""
    reader = OutcomeReader(settings)
    try:
        async with reading_errors(settings.kafka, "follow the outcome topics"), kafka_errors(settings.kafka):
            await reader.start(from_beginning=from_beginning)
        if on_ready is not None:
            on_ready()
        seen = _Seen()
        while True:
            for received in await reader.read(timeout_ms=500):
                entry = entry_from_record(received)
                if entry is not None and seen.first(entry):
                    yield entry
    finally:
        await reader.stop()


async def tail(
    settings: Settings,
    printer: Printer,
    *,
    until: Awaitable[None],
    from_beginning: bool = False,
    notice: Callable[[str], None] | None = None,
) -> None:
    """Print outcomes as they arrive until ``until`` completes (a stop signal) or the reader of stdout goes away."""
    say = notice or (lambda text: print(text, file=sys.stderr, flush=True))
    topics = ", ".join(_topics(settings))
    where = "from their beginning" if from_beginning else "from now on"

    async def pump() -> None:
        entries = follow(
            settings, from_beginning=from_beginning, on_ready=lambda: say(f"following {topics} {where}; Ctrl-C stops")
        )
        async with contextlib.aclosing(entries):
            async for entry in entries:
                printer.show(entry)

    pumping = asyncio.create_task(pump(), name="tail")
    stopping = asyncio.ensure_future(until)
    try:
        await asyncio.wait({pumping, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, stopping):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
        with contextlib.suppress(asyncio.CancelledError, BrokenPipeError):
            await pumping  # re-raises what stopped it, unless the cancellation or a closed stdout


def entry_from_record(received: Received) -> Entry | None:
    """An outcome record as an ``Entry``; ``None`` (logged) for an acknowledgment or rejection that is not one."""
    kind, key, timestamp = received.kind, received.key, received.timestamp
    replays = _int(received.headers.get(REPLAY_COUNT))
    if kind == "dead-letter":
        return _dead_letter(received, replays)
    body = _json(received.value)
    data = body.get("data") if body is not None else None
    if body is None or not isinstance(data, dict):
        log.warning("skipping a record of the %s topic that is not an outcome CloudEvent", kind)
        return None
    when = _time(body.get("time")) or timestamp or datetime.now(UTC)
    event_type = _str(data.get("answered_event_type"))
    common = Entry(
        time=when,
        kind=kind,
        case_id=_str(body.get("subject")) or _str(data.get("case_id")) or _text(key),
        document=_str(data.get("document")) or _document(event_type),  # contract rejections name no document
        event_id=_str(data.get("answered_event_id")),
        event_type=event_type,
        outcome_id=_str(body.get("id")),
        local_reference=_str(data.get("local_reference")),
        message_id=_str(data.get("message_id")),
        submission_number=_str(data.get("submission_number")),
        warnings=_problems(data.get("warnings")),
        replay_count=replays,
    )
    if kind == "accepted":
        return replace(
            common,
            official_number=_str(data.get("official_number")),
            valid_until=_str(data.get("valid_until")),
            inspection_channel=_str(data.get("inspection_channel")),
        )
    return replace(
        common,
        stage=_str(data.get("stage")),
        rejected_by=_str(data.get("rejected_by")),
        errors=_problems(data.get("errors")),
    )


def _dead_letter(received: Received, replays: int | None) -> Entry:
    event = _json(received.value) or {}  # a delivery failure keeps a valid event: say which one
    event_type = _str(event.get("type"))
    data = event.get("data")
    letter = received.letter
    return Entry(
        time=received.timestamp or letter.last_failure or datetime.now(UTC),
        kind="dead-letter",
        case_id=received.case_id or _str(event.get("subject")),
        document=_document(event_type),
        event_id=_str(event.get("id")),
        event_type=event_type,
        local_reference=_str(data.get("local_reference")) if isinstance(data, dict) else None,
        reason=letter.reason,
        error_class=letter.error_class,
        attempts=letter.attempts,
        detail=letter.detail,
        original_record=letter.original_record,
        replay_count=replays,
    )


def _document(event_type: str | None) -> str | None:
    kind = BY_EVENT_TYPE.get(event_type or "")
    return kind.name if kind is not None else None


def _topics(settings: Settings) -> list[str]:
    """The outcome topics, in the order of ``KINDS``."""
    return list(records.kinds(settings.topics))


class _Seen:
    """Outcome ids already yielded (the most recent 10 000): a redelivered event's outcome is shown once."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._capacity = capacity

    def first(self, entry: Entry) -> bool:
        if entry.outcome_id is None:
            return True
        key = (entry.kind, entry.outcome_id)
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


def _json(value: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _problems(value: object) -> tuple[Problem, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        Problem(
            code=_str(item.get("code")) or "?",
            path=_str(item.get("path")) or "",
            message_es=_str(item.get("message_es")) or "",
            message_en=_str(item.get("message_en")) or "",
            value=item.get("value"),
            pointer=_str(item.get("pointer")),
            severity=_str(item.get("severity")) or "error",
        )
        for item in value
        if isinstance(item, dict)
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# -- masking --------------------------------------------------------------------------------------------------

_IDENTIFIER_FIELDS = frozenset({"ruc", "sender", "cedula"})
_LAST_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[\d+\])*$")


def mask_identifier(value: str) -> str:
    """All but the last three characters hidden: ``1790011674001`` -> ``**********001``."""
    return "*" * max(len(value) - 3, 0) + value[-3:] if len(value) > 3 else "*" * len(value)


def masked(entry: Entry) -> Entry:
    """``entry`` as it may be printed (see the module docstring for what is masked)."""
    return replace(
        entry,
        errors=tuple(_masked_problem(problem) for problem in entry.errors),
        warnings=tuple(_masked_problem(problem) for problem in entry.warnings),
        detail=mask(entry.detail) if entry.detail is not None else None,
    )


def _field_name(path: str) -> str:
    match = _LAST_SEGMENT.search(path)
    return match.group(1) if match else ""


def _is_identifier(name: str) -> bool:
    return name in _IDENTIFIER_FIELDS or name.endswith(("_ruc", "_cedula"))


def _masked_problem(problem: Problem) -> Problem:
    name = _field_name(problem.path)
    message_es, message_en = mask(problem.message_es), mask(problem.message_en)
    if _is_identifier(name):
        raw = problem.value
        value = _masked_value(raw, identifier=True)
        if isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw):
            message_es = message_es.replace(str(raw), str(value))
            message_en = message_en.replace(str(raw), str(value))
    elif name == "tariff_code":
        value = problem.value  # a tariff code has 10 digits but names no one
    else:
        value = _masked_value(problem.value, identifier=False)
    return replace(problem, value=value, message_es=message_es, message_en=message_en)


def _masked_value(value: Any, *, identifier: bool) -> Any:
    if isinstance(value, dict):
        return {k: _masked_value(v, identifier=identifier or _is_identifier(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_value(item, identifier=identifier) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str | int | float):
        text = str(value)
        hidden = mask_identifier(text) if identifier else mask(text)
        return value if hidden == text else hidden
    return value


# -- rendering ------------------------------------------------------------------------------------------------

_STYLE: dict[Kind, str] = {"accepted": "green", "rejected": "red", "dead-letter": "magenta"}
_LABEL: dict[Kind, str] = {"accepted": "ACCEPTED", "rejected": "REJECTED", "dead-letter": "DEAD LETTER"}


def to_json_line(entry: Entry) -> str:
    """One masked entry as one line of JSON."""
    return json.dumps(masked(entry).to_json(), ensure_ascii=False)


def readable(entry: Entry) -> Text:
    """One masked entry as a block of text for a person."""
    entry = masked(entry)
    style = _STYLE[entry.kind]
    text = Text()
    text.append(entry.time.astimezone().isoformat(sep=" ", timespec="seconds"), style="dim")
    text.append("  ")
    text.append(f"{_LABEL[entry.kind]:<11}", style=f"bold {style}")
    text.append(f"  {entry.document or ('unreadable record' if entry.kind == 'dead-letter' else 'unknown document')}")
    if entry.case_id:
        text.append(f"  case {entry.case_id}", style="cyan")
    if entry.kind == "accepted":
        text.append("\n   number ")
        text.append(entry.official_number or "?", style=f"bold {style}")
        if entry.valid_until:
            text.append(f"  valid until {entry.valid_until}")
        if entry.inspection_channel:
            text.append("  inspection channel ")
            text.append(entry.inspection_channel, style="bold")
    elif entry.kind == "rejected":
        text.append(f"\n   by {entry.rejected_by or '?'} at stage ")
        text.append(entry.stage or "?", style="bold")
        for error in entry.errors:
            _problem_line(text, error, f"bold {style}")
    else:
        text.append("\n   reason ")
        text.append(entry.reason or "?", style=f"bold {style}")
        if entry.error_class:
            text.append(f" ({entry.error_class})")
        if entry.attempts is not None:
            text.append(f", {entry.attempts} attempt{'s' if entry.attempts != 1 else ''}")
        if entry.detail:
            text.append(f"\n   detail: {entry.detail}", style="dim")
        if entry.original_record:
            text.append(f"\n   input record {entry.original_record}", style="dim")
    for warning in entry.warnings:
        _problem_line(text, warning, "bold yellow", prefix="warning ")
    ids = [
        (label, value)
        for label, value in (
            ("ref", entry.local_reference),
            ("submission", entry.submission_number),
            ("message", entry.message_id),
        )
        if value
    ]
    if ids:
        text.append("\n   " + "  ".join(f"{label} {value}" for label, value in ids), style="dim")
    if entry.event_id or entry.event_type:
        text.append(f"\n   answers event {entry.event_id or '?'} ({entry.event_type or 'unknown type'})", style="dim")
    if entry.replay_count:
        text.append(f"\n   replayed from the dead letters {entry.replay_count} time(s)", style="yellow")
    return text


def _problem_line(text: Text, problem: Problem, style: str, prefix: str = "") -> None:
    text.append(f"\n   {prefix}")
    text.append(problem.code, style=style)
    text.append(f" at {problem.path or '(event)'}")
    if problem.value is not None:
        text.append(f" (value {json.dumps(problem.value, ensure_ascii=False)})")
    text.append(f": {problem.message_es}")


class Printer:
    """Writes entries to a stream (stdout by default): JSON lines, or the readable form."""

    def __init__(self, *, json_lines: bool, stream: TextIO | None = None) -> None:
        self._json = json_lines
        self._stream = stream if stream is not None else sys.stdout
        self._console = Console(file=self._stream, highlight=False, soft_wrap=True)
        self._shown = 0

    def show(self, entry: Entry) -> None:
        try:
            if self._json:
                self._stream.write(to_json_line(entry) + "\n")
            else:
                if self._shown:
                    self._console.print()
                self._console.print(readable(entry))
            self._stream.flush()
        except BrokenPipeError:
            # The reader went away (``| head``): point stdout at /dev/null so that exiting does not fail too.
            if self._stream is sys.stdout:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise
        self._shown += 1

    def case(self, case_id: str, entries: Sequence[Entry]) -> None:
        """A case's timeline: a heading and a block per entry, or only the JSON lines."""
        if not self._json:
            counts = ", ".join(f"{n} {kind}" for kind in KINDS if (n := _count(entries, kind)))
            heading = Text(f"Case {case_id}", style="bold")
            heading.append(f": {len(entries)} outcome{'s' if len(entries) != 1 else ''} ({counts})")
            self._console.print(heading)
            self._console.print()
        for entry in entries:
            self.show(entry)


def _count(entries: Iterable[Entry], kind: Kind) -> int:
    return sum(entry.kind == kind for entry in entries)
