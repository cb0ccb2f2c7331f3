"""The benchmark's events: a realistic mix of the three documents, built from the contract examples.

Every event is valid against the models and the XSDs, and the mock accepts it once its prerequisites are filed:

- an **authorization request** stands on its own;
- an **export declaration** (DAE) names an authorization: its *prerequisite* authorization has the same exporter and
  one authorised line per DAE line (same tariff code and unit, the same quantity), and is filed before the
  measured run (``gateway.bench.prerequisites``);
- a **warehouse entry** names a DAE: its prerequisites are that DAE and the DAE's authorization, and it receives
  exactly the DAE's packages and gross weight.

The headers (exporter, district, port, transport mode, Incoterm, consignee, documents) come from the accepted
example chains of ``contracts/examples/`` (authorization -> DAE that uses it); lines are drawn from the example
lines. DAEs and authorizations carry 1 to 50 lines, most under 10. Dates are relative to today, so the mock's
time rules (validity, return dates, no entry in the future) hold on any day. Every event is its own case: the ids,
case ids and local references are unique, so a fresh mock files each one once.

References to prerequisites are ``{{bench/...}}`` strings (``gateway.tools.examples.resolve_references``), replaced by
the official numbers the mock gave (``Workload.resolved``) or by well-formed placeholders when no mock is involved
(``Workload.offline``).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from gateway.tools.examples import Example, examples, resolve_references

Kind = Literal["authorization-request", "export-declaration", "warehouse-entry"]
KINDS: tuple[Kind, ...] = ("authorization-request", "export-declaration", "warehouse-entry")
#: Share of each document in the measured stream: a case files one of each, DAEs a little more often.
MIX: dict[Kind, float] = {"authorization-request": 0.3, "export-declaration": 0.4, "warehouse-entry": 0.3}
#: Lines per authorization or DAE: (range, weight). Mean about 8.4; 80 % under 10; at most 50.
LINE_BUCKETS: tuple[tuple[range, float], ...] = ((range(1, 10), 0.80), (range(10, 25), 0.15), (range(25, 51), 0.05))
ECUADOR = timezone(timedelta(hours=-5))
_THOUSANDTH = Decimal("0.001")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Event:
    """One record to publish (or, for a prerequisite, to file directly): its key, its JSON and what it is."""

    key: bytes
    value: bytes  # may hold {{bench/...}} references until resolved
    event_id: str
    kind: Kind
    lines: int
    name: str = ""  # the reference name of a prerequisite; empty for measured events


@dataclass(frozen=True, slots=True)
class Workload:
    """Measured events in publishing order, and the prerequisites to file first (authorizations before DAEs)."""

    events: tuple[Event, ...]
    prerequisites: tuple[Event, ...]
    placeholders: Mapping[str, str] = field(default_factory=dict)  # well-formed numbers, for runs without a mock

    def head(self, count: int) -> Workload:
        """The first ``count`` events and only the prerequisites they need."""
        events = self.events[:count]
        needed = {name for event in events for name in _references(event.value)}
        needed |= {name for event in self.prerequisites if event.name in needed for name in _references(event.value)}
        return Workload(events, tuple(p for p in self.prerequisites if p.name in needed), self.placeholders)

    def offline(self) -> list[Event]:
        """The measured events with placeholder numbers (an endpoint that checks nothing)."""
        return self.resolved(self.placeholders)

    def resolved(self, numbers: Mapping[str, str]) -> list[Event]:
        """The measured events with the official numbers of their prerequisites."""
        return [_resolve(event, numbers) for event in self.events]

    def count(self) -> dict[str, int]:
        counts: dict[str, int] = {kind: 0 for kind in KINDS}
        for event in self.events:
            counts[event.kind] += 1
        return counts


def _references(value: bytes) -> list[str]:
    start, found = 0, []
    while (open_at := value.find(b"{{bench/", start)) >= 0:
        close_at = value.index(b"}}", open_at)
        found.append(value[open_at + 2 : close_at].decode())
        start = close_at + 2
    return found


def _resolve(event: Event, numbers: Mapping[str, str]) -> Event:
    return Event(event.key, resolve_references(event.value, numbers), event.event_id, event.kind, event.lines)


@dataclass(frozen=True, slots=True)
class _Chain:
    """An accepted authorization example and the accepted DAE example that ships under it."""

    authorization: dict[str, Any]
    declaration: dict[str, Any]
    reference: str  # how the DAE example names the authorization: "{{authorization-request/accepted/...}}"


@dataclass(frozen=True, slots=True)
class _Line:
    description: str
    tariff_code: str
    unit: str


def _load(example: Example) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(example.read())
    return loaded


def _chains(found: list[Example]) -> list[_Chain]:
    by_name = {example.name: example for example in found}
    chains = []
    for example in found:
        if example.document != "export-declaration" or example.expected != "accepted":
            continue
        (required,) = example.requires()
        chains.append(_Chain(_load(by_name[required]), _load(example), "{{" + required + "}}"))
    return chains


class Generator:
    """Builds events from the examples; deterministic for a seed (except the dates, relative to today)."""

    def __init__(self, seed: int = 51, *, today: date | None = None, now: datetime | None = None) -> None:
        self._rng = random.Random(seed)
        self._today = today or datetime.now(ECUADOR).date()
        self._now = (now or datetime.now(UTC)).astimezone(ECUADOR).replace(microsecond=0)
        found = examples()
        self._chains = _chains(found)
        self._lines = [
            _Line(item["description"], item["tariff_code"], item["quantity"]["unit"])
            for example in found
            if example.document == "authorization-request" and example.expected == "accepted"
            for item in _load(example)["data"]["items"]
        ]
        entries = {e.path.stem: _load(e) for e in found if e.document == "warehouse-entry" and e.expected == "accepted"}
        self._sea_entries = [entries["minimal"], entries["full-two-containers"]]
        self._air_entry = entries["declared-shortage-within-tolerance"]
        self._serial = 0
        self._templates: dict[int, str] = {}

    # -- the stream -----------------------------------------------------------------------------------------

    def workload(self, count: int) -> Workload:
        events: list[Event] = []
        prerequisites: list[Event] = []
        placeholders: dict[str, str] = {}
        kinds = list(MIX)
        weights = list(MIX.values())
        for _ in range(count):
            kind = self._rng.choices(kinds, weights)[0]
            chain = self._rng.choice(self._chains)
            lines = self._line_count()
            if kind == "authorization-request":
                events.append(self._authorization(chain, self._new_lines(lines)))
                continue
            items = self._new_lines(lines)
            authorization = self._authorization(chain, items, prerequisite=True)
            prerequisites.append(authorization)
            placeholders[authorization.name] = self._placeholder(chain, "AUT51")
            reference = "{{" + authorization.name + "}}"
            declaration = self._declaration(chain, items, reference, prerequisite=kind != "export-declaration")
            if kind == "export-declaration":
                events.append(declaration)
                continue
            prerequisites.append(declaration)
            placeholders[declaration.name] = self._placeholder(chain, "51")
            events.append(self._entry(declaration))
        return Workload(tuple(events), tuple(prerequisites), placeholders)

    def _line_count(self) -> int:
        bucket = self._rng.choices([b for b, _ in LINE_BUCKETS], [w for _, w in LINE_BUCKETS])[0]
        return self._rng.choice(bucket)

    def _new_lines(self, count: int) -> list[dict[str, Any]]:
        """``count`` lines: what is authorised and exported (a DAE ships the whole authorised quantity)."""
        lines = []
        for _ in range(count):
            line = self._rng.choice(self._lines)
            quantity = Decimal(self._rng.randint(1, 400))
            net = (quantity * Decimal(self._rng.uniform(0.2, 60))).quantize(_THOUSANDTH)
            fob = (quantity * Decimal(self._rng.uniform(5, 900))).quantize(_CENT)
            lot = self._rng.randint(1, 999)
            lines.append(
                {
                    "description": f"{line.description}, lote {lot}",
                    "tariff_code": line.tariff_code,
                    "quantity": {"value": str(quantity), "unit": line.unit},
                    "net_weight_kg": str(max(net, _THOUSANDTH)),
                    "fob_value_usd": str(fob),
                }
            )
        return lines

    # -- documents ------------------------------------------------------------------------------------------

    def _envelope(self, template: dict[str, Any], kind: str) -> tuple[dict[str, Any], str, str]:
        self._serial += 1
        event = json.loads(self._frozen(template))  # a fresh copy, quicker than copy.deepcopy
        event_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        case = f"BENCH-{self._serial:07d}"
        event.update(id=event_id, subject=case, correlationid=f"corr-{case}", time=self._now.isoformat())
        event["data"]["local_reference"] = f"{kind}-B{self._serial:07d}"
        return event, event_id, case

    def _frozen(self, template: dict[str, Any]) -> str:
        key = id(template)
        if key not in self._templates:
            self._templates[key] = json.dumps(template)
        return self._templates[key]

    def _authorization(self, chain: _Chain, items: list[dict[str, Any]], *, prerequisite: bool = False) -> Event:
        event, event_id, case = self._envelope(chain.authorization, "SOL")
        data = event["data"]
        template = data["items"][0]
        shipment = self._today + timedelta(days=7)
        data["planned_shipment_date"] = shipment.isoformat()
        data["planned_return_date"] = (shipment + timedelta(days=180)).isoformat()
        data["items"] = [
            {
                "line_number": n,
                **line,
                "previous_regime": template["previous_regime"],
                "dai_reference": template["dai_reference"],
            }
            for n, line in enumerate(items, start=1)
        ]
        name = f"bench/authorization/{self._serial:07d}" if prerequisite else ""
        return Event(case.encode(), _dump(event), event_id, "authorization-request", len(items), name)

    def _declaration(
        self, chain: _Chain, items: list[dict[str, Any]], authorization: str, *, prerequisite: bool = False
    ) -> Event:
        event, event_id, case = self._envelope(chain.declaration, "DAE")
        data = event["data"]
        data["authorization_number"] = authorization
        for document in data["documents"]:
            if document["reference"] == chain.reference:
                document["reference"] = authorization
        data["items"] = [
            {"line_number": n, "authorised_line_number": n, **line} for n, line in enumerate(items, start=1)
        ]
        net = sum((Decimal(line["net_weight_kg"]) for line in items), Decimal(0))
        fob = sum((Decimal(line["fob_value_usd"]) for line in items), Decimal(0))
        packages = max(1, len(items) * self._rng.randint(1, 3))
        data["net_weight_kg"] = str(net)
        data["gross_weight_kg"] = str((net * Decimal("1.08") + packages * Decimal("4.5")).quantize(_THOUSANDTH))
        data["total_fob_usd"] = str(fob)
        data["packages"]["count"] = packages
        data["invoice"].update(number=f"001-900-{self._serial:09d}", currency="USD", total_value=str(fob))
        data["invoice"]["issue_date"] = self._today.isoformat()
        for document in data["documents"]:
            if document["kind"] == "COMMERCIAL_INVOICE":
                document["reference"] = data["invoice"]["number"]
        data["shipment_date"] = (self._today + timedelta(days=9)).isoformat()
        data["expected_return_date"] = (self._today + timedelta(days=150)).isoformat()
        name = f"bench/declaration/{self._serial:07d}" if prerequisite else ""
        return Event(case.encode(), _dump(event), event_id, "export-declaration", len(items), name)

    def _entry(self, declaration: Event) -> Event:
        dae = json.loads(declaration.value)["data"]
        by_air = dae["transport_mode"] == "4"
        template = self._air_entry if by_air else self._rng.choice(self._sea_entries)
        event, event_id, case = self._envelope(template, "ING")
        data = event["data"]
        data.pop("novelties", None)  # the weight received is the declared one: nothing to report
        data.update(
            district=dae["district"],
            dae_number="{{" + declaration.name + "}}",
            entry_time=(self._now - timedelta(hours=2)).isoformat(),
            packages_received=dae["packages"]["count"],
            package_type=dae["packages"]["package_type"],
            gross_weight_received_kg=dae["gross_weight_kg"],
        )
        data["transport_document"]["number"] = f"BENCH{self._serial:09d}"
        return Event(case.encode(), _dump(event), event_id, "warehouse-entry", 0)

    def _placeholder(self, chain: _Chain, series: str) -> str:
        district = chain.declaration["data"]["district"]
        return f"{district}-{self._today.year}-{series}-{self._serial:08d}"


def _dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
