"""Export declaration (DAE 51): the authorization it ships under, its lines against the authorised lines, its totals
and its port of loading; once accepted, the DAE number and the quantities it exported.

Rules about the authorization need its grant: when there is none, only the rules about the document itself run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from ecuapass_mock.procedures.common import Context, Grant, error, find, identifiers, text
from gateway.contract.codelists import DISTRICT_PORTS
from gateway.contract.documents import AUTHORIZATION_REQUEST, EXPORT_DECLARATION
from gateway.contract.replies import Acceptance, ReplyError

KIND = EXPORT_DECLARATION.name
AIR_DISTRICTS = ("019", "055")  # Guayaquil aéreo and Quito: goods leave from the airport
NET_WEIGHT_TOLERANCE = Decimal("0.005")  # [G] 0.5 % of the declared total net weight
USD_TOLERANCE = Decimal("0.01")

AuthorizationRule = Callable[[etree._Element, Context, Grant], list[ReplyError]]


def _decimal(element: etree._Element) -> Decimal:
    return Decimal(element.text or "0")


def _one(root: etree._Element, path: str) -> etree._Element:
    return find(root, path)[0]


def _quantity(item: etree._Element) -> etree._Element:
    return _one(item, "dae:Quantity")


def _exported(root: etree._Element, lines: dict[str, Any] | None = None) -> dict[str, list[etree._Element]]:
    """Quantity elements per authorised line number; with ``lines``, only those in the authorised line's unit."""
    exported: dict[str, list[etree._Element]] = {}
    for item in find(root, "dae:Item"):
        line, quantity = text(item, "dae:AuthorisedLineNumeric"), _quantity(item)
        if lines is None or (line in lines and quantity.get("unitCode") == lines[line]["unit"]):
            exported.setdefault(line, []).append(quantity)
    return exported


def _sum(elements: list[etree._Element]) -> Decimal:
    return sum(map(_decimal, elements), Decimal(0))


def holder(root: etree._Element, _: Context, authorization: Grant) -> list[ReplyError]:
    exporter = _one(root, "dae:Exporter/cmn:Ruc")
    return [] if exporter.text == authorization.exporter else [error("R51-DAE-002", exporter)]


def validity(root: etree._Element, context: Context, authorization: Grant) -> list[ReplyError]:
    if authorization.valid_until is None or context.now.date() <= date.fromisoformat(authorization.valid_until):
        return []
    detail = f"Vigente hasta {authorization.valid_until}."
    return [error("R51-DAE-003", _one(root, "dae:AuthorizationNumber"), detail=detail)]


def return_date(root: etree._Element, _: Context, authorization: Grant) -> list[ReplyError]:
    expected = _one(root, "dae:ExpectedReturnDate")
    allowed = authorization.details["planned_return_date"]
    if date.fromisoformat(expected.text or "") <= date.fromisoformat(allowed):
        return []
    return [error("R51-DAE-004", expected, detail=f"Retorno autorizado hasta {allowed}.")]


def authorised_lines(root: etree._Element, _: Context, authorization: Grant) -> list[ReplyError]:
    lines = authorization.details["lines"]
    findings = []
    for item in find(root, "dae:Item"):
        number = _one(item, "dae:AuthorisedLineNumeric")
        line = lines.get(number.text)
        if line is None:
            findings.append(error("R51-DAE-005", number, detail=f"La autorización no tiene la línea {number.text}."))
        elif text(item, "dae:TariffCode") != line["tariff_code"]:
            detail = f"Subpartida autorizada en la línea {number.text}: {line['tariff_code']}."
            findings.append(error("R51-DAE-005", _one(item, "dae:TariffCode"), detail=detail))
        elif _quantity(item).get("unitCode") != line["unit"]:
            detail = f"Unidad autorizada en la línea {number.text}: {line['unit']}."
            findings.append(error("R51-DAE-005", _quantity(item), detail=detail))
    return findings


