"""The example events of ``contracts/examples/``: what each one is and which outcome it must produce.

The layout is the specification, so that a new case is a new file:

    contracts/examples/<document>/accepted/<name>.json   customs accepts it (<name>.xml: the expected e-document)
    contracts/examples/<document>/rejected/<CODES>--<name>.json   customs rejects it with these codes
    contracts/examples/<document>/invalid/<CODES>--<name>.json    the gateway rejects it (contract) with these codes
    contracts/examples/dead-letter/<REASON>--<name>.*              it goes to the dead-letter topic for this reason

``<CODES>`` is one code or several joined by ``+``.

A later document names the official number it builds on by the example that obtains it: the string
``"{{authorization-request/accepted/minimal}}"`` in a DAE example stands for the authorization number customs gives
that example. ``payload(numbers)`` substitutes real numbers (the demo files the prerequisite first);
``payload()`` substitutes a fixed sample number per document kind, for offline use (golden files, unit tests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.contract.documents import DOCUMENTS
from gateway.kafka.records import Received
from gateway.resources import examples_dir

Expected = Literal["accepted", "rejected", "invalid", "dead-letter"]
_REFERENCE = re.compile(rb"\{\{([A-Za-z0-9/_.+\-]+)\}\}")

#: Numbers used offline for ``{{example}}`` references, by the referenced example's document kind.
SAMPLE_NUMBERS: dict[str, str] = {spec.name: spec.sample_number for spec in DOCUMENTS}
_FOLDERS: tuple[Expected, ...] = ("accepted", "rejected", "invalid")


@dataclass(frozen=True, slots=True)
class Example:
    path: Path
    document: str | None
    expected: Expected
    codes: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.document}/{self.expected}/{self.path.stem}" if self.document else f"dead-letter/{self.path.stem}"

    @property
    def expected_xml(self) -> Path | None:
        xml = self.path.with_suffix(".xml")
        return xml if self.expected == "accepted" else None

    def read(self) -> bytes:
        """The file as it is, references unresolved."""
        return self.path.read_bytes()

    def requires(self) -> tuple[str, ...]:
        """Names of the examples whose official numbers this one uses, in order of appearance."""
        return tuple(dict.fromkeys(m.decode() for m in _REFERENCE.findall(self.read())))

    def payload(self, numbers: Mapping[str, str] | None = None) -> bytes:
        """The record to publish: references replaced by ``numbers[name]``, or by sample numbers offline."""
        return resolve_references(self.read(), numbers)

    def event_id(self) -> str | None:
        """The CloudEvents id, when the file is JSON with one."""
        try:
            value = json.loads(self.read())
        except ValueError:
            return None
        return value.get("id") if isinstance(value, dict) else None

    def key(self) -> bytes:
        """The Kafka key a back-end would use: the case id, or the file name for records without one."""
        try:
            value = json.loads(self.read())
        except ValueError:
            value = None
        subject = value.get("subject") if isinstance(value, dict) else None
        return (subject if isinstance(subject, str) else f"example-{self.path.stem}").encode()


def resolve_references(data: bytes, numbers: Mapping[str, str] | None = None) -> bytes:
    """Replace ``{{example-name}}`` references by ``numbers[name]``, or by the sample number of its kind."""

    def number(match: re.Match[bytes]) -> bytes:
        name = match.group(1).decode()
        if numbers is not None:
            return numbers[name].encode()
        return SAMPLE_NUMBERS.get(name.split("/", 1)[0], name).encode()

    return _REFERENCE.sub(number, data)


def _codes(stem: str) -> tuple[str, ...]:
    return tuple(stem.split("--", 1)[0].split("+")) if "--" in stem else ()


def examples(root: Path | None = None) -> list[Example]:
    """Every example under ``root`` (default: the installed contract examples), in a stable order."""
    base = root or examples_dir()
    found: list[Example] = []
    for document_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if document_dir.name == "dead-letter":
            found += [
                Example(path, None, "dead-letter", _codes(path.stem))
                for path in sorted(document_dir.iterdir())
                if path.is_file()
            ]
            continue
        for expected in _FOLDERS:
            folder = document_dir / expected
            if folder.is_dir():
                found += [
                    Example(path, document_dir.name, expected, _codes(path.stem))
                    for path in sorted(folder.glob("*.json"))
                ]
    return found


def verdict(example: Example, received: Received) -> str | None:
    """``None`` when ``received`` is what ``example`` must produce, else what is wrong."""
    if example.expected == "dead-letter":
        if received.outcome != "dead-letter":
            return f"expected a dead letter, got {received.outcome}"
        reason = received.letter.reason
        return None if not example.codes or reason in example.codes else f"dead-letter reason {reason}"
    if example.expected == "accepted":
        return None if received.outcome == "accepted" else f"expected an acknowledgment, got {received.outcome}"
    if received.outcome != "rejected":
        return f"expected a rejection, got {received.outcome}"
    data = received.body().get("data")
    assert isinstance(data, dict)
    errors = data.get("errors")
    codes = {e.get("code") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()
    by = "gateway" if example.expected == "invalid" else "customs"
    if data.get("rejected_by") != by:
        return f"expected a rejection by the {by}, got one by {data.get('rejected_by')}"
    missing = [code for code in example.codes if code not in codes]
    return f"missing error codes {missing}, got {sorted(map(str, codes))}" if missing else None
