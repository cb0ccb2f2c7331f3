"""``ecuapass-gateway``: the one console script. Subcommands only translate arguments and call the core.

run        the gateway against the configured broker and endpoint (production)
dev        the embedded stack (Tansu + mock + gateway) with the demo, or --serve to keep it running
mock       the mock Ecuapass endpoint alone
render     an event's e-document XML, or its field errors
case       one case's outcomes (acknowledgments, rejections, dead letters) in time order
tail       every case's outcomes live, until SIGINT/SIGTERM
docs       the AsyncAPI document of the topics, served as HTML, YAML and JSON
bench      the benchmark: its own broker and mock, five scenarios side by side, a table and a JSON file

A user's mistake (settings, files, arguments) never shows a traceback: ``main`` turns it into one line on stderr
and exit 2, in one place for every command; a Kafka broker that cannot be reached is exit 3 (``EXIT_STATUS``).
Errors name settings by field path (``ecuapass.token_file``); this entry point, the one that reads the environment,
renders them as the variables its user sets (``GATEWAY_ECUAPASS__TOKEN_FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from pydantic_settings import SettingsError

from gateway.errors import ConfigurationError, InvalidEvent, KafkaUnavailableError, UndecodableEvent
from gateway.runtime.logs import mask
from gateway.settings import Settings, environment_variable, setting_fields

log = logging.getLogger("gateway")

PROG = "ecuapass-gateway"
EXIT_MISTAKE = 2  # settings, files or arguments; settings the broker or the endpoint refuse; invalid events
EXIT_KAFKA_UNAVAILABLE = 3  # no Kafka broker can be reached, or one stopped answering
EXIT_STATUS = f"""exit status:
  0    done
  1    nothing to show (case: no outcome known) or the demo failed (dev)
  {EXIT_MISTAKE}    a mistake in the settings, a file or the arguments, settings the broker or the endpoint refuse
       (TLS, SASL, token), or invalid events or documents (render, validate): one line on stderr says which
  {EXIT_KAFKA_UNAVAILABLE}    Kafka cannot be reached (connection refused, no answer, host unknown) or stopped
       answering: the settings may be right; try again once the broker is up
  130  interrupted (Ctrl-C)"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        from gateway.runtime import logs, tracing

        logs.configure(settings)
        tracing.setup(settings.tracing)
        return int(args.command(args, settings))
    except KafkaUnavailableError as exc:
        return _failed(str(exc), EXIT_KAFKA_UNAVAILABLE)
    except ConfigurationError as exc:
        return _failed(exc.explain(environment_variable))
    except ValidationError as exc:
        return _failed(_invalid(exc))
    except SettingsError as exc:
        return _failed(_unparsable(exc))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        return _failed(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))
    except KeyboardInterrupt:
        return 130


def _failed(message: str, status: int = EXIT_MISTAKE) -> int:
    print(f"{PROG}: {' '.join(message.split())}", file=sys.stderr)  # one line, whatever the message holds
    return status


def _invalid(exc: ValidationError) -> str:
    """Every problem of a settings model on one line, without the values given (they may be secrets); those of the
    gateway's ``Settings`` named as the environment variables its user sets."""
    ours = exc.title == Settings.__name__
    paths = [path for path, _ in setting_fields() if "." in path] if ours else []  # not "source": a plain word
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(part) for part in error["loc"]]
        agency = ""
        if ours and parts[:1] == ["agencies"] and len(parts) > 1:
            agency, parts[1] = f" (agency {mask(parts[1])})", "<RUC>"  # the RUC masked, as in logs
        where = ".".join(parts)
        cause = (error.get("ctx") or {}).get("error")
        text = str(cause) if error["type"] == "value_error" and cause is not None else error["msg"]
        text = ConfigurationError(text, fields=[path for path in paths if path in text]).explain(environment_variable)
        if where:
            text = f"{environment_variable(where) if ours else where}{agency}: {text}"
        problems.append(text)
    return f"invalid {'settings' if ours else exc.title}: " + "; ".join(problems)


