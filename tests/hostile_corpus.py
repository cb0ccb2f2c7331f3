"""The hostile-input corpus of ``tests/hostile/``: one file per case, its name saying what the gateway must answer.

    dead-letter--<dlq.reason>--<what>.<ext>        e.g. dead-letter--not_json--utf-16-with-bom.json
    rejected--<CODE>[+<CODE>...]--<what>.<ext>     e.g. rejected--GW-DUPLICATE_KEY--ruc-twice.json (exact code set)
    accepted--<what>.<ext>                         hostile-looking but valid: e.g. XML markup in text fields

A file is the record's value byte for byte, except ``*.recipe.json``: a recipe for bytes made at test time, for
cases too big to commit (records above the size limits, deep nesting, very long strings, thousands of fields), or
a record with Kafka headers (``"headers"``).
Adding a case is adding a file; a new kind of recipe is a function here.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.settings import Settings
from gateway.tools.examples import examples

CORPUS = Path(__file__).resolve().parent / "hostile"
BASE_EXAMPLE = "authorization-request/accepted/minimal"


@dataclass(frozen=True)
class HostileCase:
    name: str
    outcome: str  # dead-letter | rejected | accepted
    value: bytes
    key: bytes
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # the dead letter's dlq.reason
    codes: frozenset[str] = field(default_factory=frozenset)  # the rejection's error codes, exactly

    @property
    def event_id(self) -> str | None:
        """The id a rejection or acknowledgment answers (the last ``id`` member, as Pydantic reads it)."""
        try:
            parsed = json.loads(self.value)
        except (ValueError, RecursionError):
            return None
        return parsed.get("id") if isinstance(parsed, dict) else None

    def __repr__(self) -> str:
        return f"HostileCase({self.name})"


def hostile_cases(settings: Settings) -> list[HostileCase]:
    """Every case of the corpus, with recipes made for ``settings`` (size limits); each under its own key."""
    cases = []
    for index, path in enumerate(sorted(p for p in CORPUS.iterdir() if p.name != "README.md")):
        outcome, _, rest = path.name.partition("--")
        expected, _, _ = rest.partition("--") if outcome != "accepted" else ("", "", rest)
        key = f"HOSTILE-{index:03d}".encode()
        headers: dict[str, str] = {}
        if path.name.endswith(".recipe.json"):
            recipe = json.loads(path.read_text(encoding="utf-8"))
            key, value = RECIPES[recipe["recipe"]](recipe, settings, path.name, key)
            headers = recipe.get("headers", {})
        else:
            value = path.read_bytes()
        cases.append(
            HostileCase(
                name=path.name,
                outcome=outcome,
                value=value,
                key=key,
                headers=headers,
                reason=expected if outcome == "dead-letter" else None,
                codes=frozenset(expected.split("+")) if outcome == "rejected" else frozenset(),
            )
        )
    return cases


def _base_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(next(e for e in examples() if e.name == BASE_EXAMPLE).payload())
    stem = name.split("--")[-1].removesuffix(".recipe.json")
    event["id"] = f"hostile-{stem}"
    event["subject"] = "HOSTILE-CASE-001"
    event["data"]["local_reference"] = f"SOL-HOSTILE-{zlib.crc32(stem.encode()):08X}"
    return event


def _value(recipe: dict[str, Any], _: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    return key, str(recipe["value"]).encode()


def _nested(recipe: dict[str, Any], _: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    event = _base_event(name)
    event.pop("data")
    levels = int(recipe["levels"])
    head = json.dumps(event).encode()[:-1]
    return key, head + b', "data": ' + b"[" * levels + b"]" * levels + b"}"


def _oversized(recipe: dict[str, Any], settings: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    limits = {
        "max_event_bytes": settings.processing.max_event_bytes,
        "max_message_bytes": settings.kafka.max_message_bytes,
    }
    size = limits[recipe["relative_to"]] + int(recipe["extra_bytes"])
    head = json.dumps({"id": f"hostile-{name}", "padding": ""}).encode()[:-2]
    return key, head + b"x" * (size - len(head) - 2) + b'"}'


def _long_key(recipe: dict[str, Any], _: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    return b"K" * int(recipe["key_bytes"]), json.dumps(_base_event(name)).encode()


def _long_string(recipe: dict[str, Any], _: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    event = _base_event(name)
    *parents, last = recipe["path"]
    target = event
    for part in parents:
        target = target[part]
    target[last] = "A" * int(recipe["length"])
    return key, json.dumps(event).encode()


def _unknown_fields(recipe: dict[str, Any], _: Settings, name: str, key: bytes) -> tuple[bytes, bytes]:
    event = _base_event(name)
    event["data"]["applicant"] |= {f"unknown_{n}": n for n in range(int(recipe["count"]))}
    return key, json.dumps(event).encode()


RECIPES: dict[str, Callable[[dict[str, Any], Settings, str, bytes], tuple[bytes, bytes]]] = {
    "value": _value,
    "nested": _nested,
    "oversized": _oversized,
    "long_key": _long_key,
    "long_string": _long_string,
    "unknown_fields": _unknown_fields,
}
