"""Warehouse entry: what customs checks against the accepted DAE, the entry number and the inspection channel.

The entry is the last document before inspection: it must name an accepted régimen-51 DAE not entered before, in the
same district, with the same packages and a gross weight close to the declared one. Accepting it assigns the
inspection channel (aforo) by a seeded random draw, as SENAE assigns it only on warehouse entry [C], unless a magic
value in the case's references forces it (``ecuapass_mock/scenarios.py``); what customs does next, per channel, is
``ecuapass_mock/lifecycle.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from lxml import etree

from ecuapass_mock import scenarios
from ecuapass_mock.procedures.common import Context, Grant, error, find, identifiers, text
from gateway.contract.documents import EXPORT_DECLARATION, WAREHOUSE_ENTRY
from gateway.contract.notifications import ECUADOR
from gateway.contract.replies import Acceptance, ReplyError

DAE_KIND = EXPORT_DECLARATION.name
KIND = WAREHOUSE_ENTRY.name
WEIGHT_NOVELTY = Decimal("0.05")  # [G] beyond this deviation from the DAE a shortage or overage must be declared
WEIGHT_LIMIT = Decimal("0.10")  # [G] beyond this the entry is refused anyway
CLOCK_SKEW = timedelta(minutes=5)  # [G] the warehouse's clock may run a little ahead of customs'
# [G] our weights for the draw; SENAE's risk profiles are not public.
CHANNELS: dict[str, int] = {"AUTOMATIC": 40, "ELECTRONIC": 25, "DOCUMENTARY": 20, "PHYSICAL": 15}


def _dae(root: etree._Element, context: Context) -> Grant | None:
    grant = context.store.grant(text(root, "ing:ExportDeclarationNumber"))
    return grant if grant is not None and grant.kind == DAE_KIND else None


def _at(root: etree._Element, path: str) -> etree._Element:
    return find(root, path)[0]


def declared_dae(root: etree._Element, context: Context) -> list[ReplyError]:
    number = _at(root, "ing:ExportDeclarationNumber")
    if _dae(root, context) is None:
        return [error("R51-ING-001", number)]
    if context.store.grants_under(number.text or "", KIND):
        return [error("R51-ING-002", number)]
    return []


def same_district(root: etree._Element, context: Context) -> list[ReplyError]:
    dae = _dae(root, context)
    declared = dae.details.get("district") if dae else None
    district = _at(root, "ing:District")
    if isinstance(declared, str) and declared != district.text:
        return [error("R51-ING-003", district, detail=f"DAE: {declared}.")]
    return []


def same_packages(root: etree._Element, context: Context) -> list[ReplyError]:
    dae = _dae(root, context)
    declared = _number(dae.details.get("packages")) if dae else None
    received = _at(root, "ing:ReceivedPackageQuantity")
    if declared is not None and declared != _number(received.text):
        return [error("R51-ING-004", received, detail=f"DAE: {declared}.")]
    return []


def weight_within_tolerance(root: etree._Element, context: Context) -> list[ReplyError]:
    dae = _dae(root, context)
    declared = _number(dae.details.get("gross_weight_kg")) if dae else None
    element = _at(root, "ing:ReceivedGrossWeightKg")
    received = _number(element.text)
    if declared is None or received is None or received == declared:
        return []
    deviation = abs(received - declared) / declared if declared else Decimal(1)
    detail = f"DAE: {declared} kg."
    if deviation > WEIGHT_LIMIT:
        return [error("R51-ING-006", element, detail=detail)]
    novelty = "SHORTAGE" if received < declared else "OVERAGE"
    if deviation > WEIGHT_NOVELTY and not find(root, f"ing:Novelty/ing:TypeCode[. = '{novelty}']"):
        return [error("R51-ING-005", element, detail=detail)]
    return []


def entry_not_in_future(root: etree._Element, context: Context) -> list[ReplyError]:
    element = _at(root, "ing:EntryDateTime")
    entered = datetime.fromisoformat(element.text or "")
    if entered.tzinfo is None:  # xs:dateTime may omit the offset: read it as Ecuador's time [G]
        entered = entered.replace(tzinfo=ECUADOR)
    if entered > context.now + CLOCK_SKEW:
        return [error("R51-ING-007", element)]
    return []


RULES = (declared_dae, same_district, same_packages, weight_within_tolerance, entry_not_in_future, identifiers)


def check(root: etree._Element, context: Context) -> list[ReplyError]:
    return [finding for rule in RULES for finding in rule(root, context)]


def accept(root: etree._Element, context: Context, warnings: tuple[ReplyError, ...]) -> tuple[Acceptance, Grant]:
    district = text(root, "ing:District")
    year = context.now.year
    sequence = context.store.next_sequence(f"entry:{district}:{year}")
    number = f"{district}-{year}-IE51-{sequence:08d}"
    dae_number = text(root, "ing:ExportDeclarationNumber")
    drawn = draw_channel(context)  # drawn even when a magic reference forces the channel: the draw stays the same
    channel = scenarios.of_entry(context.store, text(root, "ing:Header/cmn:FunctionalReference"), dae_number).channel
    channel = channel or drawn
    dae = _dae(root, context)
    grant = Grant(
        number=number,
        kind=KIND,
        exporter=dae.exporter if dae else "",
        parent=dae_number,
        details={
            "district": district,
            "warehouse_oce_code": text(root, "ing:Warehouse/cmn:OceCode"),
            "entry_time": text(root, "ing:EntryDateTime"),
            "packages": int(text(root, "ing:ReceivedPackageQuantity")),
            "gross_weight_kg": text(root, "ing:ReceivedGrossWeightKg"),
            "inspection_channel": channel,
        },
    )
    acceptance = Acceptance(number, context.now, inspection_channel=channel, warnings=warnings)
    return acceptance, grant


def draw_channel(context: Context) -> str:
    """The inspection channel, from the draw seeded by the mock's seed and the message id: reproducible."""
    return context.rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0]


def _number(value: object) -> Decimal | None:
    """A count or weight as recorded (int, or a decimal string), or ``None`` when it cannot be read."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
