"""Logging: JSON lines (or text on a terminal), the event's context on every line, identifiers masked.

``configure(settings)`` is called once by the entry point. The pipeline sets ``event_context`` for the event it
works on (asyncio tasks copy context variables, so concurrent events do not mix); every record logged meanwhile
carries ``case_id``, ``event_id``, ``correlation_id`` and ``trace_id``. At INFO and above, RUCs and cédulas (10 or
13 digits standing alone, not inside a hex id) are masked to their last three digits; payloads are only ever logged
at DEBUG. ``make test`` scans every log line of its run for secrets and unmasked identifiers (tests/logscan.py).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from gateway.settings import Settings

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("event_context", default=None)
# Digits glued to letters are part of an id (a UUID's or a hash's hex), not a RUC: masking them made message ids
# unusable in the logs ("…-0b*******585") and hid no identifier.
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(\d{7})(\d{3})(\d{3})?(?![0-9A-Za-z])")
_NOISY = ("aiokafka", "httpx", "httpcore", "gateway.broker", "uvicorn")


def mask(text: str) -> str:
    """``1790011674001`` -> ``**********001``; ``1710034065`` -> ``*******065``."""

    def hide(match: re.Match[str]) -> str:
        whole = match.group(0)
        return "*" * (len(whole) - 3) + whole[-3:]

    return _IDENTIFIER.sub(hide, text)


@contextmanager
def event_context(**fields: str | None) -> Iterator[None]:
    token = _CONTEXT.set({k: v for k, v in fields.items() if v})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def add_event_context(**fields: str | None) -> None:
    """Add fields to the current event's context (e.g. the case id once the event is decoded)."""
    _CONTEXT.set((_CONTEXT.get() or {}) | {k: v for k, v in fields.items() if v})


class _ContextAndMasking(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():  # the case id is the agency's: it may hold a RUC
            setattr(record, key, mask(value) if record.levelno >= logging.INFO else value)
        if record.levelno >= logging.INFO:
            record.msg = mask(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("case_id", "event_id", "correlation_id", "trace_id")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {field: getattr(record, field) for field in self.FIELDS if hasattr(record, field)}
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{f}={getattr(record, f)}" for f in JsonFormatter.FIELDS if hasattr(record, f))
        return f"{text} [{context}]" if context else text


def handler(settings: Settings, stream: Any = None) -> logging.Handler:
    """A handler writing ``settings.log_format`` lines to ``stream`` (stderr), with context and masking."""
    target = stream or sys.stderr
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not target.isatty())
    made = logging.StreamHandler(target)
    made.setFormatter(JsonFormatter() if as_json else TextFormatter())
    made.addFilter(_ContextAndMasking())
    return made


def configure(settings: Settings, stream: Any = None) -> None:
    root = logging.getLogger()
    root.handlers[:] = [handler(settings, stream)]
    set_levels(settings.log_level)


def set_levels(level: str) -> None:
    """The root logger at ``level``; the client libraries at WARNING unless ``level`` is DEBUG."""
    logging.getLogger().setLevel(level)
    for noisy in _NOISY:  # client libraries narrate every request and rebalance at INFO
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
