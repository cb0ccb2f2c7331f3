"""Authorization requested: the first document of a régimen-51 case.

Ecuapass form "Solicitud de categoría" with *Motivo del trámite* 01 (autorización al régimen) and *Régimen sujeto
al trámite* 51. Field names and grouping are ours (Ecuapass publishes no schema); the facts are SENAE's.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from gateway.events.common import (
    DeclarationNumber,
    District,
    ForeignParty,
    Kilograms,
    LineNumber,
    Model,
    Party,
    Quantity,
    Reference,
    SupportingDocument,
    TariffCode,
    Text,
    Usd,
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
    applicant: Party = Field(description="The exporter asking for the authorization; its OCE code is required.")
    customs_agent: Party | None = Field(None, description="Customs agent acting for the exporter, if any.")
    purpose: Purpose
    processor: ForeignParty = Field(description="Who repairs, transforms or elaborates the goods abroad.")
    planned_shipment_date: date
    planned_return_date: date = Field(description="When the compensating products are expected back.")
    items: list[AuthorizationItem] = Field(min_length=1, max_length=999)
    documents: list[SupportingDocument] = Field(
        min_length=1, max_length=50, description="Supporting documents (letter, proforma invoice, DAI, act)."
    )

    @field_validator("applicant")
    @classmethod
    def _applicant_is_operator(cls, applicant: Party) -> Party:
        if applicant.oce_code is None:
            raise PydanticCustomError(
                "oce_code_required",
                "the applicant must be a registered foreign-trade operator (OCE code)",
                {"field": "oce_code"},
            )
        return applicant

    @field_validator("planned_return_date")
    @classmethod
    def _return_after_shipment(cls, value: date, info: ValidationInfo) -> date:
        shipment = info.data.get("planned_shipment_date")
        if shipment is not None and value <= shipment:
            raise PydanticCustomError(
                "return_before_shipment", "planned_return_date must be after planned_shipment_date"
            )
        return value

    @field_validator("items")
    @classmethod
    def _lines_in_order(cls, items: list[AuthorizationItem]) -> list[AuthorizationItem]:
        for position, item in enumerate(items, start=1):
            if item.line_number != position:
                raise PydanticCustomError(
                    "line_number_out_of_sequence",
                    "line numbers must be 1, 2, 3… in order; expected {expected}",
                    {"expected": position, "field": f"{position - 1}.line_number"},
                )
        return items


class AuthorizationRequested(CaseEventBase):
    """An agency asks for a régimen-51 authorization (Solicitud de autorización, motivo 01)."""

    type: Literal["ecuapass.regime51.authorization-requested.v1"]
    dataschema: Literal["urn:ecuapass-gateway:schema:authorization-requested:1"]
    data: AuthorizationRequest
