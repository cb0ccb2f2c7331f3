"""Test plumbing, not part of the gateway: the log lines of a whole test run kept in one folder, for the log scan.

``make test`` sets ``ECUAPASS_TEST_LOGS`` to ``build/test-logs`` for its two pytest runs (``pytest`` and
``pytest contracts/``), then scans the folder (``tests/logscan.py``, ``tests/full_run/``). Without the variable
nothing is written. With it, in every pytest process whose conftest calls ``start()``:

- ``inprocess/<suite>-<pid>.log``: the records of every logger (the gateway's, the adapters', uvicorn, httpx,
  aiokafka, FastStream…) at the levels production uses (INFO, client libraries WARNING; DEBUG carries payloads by
  design and is not kept), written by ``gateway.runtime.logs.handler``: JSON lines, masked as in production.
- ``subprocess/<pid>.log``: the stderr of every Python process the tests start, and of their children (the gateway,
  the mock, the CLI commands, the benchmark's processes): ``tests/logcapture_site`` goes first on ``PYTHONPATH``
  and its ``sitecustomize`` copies ``sys.stderr`` to that file. The process still writes its stderr where the test
  sent it (a pipe, a file, /dev/null).
- ``secrets/<pid>.jsonl``: the secret values tests and fixtures used, which the scan looks for: those given to
  ``register_secret`` (fixtures that make keys call it) and the constants of the collected test modules named like
  a secret (``TOKEN``, ``SASL_PASSWORD``…). Throwaway test values; the folder is under ``build/``, ignored by git.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import IO, Any

VARIABLE = "ECUAPASS_TEST_LOGS"
SITE = Path(__file__).resolve().parent / "logcapture_site"
#: Shorter values (a unit test's ``"t0ken"``, ``"x"``) would be found everywhere: the scan's patterns cover them.
MIN_SECRET_LENGTH = 8

#: Module-level constants of test modules named like this are registered as secrets (``TOKEN``, ``WRONG_TOKEN``…).
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSPHRASE|SECRET|PRIVATE_KEY")

_state: dict[str, Any] = {}


def folder() -> Path | None:
    """The run's log folder, when this run keeps its logs."""
    value = os.environ.get(VARIABLE)
    return Path(value).resolve() if value else None


def register_secret(*values: str | bytes) -> None:
    """Values the scan must never find in a log: tokens, passwords, private keys (PEM: each line of the body too).

    Any test, fixture or helper may call it, at import time or later; without ``ECUAPASS_TEST_LOGS`` it does
    nothing."""
    target = folder()
    if target is None:
        return
    kept: list[str] = []
    for value in values:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        kept.append(text)
        if "-----BEGIN" in text:  # a key leaked in part is still leaked
            kept += [line.strip() for line in text.splitlines() if line.strip() and "-----" not in line]
    kept = [text for text in kept if len(text) >= MIN_SECRET_LENGTH]
    if kept:
        (target / "secrets").mkdir(parents=True, exist_ok=True)
        with (target / "secrets" / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(text) + "\n" for text in kept)


def register_module_secrets(modules: Iterable[ModuleType]) -> None:
    """Register the string constants of ``modules`` whose names say they are secrets (``SECRET_NAME``)."""
    for module in modules:
        register_secret(
            *(
                value
                for name, value in vars(module).items()
                if name.isupper() and SECRET_NAME.search(name) and isinstance(value, str | bytes)
            )
        )


class _ProductionCopy(logging.Handler):
    """Hands a copy of each record to the production handler: its masking filter rewrites the record it gets, and
    the other handlers of the root logger (pytest's) must see the original. ``exc_text`` is dropped because an
    earlier handler may have formatted the traceback unmasked."""

    def __init__(self, inner: logging.Handler) -> None:
        super().__init__(logging.INFO)
        self.inner = inner

    def emit(self, record: logging.LogRecord) -> None:
        copy = logging.makeLogRecord(record.__dict__)
        copy.exc_text = None
        self.inner.handle(copy)


def start(suite: str) -> None:
    """Keep this pytest process's log records and its subprocesses' stderr (a no-op without the variable, or twice)."""
    target = folder()
    if target is None or _state:
        return
    from gateway.runtime import logs
    from gateway.settings import Settings

    (target / "inprocess").mkdir(parents=True, exist_ok=True)
    (target / "subprocess").mkdir(parents=True, exist_ok=True)
    stream: IO[str] = (target / "inprocess" / f"{suite}-{os.getpid()}.log").open(
        "a", encoding="utf-8", errors="backslashreplace", buffering=1
    )
    handler = _ProductionCopy(logs.handler(Settings.model_construct(log_format="json"), stream))
    _state.update(stream=stream, handler=handler, environ={k: os.environ.get(k) for k in (VARIABLE, "PYTHONPATH")})
    ensure_handler()
    logs.set_levels("INFO")
    _canary()
    os.environ[VARIABLE] = str(target)  # absolute: children may run elsewhere
    path = os.environ.get("PYTHONPATH", "")
    if str(SITE) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE), path) if p)


def _canary() -> None:
    """Identifiers of the examples logged the way the gateway would log them: the scan expects them masked. (The
    gateway itself logs no identifier at INFO or above in the whole suite; without this line a scan could not tell
    masked logs from logs that never held an identifier.)"""
    from tests.logscan import event_numbers

    identifiers, _ = event_numbers()
    ruc = min(i for i in identifiers if len(i) == 13)
    cedula = min(i for i in identifiers if len(i) == 10)
    logging.getLogger("tests.logcapture").warning("log scan canary: applicant %s, holder %s (masked)", ruc, cedula)


def ensure_handler() -> None:
    """Put the handler back if a test replaced the root logger's handlers, and keep INFO records flowing."""
    handler = _state.get("handler")
    if handler is None:
        return
    root = logging.getLogger()
    if handler not in root.handlers:
        root.addHandler(handler)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)


def stop() -> None:
    if not _state:
        return
    logging.getLogger().removeHandler(_state["handler"])
    _state["stream"].close()
    for key, value in _state["environ"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _state.clear()
