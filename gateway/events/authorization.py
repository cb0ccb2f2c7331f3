"""Authorization requested: the first document of a régimen-51 case.

Ecuapass form "Solicitud de categoría" with *Motivo del trámite* 01 (autorización al régimen) and *Régimen sujeto
al trámite* 51. Field names and grouping are ours (Ecuapass publishes no schema); the facts are SENAE's.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from gateway.events.common import (
    DeclarationNumber,
    District,
    ForeignParty,
    Kilograms,
    LineNumber,
    Model,
    Operator,
    Party,
    Quantity,
    Reference,
    SupportingDocument,
    TariffCode,
    Text,
    Usd,
    after,
    lines_in_order,
)
from gateway.events.envelope import CaseEventBase


class Purpose(Model):
    code: Literal["REPAIR", "TRANSFORMATION", "ELABORATION"] = Field(
        description="Admissible purpose: repair, transformation, or elaboration (assembly included)."
    )
    description: Text = Field(description="What will be done to the goods abroad.")


class AuthorizationItem(Model):
    line_number: LineNumber = Field(description="Line number, 1-based, unique in the request.")
    description: Text = Field(description="Commercial description of the goods.")
    tariff_code: TariffCode = Field(description="10-digit tariff code (8 NANDINA + 2 national).")
    quantity: Quantity
    net_weight_kg: Kilograms = Field(description="Net weight in kilograms, up to 3 decimals.")
    fob_value_usd: Usd = Field(description="FOB value in USD, up to 2 decimals.")
    serials_marks: list[Text] = Field(default_factory=list, max_length=100, description="Serial numbers or marks.")
    previous_regime: Literal["10", "20"] = Field(
        description="Regime the goods are under now: 10 (nationalised) or 20 (temporary admission)."
    )
    dai_reference: DeclarationNumber = Field(
        description="Import declaration (DAI) that nationalised or admitted the goods, DDD-YYYY-RR-NNNNNNNN."
    )


class AuthorizationRequest(Model):
    """``data`` of an ``ecuapass.regime51.authorization-requested.v1`` event."""

    local_reference: Reference = Field(description="The agency's own reference for this document.")
    district: District = Field(description="Customs district the request is filed in.")
    procedure_reason: Literal["01"] = Field("01", description="Motivo del trámite: 01, autorización al régimen.")
    regime: Literal["51"] = Field("51", description="Régimen sujeto al trámite: 51.")
    applicant: Operator = Field(description="The exporter asking for the authorization; its OCE code is required.")
    customs_agent: Party | None = Field(None, description="Customs agent acting for the exporter, if any.")
    purpose: Purpose
    processor: ForeignParty = Field(description="Who repairs, transforms or elaborates the goods abroad.")
    planned_shipment_date: date
    planned_return_date: date = Field(description="When the compensating products are expected back.")
    items: list[AuthorizationItem] = Field(min_length=1, max_length=999)
    documents: list[SupportingDocument] = Field(
        min_length=1, max_length=50, description="Supporting documents (letter, proforma invoice, DAI, act)."
    )

    _return_after_shipment = field_validator("planned_return_date")(after("planned_shipment_date"))
    _lines_in_order = field_validator("items")(lines_in_order)


class AuthorizationRequested(CaseEventBase):
    """An agency asks for a régimen-51 authorization (Solicitud de autorización, motivo 01)."""

    type: Literal["ecuapass.regime51.authorization-requested.v1"]
    dataschema: Literal["urn:ecuapass-gateway:schema:authorization-requested:1"]
    data: AuthorizationRequest
