"""The operator tools' bodies (``gateway/cli/``): render, validate, docs, ``dlq replay``,
``dlq replay-notifications``, case and tail.

Each translates its arguments, calls the tool in ``gateway/tools/`` (imported when it runs) and prints its answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.cli.failures import EXIT_KAFKA_UNAVAILABLE, EXIT_MISTAKE, PROG
from gateway.errors import InvalidEvent, UndecodableEvent
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.tools.dlq import Report
    from gateway.tools.intake_replay import Report as IntakeReport


def render(args: argparse.Namespace, _: Settings) -> int:
    """``render``: the event's e-document XML on stdout, or its field errors as JSON lines (exit 2)."""
    from lxml import etree

    from gateway import documents
    from gateway.documents import decode

    try:
        document = documents.build(decode(args.event.read_bytes()))
    except InvalidEvent as exc:
        for error in exc.errors:
            print(json.dumps(error.model_dump(mode="json"), ensure_ascii=False))
        return EXIT_MISTAKE
    except UndecodableEvent as exc:
        print(f"{args.event}: {exc}", file=sys.stderr)
        return EXIT_MISTAKE
    sys.stdout.write(etree.tostring(document.root, pretty_print=True, encoding="unicode"))
    return 0


def validate(args: argparse.Namespace, _: Settings) -> int:
    """``validate``: every file checked, each problem on a line; exit 2 when any file has one."""
    from gateway.tools.checking import check_file

    failed = 0
    for path in args.files:
        problems = check_file(path)
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{path}: valid")
        failed += bool(problems)
    return EXIT_MISTAKE if failed else 0


def docs(args: argparse.Namespace, _: Settings) -> int:
    """``docs``: the AsyncAPI document served until SIGINT."""
    from gateway.tools import asyncapi

    asyncio.run(asyncapi.serve(args.host, args.port))
    return 0


def dlq_replay(args: argparse.Namespace, settings: Settings) -> int:
    """``dlq replay``: the selected letters re-published (or quarantined), each line saying what became of one; exit
    3 when the broker did not confirm them all (running it again picks up the rest)."""
    from rich.console import Console
    from rich.progress import Progress

    from gateway.tools.dlq import Selection, replay

    selection = Selection(
        since=args.since,
        until=args.until,
        error_classes=frozenset(args.error_class),
        reasons=frozenset(args.reason),
        case_ids=frozenset(args.case),
    )
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replaying" if not args.dry_run else "selecting", total=None)
        report = asyncio.run(
            replay(
                settings,
                selection,
                max_replays=args.max_replays,
                dry_run=args.dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    return replay_told(report, settings, dry_run=args.dry_run)


def replay_told(report: Report, settings: Settings, *, dry_run: bool) -> int:
    """What became of each letter on stdout, a line per letter and a summary; the exit status: 0, or 3 when the
    broker did not confirm every replay."""
    from gateway.tools.dlq import describe

    verb = "would replay" if dry_run else "replayed"
    quarantine = "would quarantine" if dry_run else "quarantined"
    for line in describe(report.replayed):
        print(f"{verb}: {line}")
    for line in describe(report.quarantined):
        print(f"{quarantine}: {line}")
    for line in describe(report.unreplayable):
        print(f"not replayable (only the record's first 4 KiB was kept; ask the publisher to resend): {line}")
    summary = (
        f"{report.scanned} dead letters scanned, {len(report.replayed)} {verb}, "
        f"{len(report.quarantined)} {'to quarantine' if dry_run else 'quarantined'} "
        f"(to {settings.topics.quarantine}), {len(report.unreplayable)} not replayable"
    )
    return _unconfirmed_told(report, describe, summary, "every replay; run dlq replay again")


def dlq_replay_notifications(args: argparse.Namespace, settings: Settings) -> int:
    """``dlq replay-notifications``: the intake's dead letters whose archived notification reads now, published
    once; a line per letter and a summary; exit 3 when the broker did not confirm them all."""
    from gateway.tools.intake_replay import Selection, replay_notifications

    selection = Selection(feeds=frozenset(args.feed), reasons=frozenset(args.reason))
    report = asyncio.run(replay_notifications(settings, selection, dry_run=args.dry_run))
    return notifications_told(report, settings, dry_run=args.dry_run)


def notifications_told(report: IntakeReport, settings: Settings, *, dry_run: bool) -> int:
    """What became of each intake dead letter on stdout; the exit status: 0, or 3 when the broker did not confirm
    every publication."""
    from gateway.tools.intake_replay import describe

    verb = "would publish" if dry_run else "published"
    for line in describe(report.replayed):
        print(f"{verb}: {line}")
    for unread in report.unreadable:
        (line,) = describe([unread.letter])
        print(f"still unreadable ({unread.reason}: {unread.detail}), left: {line}")
    for line in describe(report.not_archived):
        print(f"not in the archive ({settings.topics.archive}), left: {line}")
    summary = (
        f"{report.scanned} intake dead letters scanned, {len(report.replayed)} {verb} "
        f"(to {settings.topics.notifications}), {len(report.unreadable)} still unreadable, "
        f"{len(report.not_archived)} not in the archive"
    )
    return _unconfirmed_told(report, describe, summary, "every publication; run dlq replay-notifications again")


def _unconfirmed_told(
    report: Report | IntakeReport, describe: Callable[[Any], list[str]], summary: str, what: str
) -> int:
    """The end shared by both replays: the letters the broker did not confirm or that were left unsent, the summary,
    and the exit status (0, or 3 with a line on stderr saying ``what`` the broker did not confirm)."""
    for letter, exc in report.failed:
        (line,) = describe([letter])
        print(f"not confirmed by the broker ({type(exc).__name__}: {exc}): {line}")
    for line in describe(report.not_sent):
        print(f"not sent (the broker refused an earlier one): {line}")
    if not report.complete:
        summary += f", {len(report.failed)} not confirmed, {len(report.not_sent)} not sent: run it again"
    print(summary)
    if report.complete:
        return 0
    print(f"{PROG}: the broker did not confirm {what}", file=sys.stderr)
    return EXIT_KAFKA_UNAVAILABLE


def case(args: argparse.Namespace, settings: Settings) -> int:
    """``case``: one case's outcomes in time order; exit 1 when none is known."""
    from gateway.tools.tracking import Printer, case_notices, case_timeline

    entries = asyncio.run(case_timeline(settings, args.case_id))
    notices = asyncio.run(case_notices(settings, args.case_id))
    if not entries and not notices:
        topics = settings.topics
        print(
            f"{PROG}: nothing is known about case {args.case_id} "
            f"(no outcome in {topics.acks}, {topics.rejections} or {topics.dlq}, no notification in "
            f"{topics.notifications})",
            file=sys.stderr,
        )
        return 1
    Printer(json_lines=args.json).case(args.case_id, entries, notices)
    return 0


def tail(args: argparse.Namespace, settings: Settings) -> int:
    """``tail``: every outcome as it is written, until SIGINT/SIGTERM."""
    from gateway.runtime.signals import StopSignal
    from gateway.tools.tracking import Printer
    from gateway.tools.tracking import tail as follow

    printer = Printer(json_lines=args.json or (not args.pretty and not sys.stdout.isatty()))

    async def main() -> None:
        with StopSignal() as stop:
            await follow(settings, printer, until=stop.wait(), from_beginning=args.from_beginning)

    asyncio.run(main())
    return 0
