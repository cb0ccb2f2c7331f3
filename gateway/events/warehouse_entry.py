"""Warehouse entry registered: the third document of a régimen-51 case, after the DAE is accepted.

The temporary-warehouse operator (depósito temporal) reports that the goods of a DAE under régimen 51 arrived:
what it counted and weighed, the containers and their seals, the transport document and any novelty. Only after this
entry does customs assign the inspection channel. Field names and grouping are ours (Ecuapass publishes no schema);
the facts are SENAE's. Checks here need nothing but the event; comparing with the DAE is customs' job (the mock).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from gateway.events.common import (
    ContainerNumber,
    Dae51Number,
    District,
    Kilograms,
    Model,
    OceCode,
    PackageType,
    Reference,
    Ruc,
    ShortText,
    Text,
)
from gateway.events.envelope import CaseEventBase

# The district list is part of the number: the XSD's Dae51NumberType refuses any other district.
# ISO 6346 size and type code: length, height/width, type group letter and detail digit (22G1, 45G1, L5G1, 22R1).
SizeTypeCode = Annotated[str, StringConstraints(pattern=r"^[1-9A-Z][0-9A-Z][A-Z][0-9]$")]
SealNumber = Annotated[str, StringConstraints(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")]
PackageCount = Annotated[int, Field(ge=0, le=99_999_999)]


class Warehouse(Model):
    """The temporary warehouse that received the goods: a registered operator, the sender of the document."""

    oce_code: OceCode = Field(description="8-digit OCE code of the warehouse in Ecuapass, e.g. 05909371.")
    name: ShortText = Field(description="Registered name of the warehouse operator.")
    # Required although the OCE code identifies the warehouse: the XSD writes the warehouse as a registered
    # operator (cmn:OperatorPartyType), the one common type carrying cmn:OceCode, and its RUC is mandatory there.
    ruc: Ruc = Field(description="13-digit RUC of the warehouse operator.")


class TransportDocument(Model):
    kind: Literal["BL", "AWB", "CRT"] = Field(
        description="BL bill of lading (sea), AWB air waybill, CRT carta de porte internacional (road)."
    )
    number: Reference = Field(description="The transport document's number.")


class Container(Model):
    number: ContainerNumber = Field(description="ISO 6346 container number with its check digit, e.g. MSCU1234566.")
    size_type: SizeTypeCode = Field(description="ISO 6346 size and type code, e.g. 22G1 (20 ft), 45G1 (40 ft HC).")
    seals: list[SealNumber] = Field(max_length=10, description="Seal numbers found on the container; at least one.")

    @field_validator("seals")
    @classmethod
    def _sealed(cls, seals: list[str]) -> list[str]:
        if not seals:
            raise PydanticCustomError("seal_required", "every container enters sealed: give at least one seal")
        return seals


class Novelty(Model):
    """Something found on reception that differs from the declaration."""

    kind: Literal["SHORTAGE", "OVERAGE", "DAMAGE"] = Field(
        description="SHORTAGE less than declared, OVERAGE more than declared, DAMAGE damaged packages."
    )
    description: Text = Field(description="What was found.")
    packages_affected: Annotated[int, Field(ge=1, le=99_999_999)] | None = Field(
        None, description="How many packages the novelty concerns, when known."
    )


class WarehouseEntry(Model):
    """``data`` of an ``ecuapass.regime51.warehouse-entry-registered.v1`` event."""

    local_reference: Reference = Field(description="The warehouse's own reference for this entry.")
    warehouse: Warehouse
    district: District = Field(description="Customs district of the warehouse; the DAE's district.")
    dae_number: Dae51Number = Field(description="Accepted DAE under régimen 51, DDD-YYYY-51-NNNNNNNN.")
    entry_time: AwareDatetime = Field(description="When the goods entered the warehouse (RFC 3339 with offset).")
    packages_received: PackageCount = Field(description="Packages counted on reception.")
    package_type: PackageType = Field(description="Ecuapass 3-digit package type, e.g. 035 box, 152 pallets.")
    gross_weight_received_kg: Kilograms = Field(description="Gross weight weighed on reception, up to 3 decimals.")
    transport_document: TransportDocument
    containers: list[Container] = Field(
        default_factory=list, max_length=200, description="Containers received; empty for loose or air cargo."
    )
    novelties: list[Novelty] = Field(
        default_factory=list, max_length=50, description="Shortages, overages or damage found on reception."
    )

    @field_validator("containers")
    @classmethod
    def _distinct_containers(cls, containers: list[Container]) -> list[Container]:
        seen: set[str] = set()
        seals: set[str] = set()
        for index, container in enumerate(containers):
            if container.number in seen:
                raise PydanticCustomError(
                    "container_duplicated",
                    "container {container} is listed twice",
                    {"container": container.number, "field": f"{index}.number"},
                )
            seen.add(container.number)
            for n, seal in enumerate(container.seals):
                if seal in seals:
                    raise PydanticCustomError(
                        "seal_duplicated",
                        "seal {seal} appears twice; a seal closes one container",
                        {"seal": seal, "field": f"{index}.seals.{n}"},
                    )
                seals.add(seal)
        return containers

    @field_validator("novelties")
    @classmethod
    def _consistent_novelties(cls, novelties: list[Novelty], info: ValidationInfo) -> list[Novelty]:
        received = info.data.get("packages_received")
        kinds: set[str] = set()
        for index, novelty in enumerate(novelties):
            opposite = {"SHORTAGE": "OVERAGE", "OVERAGE": "SHORTAGE"}.get(novelty.kind)
            if opposite in kinds:
                raise PydanticCustomError(
                    "novelty_contradictory",
                    "a reception cannot be short and over at once: {kind} contradicts an earlier {opposite}",
                    {"kind": novelty.kind, "opposite": opposite, "field": f"{index}.kind"},
                )
            kinds.add(novelty.kind)
            if novelty.kind == "DAMAGE" and isinstance(received, int):
                damaged = novelty.packages_affected or 1
                if damaged > received:
                    where = "packages_affected" if novelty.packages_affected else "kind"
                    raise PydanticCustomError(
                        "novelty_exceeds_received",
                        "{damaged} damaged package(s) declared but {received} received",
                        {"damaged": damaged, "received": received, "field": f"{index}.{where}"},
                    )
        return novelties


class WarehouseEntryRegistered(CaseEventBase):
    """A temporary warehouse registers the entry of the goods of a régimen-51 DAE (ingreso de mercancías)."""

    type: Literal["ecuapass.regime51.warehouse-entry-registered.v1"]
    dataschema: Literal["urn:ecuapass-gateway:schema:warehouse-entry-registered:1"]
    data: WarehouseEntry