def cumulative_quantity(root: etree._Element, context: Context, authorization: Grant) -> list[ReplyError]:
    lines = authorization.details["lines"]
    earlier: dict[str, Decimal] = {}
    for dae in context.store.grants_under(authorization.number, KIND):
        for line, quantity in dae.details["exported"].items():
            earlier[line] = earlier.get(line, Decimal(0)) + Decimal(quantity)
    findings = []
    for line, quantities in _exported(root, lines).items():
        authorised, before, now = Decimal(lines[line]["quantity"]), earlier.get(line, Decimal(0)), _sum(quantities)
        if before + now > authorised:
            detail = f"Línea autorizada {line}: autorizado {authorised}, ya exportado {before}, esta DAE {now}."
            findings.append(error("R51-DAE-006", quantities[0], detail=detail))
    return findings


def totals(root: etree._Element, _: Context) -> list[ReplyError]:
    findings = []
    net = _one(root, "dae:TotalNetWeightKg")
    lines_net = _sum(find(root, "dae:Item/dae:NetWeightKg"))
    if abs(lines_net - _decimal(net)) > _decimal(net) * NET_WEIGHT_TOLERANCE:
        findings.append(error("R51-DAE-007", net, detail=f"Suma de las líneas: {lines_net} kg."))
    fob = _one(root, "dae:TotalFobValueUsd")
    lines_fob = _sum(find(root, "dae:Item/dae:FobValueUsd"))
    if abs(lines_fob - _decimal(fob)) > USD_TOLERANCE:
        findings.append(error("R51-DAE-008", fob, detail=f"Suma de las líneas: {lines_fob} USD."))
    invoice = _one(root, "dae:Invoice/dae:TotalAmount")
    if text(root, "dae:Invoice/dae:CurrencyCode") == "USD" and abs(_decimal(invoice) - _decimal(fob)) > USD_TOLERANCE:
        findings.append(error("R51-DAE-009", invoice, detail=f"FOB total: {_decimal(fob)} USD."))
    return findings


def loading(root: etree._Element, _: Context) -> list[ReplyError]:
    district = text(root, "dae:District")
    if district in AIR_DISTRICTS:
        mode = _one(root, "dae:TransportModeCode")
        return [] if mode.text == "4" else [error("R51-DAE-011", mode)]
    port = DISTRICT_PORTS.get(district)
    location = _one(root, "dae:LoadingLocation")
    if port is None or location.text == port:
        return []
    return [error("R51-DAE-010", location, detail=f"El distrito {district} embarca por {port}.")]


AUTHORIZATION_RULES: tuple[AuthorizationRule, ...] = (
    holder,
    validity,
    return_date,
    authorised_lines,
    cumulative_quantity,
)
RULES = (totals, loading, identifiers)


def check(root: etree._Element, context: Context) -> list[ReplyError]:
    number = _one(root, "dae:AuthorizationNumber")
    authorization = context.store.grant(number.text or "")
    if authorization is None or authorization.kind != AUTHORIZATION_REQUEST.name:
        found = [error("R51-DAE-001", number)]
    else:
        found = [finding for rule in AUTHORIZATION_RULES for finding in rule(root, context, authorization)]
    return found + [finding for rule in RULES for finding in rule(root, context)]


def accept(root: etree._Element, context: Context, warnings: tuple[ReplyError, ...]) -> tuple[Acceptance, Grant]:
    district = text(root, "dae:District")
    year = context.now.year
    sequence = context.store.next_sequence(f"dae:{district}:{year}")
    number = f"{district}-{year}-51-{sequence:08d}"
    grant = Grant(
        number=number,
        kind=KIND,
        exporter=text(root, "dae:Exporter/cmn:Ruc"),
        parent=text(root, "dae:AuthorizationNumber"),
        details={
            "district": district,
            "packages": int(text(root, "dae:Packages/dae:Quantity")),
            "gross_weight_kg": text(root, "dae:TotalGrossWeightKg"),
            "exported": {line: str(_sum(quantities)) for line, quantities in _exported(root).items()},
        },
    )
    return Acceptance(number, context.now, warnings=warnings), grant
