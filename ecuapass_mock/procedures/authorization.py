"""Authorization request: SENAE's requirements for entering régimen 51, and the authorization it grants."""

from __future__ import annotations

from datetime import date, timedelta

from lxml import etree

from ecuapass_mock.procedures.common import (
    Context,
    Grant,
    add_years,
    date_at,
    error,
    find,
    identifiers,
    text,
)
from gateway.contract.documents import AUTHORIZATION_REQUEST
from gateway.contract.replies import Acceptance, ReplyError

REQUIRED_DOCUMENTS = ("EXPORTER_LETTER", "PROFORMA_INVOICE", "IMPORT_DECLARATION")
VALIDITY = timedelta(days=90)  # [G] an authorization can be used for shipments this long after the planned one


def required_documents(root: etree._Element, _: Context) -> list[ReplyError]:
    kinds = {e.text for e in find(root, "aut:SupportingDocument/cmn:Kind")}
    missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]
    if not missing:
        return []
    anchor = find(root, "aut:SupportingDocument")
    return [error("R51-AUT-001", anchor[0] if anchor else root, detail=f"Faltan: {', '.join(missing)}.")]


def regime_change_act(root: etree._Element, _: Context) -> list[ReplyError]:
    kinds = {e.text for e in find(root, "aut:SupportingDocument/cmn:Kind")}
    if "REGIME_CHANGE_ACT" in kinds:
        return []
    return [error("R51-AUT-002", e) for e in find(root, "aut:Item/aut:PreviousRegime[. = '20']")]


def time_abroad(root: etree._Element, _: Context) -> list[ReplyError]:
    shipment = date_at(root, "aut:PlannedShipmentDate")[1]
    returned, back = date_at(root, "aut:PlannedReturnDate")
    if back > add_years(shipment, 2):
        return [error("R51-AUT-003", returned)]
    if find(root, "aut:Item/aut:PreviousRegime[. = '20']") and back > add_years(shipment, 1):
        return [error("R51-AUT-004", returned)]
    return []


RULES = (required_documents, regime_change_act, time_abroad, identifiers)


def check(root: etree._Element, context: Context) -> list[ReplyError]:
    return [finding for rule in RULES for finding in rule(root, context)]


def accept(root: etree._Element, context: Context, warnings: tuple[ReplyError, ...]) -> tuple[Acceptance, Grant]:
    district = text(root, "aut:District")
    year = context.now.year
    sequence = context.store.next_sequence(f"authorization:{district}:{year}")
    number = f"{district}-{year}-AUT51-{sequence:08d}"
    valid_until = date.fromisoformat(text(root, "aut:PlannedShipmentDate")) + VALIDITY
    lines = {
        text(item, "aut:SequenceNumeric"): {
            "tariff_code": text(item, "aut:TariffCode"),
            "quantity": text(item, "aut:Quantity"),
            "unit": find(item, "aut:Quantity")[0].get("unitCode"),
            "previous_regime": text(item, "aut:PreviousRegime"),
        }
        for item in find(root, "aut:Item")
    }
    grant = Grant(
        number=number,
        kind=AUTHORIZATION_REQUEST.name,
        exporter=text(root, "aut:Applicant/cmn:Ruc"),
        valid_until=valid_until.isoformat(),
        details={
            "district": district,
            "planned_return_date": text(root, "aut:PlannedReturnDate"),
            "lines": lines,
        },
    )
    return Acceptance(number, context.now, valid_until=valid_until, warnings=warnings), grant
