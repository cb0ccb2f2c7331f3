"""The log scan: secrets and unmasked identifiers in the logs a test run kept (``tests/logcapture.py``).

A finding is reported as ``file:line: what: excerpt``, the excerpt redacted (secrets replaced, identifiers masked),
so the report itself leaks nothing. What counts:

- **secrets**: every value registered with ``register_secret`` (tokens, passwords, private keys and each line of
  their PEM body), and what looks like one whatever its value: a PEM private-key header, ``Bearer <token>``, and
  ``password=…``, ``token: …``, ``secret=…`` with a value that is not masked (``**********``, ``None``…).
- **identifiers**: 10- or 13-digit numbers standing alone (not glued to letters or digits, as in hex ids) that are
  an identifier of the examples or of the hostile corpus (``ruc``/``sender`` fields), or a valid cédula or RUC by
  ``stdnum.ec`` — except the tariff codes of those files, and numbers within 30 days of now read as an epoch in
  seconds or milliseconds (Kafka timestamps; a real RUC falls there with a chance of about one in a thousand).
  Masked forms (``**********001``, ``*******065``) are counted, not reported.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stdnum.ec import ci, ruc

ROOT = Path(__file__).resolve().parents[1]
#: Where the identifiers of the test events come from: the published examples and the hostile corpus.
EVENT_FOLDERS = (ROOT / "contracts" / "examples", ROOT / "tests" / "hostile")
#: The folders of a run's log folder that hold logs (``secrets/`` holds what to look for).
SOURCES = ("inprocess", "subprocess")

_NUMBER = re.compile(r"(?<![0-9A-Za-z*])(\d{13}|\d{10})(?![0-9A-Za-z])")
_MASKED = re.compile(r"(?<![0-9A-Za-z*])(\*{10}|\*{7})(\d{3})(?![0-9A-Za-z])")
_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+(?=[A-Za-z0-9._~+/-]*\d)([A-Za-z0-9._~+/-]{8,}=*)")),
    (
        "credential assignment",
        re.compile(
            r"(?i)(?<![a-z])(?:password|passwd|passphrase|secret|token|api_?key|private_?key)"
            r"[\"']?\s*[:=]\s*[\"']?([^\s\"',;)}\]]+)"
        ),
    ),
)
#: Values of ``password=…`` that are not a secret: masked, empty or absent.
_NOT_A_VALUE = re.compile(r"(?i)\**|none|null|true|false|<[^>]*>|\[redacted\]|secretstr\(|secretbytes\(|\$\{?\w+\}?")
_WINDOW_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    line: int
    what: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.excerpt}"


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    #: Lines scanned per source folder (``inprocess``, ``subprocess``), and per suite in process (``inprocess/tests``).
    lines: Counter[str] = field(default_factory=Counter)
    #: Masked identifiers seen, by their last three digits.
    masked: Counter[str] = field(default_factory=Counter)


class Scanner:
    def __init__(
        self,
        secrets: Iterable[str] = (),
        identifiers: Iterable[str] = (),
        not_identifiers: Iterable[str] = (),
        now: float | None = None,
    ) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.identifiers = frozenset(identifiers)
        self.not_identifiers = frozenset(not_identifiers) - self.identifiers
        self.now = time.time() if now is None else now

    # -- one line ---------------------------------------------------------------------------------------------

    def problems(self, text: str) -> list[tuple[str, int, int]]:
        """``(what, start, end)`` of each secret or unmasked identifier in ``text``."""
        found: list[tuple[str, int, int]] = []
        for secret in self.secrets:
            start = text.find(secret)
            while start >= 0:
                found.append(("registered secret", start, start + len(secret)))
                start = text.find(secret, start + 1)
        for what, pattern in _SECRET_PATTERNS:
            for match in pattern.finditer(text):
                value = match.group(1) if pattern.groups else match.group(0)
                if what == "credential assignment" and _NOT_A_VALUE.fullmatch(value):
                    continue
                span = match.span(1) if pattern.groups else match.span(0)
                found.append((what, *span))
        for match in _NUMBER.finditer(text):
            what = self.identifier_type(match.group(1))
            if what is not None:
                found.append((f"unmasked {what}", *match.span(1)))
        return found

    def identifier_type(self, number: str) -> str | None:
        """``"RUC"`` or ``"cédula"`` when ``number`` is to be treated as one, else ``None``."""
        what = "RUC" if len(number) == 13 else "cédula"
        if number in self.identifiers:
            return what
        if number in self.not_identifiers or self._recent_epoch(number):
            return None
        return what if (ruc.is_valid(number) if len(number) == 13 else ci.is_valid(number)) else None

    def _recent_epoch(self, number: str) -> bool:
        seconds = int(number) / (1000 if len(number) == 13 else 1)
        return abs(seconds - self.now) < _WINDOW_S

    def redact(self, text: str, problems: list[tuple[str, int, int]], width: int = 240) -> str:
        """``text`` around the first problem, every secret replaced and every identifier masked."""
        pieces, last = [], 0
        for what, start, end in sorted(problems, key=lambda p: (p[1], -p[2])):
            if start < last:
                continue
            value = text[start:end]
            hidden = "*" * (len(value) - 3) + value[-3:] if what.startswith("unmasked") else f"<{what}>"
            pieces += [text[last:start], hidden]
            last = end
        pieces.append(text[last:])
        redacted = "".join(pieces)
        first = min(start for _, start, _ in problems)
        begin = max(0, first - width // 2)
        return ("…" if begin else "") + redacted[begin : begin + width] + ("…" if begin + width < len(redacted) else "")

    # -- files and folders --------------------------------------------------------------------------------------

    def scan_lines(self, lines: Iterable[str], path: Path, report: Report) -> None:
        for number, line in enumerate(lines, 1):
            report.masked.update(match.group(2) for match in _MASKED.finditer(line))
            problems, shown = self.problems(line), line
            decoded = _decoded(line)
            if decoded is not None:  # a JSON line with escapes: its strings as they were logged find more
                more = self.problems(decoded)
                if len(more) > len(problems):
                    problems, shown = more, decoded
            if problems:
                report.findings.append(Finding(path, number, _whats(problems), self.redact(shown, problems)))

    def scan_folder(self, folder: Path) -> Report:
        report = Report()
        for source in SOURCES:
            for path in sorted((folder / source).glob("*.log")):
                with path.open(encoding="utf-8", errors="replace") as lines:
                    counted = _Counting(lines)
                    self.scan_lines(counted, path, report)
                report.lines[source] += counted.count
                if source == "inprocess":  # <suite>-<pid>.log
                    report.lines[f"{source}/{path.stem.rsplit('-', 1)[0]}"] += counted.count
        return report


class _Counting:
    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.count += 1
            yield line.rstrip("\n")


def _decoded(line: str) -> str | None:
    if not (line.startswith("{") and "\\" in line):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return " ".join(str(v) for v in value.values()) if isinstance(value, dict) else None


def _whats(problems: list[tuple[str, int, int]]) -> str:
    return ", ".join(sorted({what for what, *_ in problems}))


# -- what to look for ---------------------------------------------------------------------------------------------


def registered_secrets(folder: Path) -> set[str]:
    """The values ``register_secret`` kept in ``folder/secrets/``."""
    found: set[str] = set()
    for path in (folder / "secrets").glob("*.jsonl"):
        found |= {json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line}
    return found


def event_numbers(folders: Iterable[Path] = EVENT_FOLDERS) -> tuple[set[str], set[str]]:
    """(identifiers, tariff codes) of the test events: the values of their ``ruc`` and ``sender`` members (and the
    cédula inside a natural person's RUC), and of ``tariff_code``, wherever they are nested."""
    identifiers: set[str] = set()
    tariffs: set[str] = set()
    member = re.compile(r'"(ruc|sender|tariff_code)"\s*:\s*"(\d{10}|\d{13})"')
    for root in folders:
        for path in sorted(root.rglob("*.json")):
            for name, value in member.findall(path.read_text(encoding="utf-8", errors="replace")):
                if name == "tariff_code":
                    tariffs.add(value)
                    continue
                identifiers.add(value)
                if len(value) == 13 and value[2] < "6":  # a natural person's RUC: cédula + establishment
                    identifiers.add(value[:10])
    return identifiers, tariffs


def scanner_for(folder: Path) -> Scanner:
    identifiers, tariffs = event_numbers()
    return Scanner(registered_secrets(folder), identifiers, tariffs)
