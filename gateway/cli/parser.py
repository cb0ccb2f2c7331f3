"""The argument parser of the CLI (``gateway/cli/``): every command, flag and help text, and nothing they do.

``build_parser`` assembles it from one function per group, in the order ``--help`` lists them: the service
commands (run, dev, mock), the operator tools (render, validate, docs, dlq, case, tail) and the development tools
(bench); each command's ``command`` default is its body in ``service.py``, ``operations.py`` or ``development.py``.
An argument mistake is one line on stderr and exit 2, as every other mistake (``failures.py``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from gateway.cli import development, operations, service
from gateway.cli.failures import EXIT_MISTAKE, EXIT_STATUS, PROG
from gateway.kafka.headers import INTAKE_REASONS

DESCRIPTION = "``ecuapass-gateway``: the one console script. Subcommands only translate arguments and call the core."
MOCK_FAULTS = (
    ("--fault-seed", int, "seed of the fault draws"),
    ("--error-rate", float, "share of requests answered 503"),
    ("--throttle-rate", float, "share of requests answered 429 with Retry-After"),
    ("--retry-after-s", int, "Retry-After of 429 answers"),
    ("--latency-ms", float, "added latency (mean, when exponential)"),
    ("--latency-jitter-ms", float, "uniform extra latency 0..N ms"),
    ("--hang-rate", float, "share of filings left unanswered"),
    ("--hang-s", float, "how long an unanswered filing is held"),
    ("--reset-rate", float, "share of filings whose connection is reset before filing"),
    ("--lost-response-rate", float, "share of filings filed, then reset"),
)
DLQ_TIME = "(ISO 8601 with offset, or a date: its 00:00 UTC)"


class _Parser(argparse.ArgumentParser):
    """Argument mistakes on one line (and exit 2), as every other mistake; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_MISTAKE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``ecuapass-gateway``: ``parse_args`` gives the ``command`` to call with the settings."""
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _service_commands(commands)
    _operator_tools(commands)
    _development_tools(commands)
    return parser


def _service_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    run = commands.add_parser("run", help="run the gateway (settings from GATEWAY_* variables)")
    run.set_defaults(command=service.run)

    dev = commands.add_parser("dev", help="the embedded dev stack: Tansu broker, mock endpoint, gateway, demo")
    dev.add_argument("--kafka-port", type=int, default=0, help="Tansu's port (default: a free one)")
    dev.add_argument("--mock-port", type=int, default=0, help="the mock endpoint's port (default: a free one)")
    dev.add_argument("--metrics-port", type=int, help="the gateway's /metrics, /healthz, /readyz port (default 9464)")
    dev.add_argument("--serve", action="store_true", help="no demo: keep the stack running until SIGINT/SIGTERM")
    dev.set_defaults(command=service.dev)

    mock = commands.add_parser("mock", help="the mock Ecuapass endpoint alone")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8081)
    mock.add_argument("--state", type=Path, default=Path("ecuapass-mock.sqlite3"), help="SQLite state file")
    mock.add_argument("--seed", type=int, help="seed of the inspection-channel draw (MOCK_SEED)")
    mock.add_argument("--decision-delay-s", type=float, help="two-stage replies: seconds until decided")
    _mock_security(mock)
    _mock_faults(mock)
    mock.set_defaults(command=service.mock)


def _mock_security(mock: argparse.ArgumentParser) -> None:
    security = mock.add_argument_group("security (HTTPS, mutual TLS, bearer token)")
    security.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate")
    security.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    security.add_argument(
        "--tls-client-ca", type=Path, metavar="PEM", help="require client certificates signed by this CA"
    )
    security.add_argument(
        "--require-token",
        metavar="TOKEN|FILE",
        help="answer 401 without this bearer token (a file holding it keeps it out of the process list)",
    )


def _mock_faults(mock: argparse.ArgumentParser) -> None:
    faults = mock.add_argument_group("fault injection (also MOCK_FAULTS__* variables and PUT /admin/faults)")
    for flag, parse, text in MOCK_FAULTS:
        faults.add_argument(flag, type=parse, help=text)
    faults.add_argument("--latency-distribution", choices=["fixed", "exponential"])


def _operator_tools(commands: argparse._SubParsersAction[_Parser]) -> None:
    render = commands.add_parser("render", help="print an event's e-document XML (exit 0) or its errors (exit 2)")
    render.add_argument("event", type=Path, help="a CloudEvent JSON file")
    render.set_defaults(command=operations.render)

    validate = commands.add_parser("validate", help="check events (JSON) or e-documents (XML); exit 2 on errors")
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")
    validate.set_defaults(command=operations.validate)

    docs = commands.add_parser("docs", help="serve the AsyncAPI document (HTML, asyncapi.yaml, asyncapi.json)")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8000)
    docs.set_defaults(command=operations.docs)

    _dlq(commands)
    _tracking(commands)


def _dlq(commands: argparse._SubParsersAction[_Parser]) -> None:
    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(required=True, metavar="ACTION")
    replay = dlq.add_parser("replay", help="re-publish selected dead letters to the input topic")
    replay.add_argument("--since", type=aware, help=f"dead-lettered at or after {DLQ_TIME}")
    replay.add_argument("--until", type=aware, help=f"dead-lettered before {DLQ_TIME}")
    replay.add_argument("--error-class", action="append", default=[], help="e.g. PermanentDeliveryError")
    replay.add_argument("--reason", action="append", default=[], help="e.g. delivery_failed, not_json")
    replay.add_argument("--case", action="append", default=[], help="case id (Kafka key)")
    replay.add_argument("--max-replays", type=int, default=3, help="quarantine letters replayed this often")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; publish nothing")
    replay.set_defaults(command=operations.dlq_replay)

    notifications = dlq.add_parser(
        "replay-notifications",
        help="re-read the intake's dead letters from the archive; publish those that read now, once",
    )
    notifications.add_argument("--feed", action="append", default=[], help="default, or an agency's RUC")
    notifications.add_argument(
        "--reason", action="append", default=[], choices=sorted(INTAKE_REASONS), help="the letter's dlq.reason"
    )
    notifications.add_argument("--dry-run", action="store_true", help="list what would be published; publish nothing")
    notifications.set_defaults(command=operations.dlq_replay_notifications)


def _tracking(commands: argparse._SubParsersAction[_Parser]) -> None:
    case = commands.add_parser("case", help="a case's outcomes in time order; exit 1 when none is known")
    case.add_argument("case_id", metavar="CASE_ID", help="the case id (the events' subject, the Kafka key)")
    case.add_argument("--json", action="store_true", help="JSON lines instead of the readable form")
    case.set_defaults(command=operations.case)

    tail = commands.add_parser("tail", help="follow acknowledgments, rejections and dead letters live")
    form = tail.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON lines (the default when stdout is not a terminal)")
    form.add_argument("--pretty", action="store_true", help="the readable form, even when stdout is not a terminal")
    tail.add_argument("--from-beginning", action="store_true", help="start from the topics' beginning, not now")
    tail.set_defaults(command=operations.tail)


def _development_tools(commands: argparse._SubParsersAction[_Parser]) -> None:
    bench = commands.add_parser("bench", help="the benchmark (own broker and mock): a table and a JSON file")
    bench.add_argument(
        "--scenario",
        action="append",
        choices=["broker", "instant", "mock", "slow", "naive"],
        help="run only this scenario (repeatable; default: all five)",
    )
    size = bench.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes: checks the machinery, not the speed")
    size.add_argument("--events", type=int, help="events per scenario, instead of each scenario's default")
    size.add_argument("--scale", type=float, default=1.0, help="multiply each scenario's default size")
    bench.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where the figures go")
    bench.add_argument("--paced-seconds", type=float, help="length of the latency phase (default 8)")
    bench.add_argument("--in-flight", type=int, default=200, help="the gateway's in-flight limit (default 200)")
    bench.add_argument("--keep-logs", type=Path, metavar="DIR", help="keep the processes' logs in DIR")
    bench.add_argument("--profile", type=Path, metavar="DIR", help="py-spy profiles of the bursts (needs py-spy)")
    bench.add_argument(
        "--signed",
        action="store_true",
        help="sign every e-document as an agency does (development certificates), the mock verifying them",
    )
    bench.set_defaults(command=development.bench)


def aware(text: str) -> datetime:
    """A date-time with its UTC offset (``2026-12-04T10:00:00-05:00``), or a date (its start, UTC)."""
    expected = "expected an ISO 8601 date-time with offset, e.g. 2026-12-04T10:00:00-05:00, or a date"
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: {expected}")
    return value