def _unparsable(exc: SettingsError) -> str:
    """pydantic-settings' failure to parse a variable (malformed JSON in a nested setting), named as the variable."""
    field = re.search(r'field "([^"]+)"', str(exc))
    where = environment_variable(field.group(1)) if field else "a GATEWAY_* variable"
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"invalid settings: {where} is not valid JSON ({cause.msg} at line {cause.lineno} column {cause.colno})"
    return f"invalid settings: {where}: {cause or exc}"


class _Parser(argparse.ArgumentParser):
    """Argument mistakes on one line (and exit 2), as every other mistake; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_MISTAKE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the gateway (settings from GATEWAY_* variables)")
    run.set_defaults(command=_run)

    dev = commands.add_parser("dev", help="the embedded dev stack: Tansu broker, mock endpoint, gateway, demo")
    dev.add_argument("--kafka-port", type=int, default=0, help="Tansu's port (default: a free one)")
    dev.add_argument("--mock-port", type=int, default=0, help="the mock endpoint's port (default: a free one)")
    dev.add_argument("--metrics-port", type=int, help="the gateway's /metrics, /healthz, /readyz port (default 9464)")
    dev.add_argument("--serve", action="store_true", help="no demo: keep the stack running until SIGINT/SIGTERM")
    dev.set_defaults(command=_dev)

    mock = commands.add_parser("mock", help="the mock Ecuapass endpoint alone")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8081)
    mock.add_argument("--state", type=Path, default=Path("ecuapass-mock.sqlite3"), help="SQLite state file")
    mock.add_argument("--seed", type=int, help="seed of the inspection-channel draw (MOCK_SEED)")
    mock.add_argument("--decision-delay-s", type=float, help="two-stage replies: seconds until decided")
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
    faults = mock.add_argument_group("fault injection (also MOCK_FAULTS__* variables and PUT /admin/faults)")
    for flag, kind, text in (
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
    ):
        faults.add_argument(flag, type=kind, help=text)
    faults.add_argument("--latency-distribution", choices=["fixed", "exponential"])
    mock.set_defaults(command=_mock)

    render = commands.add_parser("render", help="print an event's e-document XML (exit 0) or its errors (exit 2)")
    render.add_argument("event", type=Path, help="a CloudEvent JSON file")
    render.set_defaults(command=_render)

    validate = commands.add_parser("validate", help="check events (JSON) or e-documents (XML); exit 2 on errors")
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")
    validate.set_defaults(command=_validate)

    docs = commands.add_parser("docs", help="serve the AsyncAPI document (HTML, asyncapi.yaml, asyncapi.json)")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8000)
    docs.set_defaults(command=_docs)

    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(required=True, metavar="ACTION")
    replay = dlq.add_parser("replay", help="re-publish selected dead letters to the input topic")
    replay.add_argument(
        "--since", type=_aware, help="dead-lettered at or after (ISO 8601 with offset, or a date: its 00:00 UTC)"
    )
    replay.add_argument(
        "--until", type=_aware, help="dead-lettered before (ISO 8601 with offset, or a date: its 00:00 UTC)"
    )
    replay.add_argument("--error-class", action="append", default=[], help="e.g. PermanentDeliveryError")
    replay.add_argument("--reason", action="append", default=[], help="e.g. delivery_failed, not_json")
    replay.add_argument("--case", action="append", default=[], help="case id (Kafka key)")
    replay.add_argument("--max-replays", type=int, default=3, help="quarantine letters replayed this often")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; publish nothing")
    replay.set_defaults(command=_dlq_replay)

    case = commands.add_parser("case", help="a case's outcomes in time order; exit 1 when none is known")
    case.add_argument("case_id", metavar="CASE_ID", help="the case id (the events' subject, the Kafka key)")
    case.add_argument("--json", action="store_true", help="JSON lines instead of the readable form")
    case.set_defaults(command=_case)

    tail = commands.add_parser("tail", help="follow acknowledgments, rejections and dead letters live")
    form = tail.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON lines (the default when stdout is not a terminal)")
    form.add_argument("--pretty", action="store_true", help="the readable form, even when stdout is not a terminal")
    tail.add_argument("--from-beginning", action="store_true", help="start from the topics' beginning, not now")
    tail.set_defaults(command=_tail)

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
    bench.set_defaults(command=_bench)
    return parser


def _aware(text: str) -> datetime:
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


def _run(_: argparse.Namespace, settings: Settings) -> int:
    from gateway.bootstrap import build_gateway
    from gateway.runtime.signals import StopSignal

    async def main() -> None:
        with StopSignal() as stop:
            gateway = build_gateway(settings)
            await gateway.start()
            try:
                await stop.wait()
                log.info("stopping: finishing the events in flight")
            finally:
                await gateway.stop()

    asyncio.run(main())
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from ecuapass_mock.settings import MockSettings
    from gateway.devstack.demo import play, procedure_order
    from gateway.devstack.stack import embedded_stack
    from gateway.runtime.signals import StopSignal
    from gateway.tools.examples import examples

    async def main() -> bool:
        base = settings
        if args.metrics_port is not None:
            base = settings.model_copy(update={"ops": settings.ops.model_copy(update={"port": args.metrics_port})})
        signature_ca = MockSettings().signature_ca
        async with embedded_stack(
            base, kafka_port=args.kafka_port, mock_port=args.mock_port, signature_ca=signature_ca
        ) as stack:
            s = stack.settings
            print(f"Kafka bootstrap: {s.kafka.bootstrap_servers}  (Tansu, in memory)")
            print(f"Mock Ecuapass:   {stack.mock_url}  (state {stack.mock_state})")
            if stack.gateway.ops is not None:
                print(f"Gateway ops:     {stack.gateway.ops.url}  (/metrics, /healthz, /readyz)")
            print(f"Topics: in {s.topics.input}; out {s.topics.acks}, {s.topics.rejections}, {s.topics.dlq}")
            print(f"Signing:         {len(s.agencies)} agencies; the mock trusts {stack.signature_ca or 'no CA'}")
            sys.stdout.flush()
            if args.serve:
                with StopSignal() as stop:
                    print("Serving; Ctrl-C or SIGTERM stops.", flush=True)
                    await stop.wait()
                return True
            return await play(s, procedure_order(examples()))

    return 0 if asyncio.run(main()) else 1


def _mock(args: argparse.Namespace, _: Settings) -> int:
    from ecuapass_mock.faults import FaultInjector
    from ecuapass_mock.server import MockTls, bind, serve
    from ecuapass_mock.settings import MockSettings
    from ecuapass_mock.signatures import SignatureCheck
    from ecuapass_mock.store import FilingStore
    from gateway.runtime.signals import StopSignal

    base = MockSettings()
    fault_flags = {
        name: getattr(args, name)
        for name in base.faults.model_fields
        if name != "maintenance" and getattr(args, name, None) is not None
    }
    if args.fault_seed is not None:
        fault_flags["seed"] = args.fault_seed
    faults = base.faults.model_validate(base.faults.model_dump() | fault_flags)
    if (args.tls_cert is None) != (args.tls_key is None) or (args.tls_client_ca and not args.tls_cert):
        raise ConfigurationError("--tls-cert and --tls-key go together, and --tls-client-ca needs them")
    tls = MockTls(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    if tls is not None:
        tls.check()
    token = _token_argument(args.require_token)

    async def main() -> None:
        store = FilingStore(args.state)
        sock = bind(args.host, args.port)
        stop = asyncio.Event()
        scheme = "https" if tls else "http"
        print(f"Mock Ecuapass on {scheme}://{args.host}:{sock.getsockname()[1]} (state {args.state})", flush=True)
        server = asyncio.create_task(
            serve(
                sock,
                store,
                stop,
                tls=tls,
                require_token=token,
                seed=base.seed if args.seed is None else args.seed,
                faults=FaultInjector(faults),
                decision_delay_s=base.decision_delay_s if args.decision_delay_s is None else args.decision_delay_s,
                signatures=SignatureCheck(base.signature_ca, base.require_signature),
            )
        )
        with StopSignal() as signalled:
            await signalled.wait()
        stop.set()
        await server
        store.close()

    asyncio.run(main())
    return 0


def _token_argument(value: str | None) -> str | None:
    """``--require-token``: the token itself, or a file that holds it."""
    if value is None:
        return None
    path = Path(value)
    token = path.read_text(encoding="utf-8").strip() if path.is_file() else value
    if not token:
        raise ConfigurationError(f"--require-token: {path} is empty")
    return token


def _render(args: argparse.Namespace, _: Settings) -> int:
    from lxml import etree

    from gateway import documents
    from gateway.documents import decode

    try:
        document = documents.build(decode(args.event.read_bytes()))
    except InvalidEvent as exc:
        for error in exc.errors:
            print(json.dumps(error.model_dump(mode="json"), ensure_ascii=False))
        return 2
    except UndecodableEvent as exc:
        print(f"{args.event}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(etree.tostring(document.root, pretty_print=True, encoding="unicode"))
    return 0


def _validate(args: argparse.Namespace, _: Settings) -> int:
    from gateway.tools.checking import check_file

    failed = 0
    for path in args.files:
        problems = check_file(path)
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{path}: valid")
        failed += bool(problems)
    return 2 if failed else 0


def _docs(args: argparse.Namespace, _: Settings) -> int:
    from gateway.tools import asyncapi

    asyncio.run(asyncapi.serve(args.host, args.port))
    return 0


def _dlq_replay(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from gateway.tools.dlq import Selection, describe, replay

    selection = Selection(
        since=args.since,
        until=args.until,
        error_classes=frozenset(args.error_class),
        reasons=frozenset(args.reason),
        case_ids=frozenset(args.case),
    )
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as bar:
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
    verb = "would replay" if args.dry_run else "replayed"
    for line in describe(report.replayed):
        print(f"{verb}: {line}")
    for line in describe(report.quarantined):
        print(f"{'would quarantine' if args.dry_run else 'quarantined'}: {line}")
    for line in describe(report.unreplayable):
        print(f"not replayable (only the record's first 4 KiB was kept; ask the publisher to resend): {line}")
    print(
        f"{report.scanned} dead letters scanned, {len(report.replayed)} {verb}, "
        f"{len(report.quarantined)} {'to quarantine' if args.dry_run else 'quarantined'} "
        f"(to {settings.topics.quarantine}), {len(report.unreplayable)} not replayable"
    )
    return 0


def _case(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.tools.tracking import Printer, case_timeline

    entries = asyncio.run(case_timeline(settings, args.case_id))
    if not entries:
        topics = settings.topics
        print(
            f"ecuapass-gateway: nothing is known about case {args.case_id} "
            f"(no outcome in {topics.acks}, {topics.rejections} or {topics.dlq})",
            file=sys.stderr,
        )
        return 1
    Printer(json_lines=args.json).case(args.case_id, entries)
    return 0


def _bench(args: argparse.Namespace, _: Settings) -> int:
    from gateway.bench.command import bench

    return bench(
        args.scenario,
        events=args.events,
        scale=args.scale,
        quick=args.quick,
        json_path=args.json,
        keep_logs=args.keep_logs,
        paced_seconds=args.paced_seconds,
        max_in_flight=args.in_flight,
        profile_dir=args.profile,
        signed=args.signed,
    )


def _tail(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.runtime.signals import StopSignal
    from gateway.tools.tracking import Printer, tail

    printer = Printer(json_lines=args.json or (not args.pretty and not sys.stdout.isatty()))

    async def main() -> None:
        with StopSignal() as stop:
            await tail(settings, printer, until=stop.wait(), from_beginning=args.from_beginning)

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
