"""What every procedure shares: findings with codes and pointers, XPath helpers, the context, identifier checks.

Each finding carries a code of ``gateway.contract.customs_codes`` and a pointer (an XPath with the prefixes of
``gateway.contract.namespaces.PREFIXES``) to the offending element. A ``Procedure`` is the mock's entry for one
document: its contract spec with the rules that check it and the numbering that accepts it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree
from stdnum import iso6346
from stdnum.ec import ci
from stdnum.ec import ruc as ruc_check

from ecuapass_mock.store import FilingStore, Grant
from gateway.contract.customs_codes import BY_CODE
from gateway.contract.documents import DocumentSpec
from gateway.contract.namespaces import PREFIXES
from gateway.contract.replies import Acceptance, ReplyError

__all__ = ["Context", "Grant", "Procedure", "add_years", "date_at", "error", "find", "identifiers", "text"]

Rule = Callable[[etree._Element, "Context"], list[ReplyError]]


@dataclass(frozen=True, slots=True)
class Context:
    """What rules and numbering may use besides the document: the store, the clock, the seeded draw."""

    store: FilingStore
    now: datetime
    rng: random.Random
    message_id: str


@dataclass(frozen=True, slots=True)
class Procedure:
    """What customs does with one document: ``check`` lists every finding (errors and warnings), ``accept`` gives
    the acceptance with its official numbers and what it grants later documents."""

    spec: DocumentSpec
    check: Callable[[etree._Element, Context], list[ReplyError]]
    accept: Callable[[etree._Element, Context, tuple[ReplyError, ...]], tuple[Acceptance, Grant | None]]

    @property
    def name(self) -> str:
        return self.spec.name


def error(code: str, element: etree._Element | None, *, detail: str = "") -> ReplyError:
    entry = BY_CODE[code]
    return ReplyError(
        code=code,
        description=f"{entry.message_es} {detail}".strip(),
        severity=entry.severity,
        pointer=None if element is None else element.getroottree().getpath(element),
    )


def find(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces=PREFIXES)  # type: ignore[return-value]


def date_at(root: etree._Element, path: str) -> tuple[etree._Element, date]:
    element = find(root, path)[0]
    return element, date.fromisoformat(element.text or "")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def identifiers(root: etree._Element, _: Context | None = None) -> list[ReplyError]:
    """Identifier checks where the rule is real: a natural-person RUC is a valid cédula plus an establishment, and a
    container number carries its ISO 6346 check digit. Company (9) and public-body (6) RUCs failing mod-11 are only a
    warning: real active RUCs fail it."""
    findings = []
    for element in find(root, "//cmn:Ruc"):
        number = element.text or ""
        if number[2:3] in ("6", "9"):
            if not ruc_check.is_valid(number):
                findings.append(error("R51-ID-001", element))
        elif not ci.is_valid(number[:10]) or number[10:] == "000":
            findings.append(error("R51-ID-002", element))
    for element in find(root, "//*[local-name() = 'TransportEquipment']/*[local-name() = 'ID']"):
        if not iso6346.is_valid(element.text or ""):
            findings.append(error("R51-ID-003", element))
    return findings


def text(root: etree._Element, path: str) -> str:
    """The text of the first element at ``path``, or ``""``."""
    found = find(root, path)
    return (found[0].text or "") if found else ""
