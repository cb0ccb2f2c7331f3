"""Test plumbing (tests/logcapture.py), not part of the gateway: put on ``PYTHONPATH`` by the test run, it copies the
stderr of every Python process the tests start to ``$ECUAPASS_TEST_LOGS/subprocess/<pid>.log`` for the log scan.

Standard library only: it also runs in the virtualenvs the tests create. Any failure leaves stderr alone.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class _Tee:
    """``sys.stderr`` as it was, plus a copy of every write in the run's log folder (flushed at once: a process
    killed with SIGKILL keeps what it wrote)."""

    def __init__(self, stream: TextIO, copy: TextIO) -> None:
        self._stream = stream
        self._copy = copy

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        try:
            self._copy.write(text)
            self._copy.flush()
        except (OSError, ValueError):
            pass
        return written

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, flush, buffer...
        return getattr(self._stream, name)


def _install() -> None:
    folder = os.environ.get("ECUAPASS_TEST_LOGS")
    if not folder or sys.stderr is None or isinstance(sys.stderr, _Tee):
        return
    try:
        os.makedirs(os.path.join(folder, "subprocess"), exist_ok=True)
        name = os.path.join(folder, "subprocess", f"{os.getpid()}.log")
        copy = open(name, "a", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 - lives as long as stderr
        with open(name[: -len(".log")] + ".argv", "w", encoding="utf-8") as argv:
            argv.write(" ".join(getattr(sys, "orig_argv", sys.argv)) + "\n")
    except OSError:
        return
    sys.stderr = _Tee(sys.stderr, copy)  # type: ignore[assignment]


_install()
