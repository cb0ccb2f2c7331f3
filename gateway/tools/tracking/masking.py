"""What of an outcome is masked before ``case`` or ``tail`` print it, in both renderings.

Part of ``gateway.tools.tracking``: ``rendering`` prints ``masked(entry)``; ``Entry`` objects themselves are never
masked.

Values a back-end may have put personal or tax identifiers in are masked so that only their last three characters
remain (``1790011674001`` -> ``**********001``):

- the value of an error or warning whose field is an identifier (``ruc``, ``sender``, ``cedula``, ``…_ruc``,
  ``…_cedula``), whatever its shape, and every occurrence of that value in the error's messages;
- in every other error or warning value (tariff codes excepted: they are 10 digits too), in every error message
  and in a dead letter's detail, any standalone run of 10 digits (a cédula) or 13 digits (a RUC).

Case ids, event and message ids, references, submission and official numbers are printed as they are.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gateway.runtime.logs import mask
from gateway.tools.tracking.entries import Entry, Problem

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
