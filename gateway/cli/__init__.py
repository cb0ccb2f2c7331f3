"""``ecuapass-gateway``: the one console script. Subcommands only translate arguments and call the core.

run        the gateway against the configured broker and endpoint (production)
dev        the embedded stack (Tansu + mock + gateway) with the demo, or --serve to keep it running
mock       the mock Ecuapass endpoint alone
render     an event's e-document XML, or its field errors
validate   events (JSON) or e-documents (XML) checked, every error with its path
docs       the AsyncAPI document of the topics, served as HTML, YAML and JSON
dlq        dead letters re-published to the input topic (``dlq replay``)
case       one case's outcomes (acknowledgments, rejections, dead letters) in time order
tail       every case's outcomes live, until SIGINT/SIGTERM
bench      the benchmark: its own broker and mock, five scenarios side by side, a table and a JSON file

The package is the outermost layer, above the core and the tools it calls; nothing of the running gateway imports
it. ``main`` (here, the console script's ``gateway.cli:main`` and ``python -m gateway``) parses the arguments
(``parser.py``), reads the settings, sets up logs and tracing and calls the command's body: ``service.py`` (run, dev,
mock), ``operations.py`` (render, validate, docs, dlq, case, tail) or ``development.py`` (bench). Each body imports
what it needs when it runs, which keeps start-up short and the development tools off the runtime's import graph.

A user's mistake (settings, files, arguments) never shows a traceback: ``failures.py`` turns it into one line on
stderr and exit 2, in one place for every command; a Kafka broker that cannot be reached is exit 3
(``EXIT_STATUS``). Errors name settings by field path (``ecuapass.token_file``); this entry point, the one that reads
the environment, renders them as the variables its user sets (``GATEWAY_ECUAPASS__TOKEN_FILE``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway.cli.failures import EXIT_KAFKA_UNAVAILABLE, EXIT_MISTAKE, EXIT_STATUS, PROG, reported
from gateway.cli.parser import build_parser
from gateway.settings import Settings

__all__ = ["EXIT_KAFKA_UNAVAILABLE", "EXIT_MISTAKE", "EXIT_STATUS", "PROG", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse ``argv`` (an argument mistake exits 2 here), then run the command."""
    args = build_parser().parse_args(argv)
    return reported(lambda: _command(args))


def _command(args: argparse.Namespace) -> int:
    settings = Settings()
    from gateway.runtime import logs, tracing

    logs.configure(settings)
    tracing.setup(settings.tracing)
    return int(args.command(args, settings))
