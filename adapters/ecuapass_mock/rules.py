"""Business rules the mock enforces, read from the filed XML (the mock never sees the gateway's events).

Each rule answers with a code of ``gateway.customs_codes`` and a pointer (XPath, prefixes of
``gateway.xml.namespaces.PREFIXES``) to the offending element. Rules are pure functions of the document (and, for
later documents, the store), one list per document kind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from lxml import etree
from stdnum.ec import ruc as ruc_check

from gateway.customs_codes import BY_CODE
from gateway.ports import ReplyError
from gateway.xml.namespaces import PREFIXES

REQUIRED_AUTHORIZATION_DOCUMENTS = ("EXPORTER_LETTER", "PROFORMA_INVOICE", "IMPORT_DECLARATION")

Rule = Callable[[etree._Element], list[ReplyError]]


def error(code: str, element: etree._Element | None, *, detail: str = "") -> ReplyError:
    entry = BY_CODE[code]
    return ReplyError(
        code=code,
        description=f"{entry.message_es} {detail}".strip(),
        severity=entry.severity,
        pointer=None if element is None else element.getroottree().getpath(element),
    )


def _find(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces=PREFIXES)  # type: ignore[return-value]


def _date(root: etree._Element, path: str) -> tuple[etree._Element, date]:
    element = _find(root, path)[0]
    return element, date.fromisoformat(element.text or "")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def required_documents(root: etree._Element) -> list[ReplyError]:
    kinds = {e.text for e in _find(root, "aut:SupportingDocument/cmn:Kind")}
    missing = [kind for kind in REQUIRED_AUTHORIZATION_DOCUMENTS if kind not in kinds]
    if not missing:
        return []
    anchor = _find(root, "aut:SupportingDocument")
    return [error("R51-AUT-001", anchor[0] if anchor else root, detail=f"Faltan: {', '.join(missing)}.")]


def regime_change_act(root: etree._Element) -> list[ReplyError]:
    kinds = {e.text for e in _find(root, "aut:SupportingDocument/cmn:Kind")}
    if "REGIME_CHANGE_ACT" in kinds:
        return []
    return [error("R51-AUT-002", e) for e in _find(root, "aut:Item/aut:PreviousRegime[. = '20']")]


def time_abroad(root: etree._Element) -> list[ReplyError]:
    _, shipment = _date(root, "aut:PlannedShipmentDate")
    returned, back = _date(root, "aut:PlannedReturnDate")
    if back > _add_years(shipment, 2):
        return [error("R51-AUT-003", returned)]
    if _find(root, "aut:Item/aut:PreviousRegime[. = '20']") and back > _add_years(shipment, 1):
        return [error("R51-AUT-004", returned)]
    return []


def ruc_check_digits(root: etree._Element) -> list[ReplyError]:
    """Company (9) and public-body (6) RUCs failing mod-11 are a warning only: real active RUCs fail it."""
    warnings = []
    for element in _find(root, "//cmn:Ruc"):
        number = element.text or ""
        if len(number) == 13 and number[2] in "69" and not ruc_check.is_valid(number):
            warnings.append(error("R51-ID-001", element))
    return warnings


RULES: dict[str, tuple[Rule, ...]] = {
    "authorization-request": (required_documents, regime_change_act, time_abroad, ruc_check_digits),
}


def check(kind: str, root: etree._Element) -> list[ReplyError]:
    """Every finding of every rule of ``kind``: errors and warnings together, in rule order."""
    return [finding for rule in RULES.get(kind, ()) for finding in rule(root)]
