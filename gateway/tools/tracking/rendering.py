"""How ``case`` and ``tail`` print outcomes: rich text for a person, or JSON lines for pipes.

Part of ``gateway.tools.tracking``: ``Printer`` renders the ``entries.Entry`` objects that ``reading`` yields, each
masked first (``masking.masked``), for a person (rich: one block per entry, coloured by outcome, official numbers
and error codes in bold) or as JSON lines (one object per entry, always the same keys in the same order).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.text import Text

from gateway.kafka.records import OUTCOMES, OutcomeName
from gateway.tools.tracking.entries import Entry, Problem
from gateway.tools.tracking.masking import masked
from gateway.tools.tracking.notices import Notice, masked_notice, readable_notice

_STYLE: dict[OutcomeName, str] = {"accepted": "green", "rejected": "red", "dead-letter": "magenta"}
_LABEL: dict[OutcomeName, str] = {"accepted": "ACCEPTED", "rejected": "REJECTED", "dead-letter": "DEAD LETTER"}


def to_json_line(entry: Entry) -> str:
    """One masked entry as one line of JSON."""
    return json.dumps(masked(entry).to_json(), ensure_ascii=False)


def readable(entry: Entry) -> Text:
    """One masked entry as a block of text for a person."""
    entry = masked(entry)
    style = _STYLE[entry.outcome]
    text = Text()
    text.append(entry.time.astimezone().isoformat(sep=" ", timespec="seconds"), style="dim")
    text.append("  ")
    text.append(f"{_LABEL[entry.outcome]:<11}", style=f"bold {style}")
    text.append(
        f"  {entry.document or ('unreadable record' if entry.outcome == 'dead-letter' else 'unknown document')}"
    )
    if entry.case_id:
        text.append(f"  case {entry.case_id}", style="cyan")
    if entry.outcome == "accepted":
        _accepted_lines(text, entry, style)
    elif entry.outcome == "rejected":
        _rejected_lines(text, entry, style)
    else:
        _dead_letter_lines(text, entry, style)
    for warning in entry.warnings:
        _problem_line(text, warning, "bold yellow", prefix="warning ")
    _reference_lines(text, entry)
    return text


def _accepted_lines(text: Text, entry: Entry, style: str) -> None:
    text.append("\n   number ")
    text.append(entry.official_number or "?", style=f"bold {style}")
    if entry.valid_until:
        text.append(f"  valid until {entry.valid_until}")
    if entry.inspection_channel:
        text.append("  inspection channel ")
        text.append(entry.inspection_channel, style="bold")


def _rejected_lines(text: Text, entry: Entry, style: str) -> None:
    text.append(f"\n   by {entry.rejected_by or '?'} at stage ")
    text.append(entry.stage or "?", style="bold")
    for error in entry.errors:
        _problem_line(text, error, f"bold {style}")


def _dead_letter_lines(text: Text, entry: Entry, style: str) -> None:
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


def _reference_lines(text: Text, entry: Entry) -> None:
    """The ids a person may look the outcome up by, the answered event, and the replays."""
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

    def show(self, entry: Entry | Notice) -> None:
        """One outcome, or one customs notification (``case``), as a block or a JSON line."""
        try:
            if self._json:
                line = (
                    to_json_line(entry)
                    if isinstance(entry, Entry)
                    else json.dumps(masked_notice(entry).to_json(), ensure_ascii=False)
                )
                self._stream.write(line + "\n")
            else:
                if self._shown:
                    self._console.print()
                self._console.print(readable(entry) if isinstance(entry, Entry) else readable_notice(entry))
            self._stream.flush()
        except BrokenPipeError:
            # The reader went away (``| head``): point stdout at /dev/null so that exiting does not fail too.
            if self._stream is sys.stdout:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise
        self._shown += 1

    def case(self, case_id: str, entries: Sequence[Entry], notices: Sequence[Notice] = ()) -> None:
        """A case's timeline: a heading and a block per outcome and per customs notification, in time order, or
        only the JSON lines (a notification's starts with ``"notification"``, an outcome's with ``"outcome"``)."""
        if not self._json:
            counts = ", ".join(f"{n} {outcome}" for outcome in OUTCOMES if (n := _count(entries, outcome)))
            heading = Text(f"Case {case_id}", style="bold")
            heading.append(f": {len(entries)} outcome{'s' if len(entries) != 1 else ''} ({counts})")
            if notices:
                heading.append(f", {len(notices)} customs notification{'s' if len(notices) != 1 else ''}")
            self._console.print(heading)
            self._console.print()
        timeline: list[Entry | Notice] = [*entries, *notices]
        for item in sorted(timeline, key=lambda item: item.time):
            self.show(item)


def _count(entries: Iterable[Entry], outcome: OutcomeName) -> int:
    return sum(entry.outcome == outcome for entry in entries)
