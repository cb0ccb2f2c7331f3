"""Export declaration submitted: the DAE under régimen 51, the second document of a case.

It ships goods an authorization covers (each line names its authorised line). The form checks live here: line
numbers in order, net weight not above gross, sea-only Incoterms with sea transport, return after shipment. What
needs customs' records (the authorization, earlier DAEs, totals against lines) is checked by customs. Field names
and grouping are ours (Ecuapass publishes no schema); the facts are SENAE's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from gateway.contract import codelists
from gateway.events.common import (
    AuthorizationNumber,
    Country,
    Currency,
    District,
    ForeignParty,
    Incoterm,
    Kilograms,
    LineNumber,
    Model,
    Operator,
    PackageType,
    Party,
    Quantity,
    Reference,
    SupportingDocument,
    TariffCode,
    Text,
    UnLocode,
    Usd,
    after,
    lines_in_order,
)
from gateway.events.envelope import CaseEventBase


class Invoice(Model):
    number: Reference = Field(description="Commercial invoice number.")
    issue_date: date
    currency: Currency = Field("USD", description="ISO 4217 currency of the invoice.")
    total_value: Usd = Field(description="Invoice total in its currency, up to 2 decimals.")


class Packages(Model):
    count: int = Field(ge=1, le=999_999, description="Number of packages.")
    package_type: PackageType = Field(description="Ecuapass 3-digit package type, e.g. 035 box, 152 pallets.")


class ExportItem(Model):
    line_number: LineNumber = Field(description="Line number, 1-based, unique in the declaration.")
    authorised_line_number: LineNumber = Field(description="The authorization's line these goods are exported under.")
    description: Text = Field(description="Commercial description of the goods.")
    tariff_code: TariffCode = Field(description="10-digit tariff code; the authorised line's.")
    quantity: Quantity = Field(description="Quantity exported, in the authorised line's unit.")
    net_weight_kg: Kilograms = Field(description="Net weight in kilograms, up to 3 decimals.")
    fob_value_usd: Usd = Field(description="FOB value in USD, up to 2 decimals.")


class ExportDeclaration(Model):
    """``data`` of an ``ecuapass.regime51.export-declaration-submitted.v1`` event."""

    local_reference: Reference = Field(description="The agency's own reference for this document.")
    district: District = Field(description="Customs district the goods leave from.")
    regime: Literal["51"] = Field("51", description="Régimen 51.")
    authorization_number: AuthorizationNumber = Field(description="The régimen-51 authorization, DDD-YYYY-AUT51-N…")
    exporter: Operator = Field(description="The exporter, holder of the authorization; its OCE code is required.")
    declarant: Party | None = Field(None, description="Customs agent declaring for the exporter, if any.")
    consignee: ForeignParty = Field(description="The processor abroad the goods are sent to.")
    destination_country: Country
    transport_mode: Literal["1", "3", "4"] = Field(description="UN/ECE Rec. 19: 1 sea, 3 road, 4 air.")
    port_of_loading: UnLocode = Field(description="UN/LOCODE where the goods are loaded, e.g. ECGYE.")
    incoterm: Incoterm = Field(description="Incoterms 2020; FAS, FOB, CFR and CIF only by sea.")
    invoice: Invoice
    packages: Packages
    gross_weight_kg: Kilograms = Field(description="Total gross weight in kilograms.")
    net_weight_kg: Kilograms = Field(description="Total net weight in kilograms; not above the gross weight.")
    total_fob_usd: Usd = Field(description="Total FOB value in USD.")
    shipment_date: date
    expected_return_date: date = Field(description="When the compensating products are expected back.")
    items: list[ExportItem] = Field(min_length=1, max_length=999)
    documents: list[SupportingDocument] = Field(
        min_length=1, max_length=50, description="Supporting documents (commercial invoice, transport document…)."
    )

    @field_validator("incoterm")
    @classmethod
    def _sea_terms_by_sea(cls, value: str, info: ValidationInfo) -> str:
        mode = info.data.get("transport_mode")
        if value in codelists.INCOTERMS_SEA and mode is not None and mode != "1":
            raise PydanticCustomError(
                "incoterm_mode_mismatch",
                "{incoterm} is a sea-only Incoterm: transport_mode must be 1 (sea)",
                {"incoterm": value},
            )
        return value

    @field_validator("net_weight_kg")
    @classmethod
    def _net_within_gross(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        gross = info.data.get("gross_weight_kg")
        if gross is not None and value > gross:
            raise PydanticCustomError("net_weight_above_gross", "net_weight_kg must not exceed gross_weight_kg")
        return value

    _return_after_shipment = field_validator("expected_return_date")(after("shipment_date"))
    _lines_in_order = field_validator("items")(lines_in_order)


class ExportDeclarationSubmitted(CaseEventBase):
    """An agency submits the DAE under régimen 51 for goods an authorization covers."""

    type: Literal["ecuapass.regime51.export-declaration-submitted.v1"]
    dataschema: Literal["urn:ecuapass-gateway:schema:export-declaration-submitted:1"]
    data: ExportDeclaration
