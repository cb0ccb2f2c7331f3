"""Value types shared by every canonical event: identifiers, codes, amounts and parties.

Each type enforces the rule it names (pattern, code list, check digit) so that a model field declared with it
cannot hold a value customs would refuse for its form. Error types raised here (``PydanticCustomError``) are the
stable codes a rejection reports (see ``gateway.events.validation``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from stdnum import iso6346
from stdnum.ec import ci

from gateway.contract import codelists


class Model(BaseModel):
    """Base of every event model: strict types, no unknown fields, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, str_strip_whitespace=False)


def _code_list(codes: Collection[str], error: str, what: str) -> tuple[FieldInfo, AfterValidator]:
    """Metadata of a code-list type: the codes published as the JSON Schema enum, and the check itself."""

    def check(value: str) -> str:
        if value not in codes:
            raise PydanticCustomError(error, "{value} is not a valid {what}", {"value": value, "what": what})
        return value

    published = list(codes) if isinstance(codes, dict | list | tuple) else sorted(codes)
    return Field(json_schema_extra={"enum": published}), AfterValidator(check)


def _cedula_checksum(value: str) -> str:
    # python-stdnum implements the province prefix and the mod-10 check digit of the cédula.
    if not ci.is_valid(value):
        raise PydanticCustomError(
            "cedula_invalid", "{value} is not a valid cédula (province or check digit)", {"value": value}
        )
    return value


def _ruc_structure(value: str) -> str:
    # Natural persons (third digit 0-5): a valid cédula plus an establishment number other than 000.
    # Public bodies (6) and companies (9): only the form is checked here; a failed mod-11 is a *warning*
    # (gateway.events.identifiers), never a rejection, since real active RUCs fail it.
    third = value[2]
    if third in "012345":
        if not ci.is_valid(value[:10]) or value[10:] == "000":
            raise PydanticCustomError(
                "ruc_invalid",
                "{value} is not a valid natural-person RUC (cédula + establishment)",
                {"value": value},
            )
    elif third not in "69":
        raise PydanticCustomError("ruc_invalid", "{value}: the third digit of a RUC is 0-6 or 9", {"value": value})
    elif not 1 <= int(value[:2]) <= 24 and value[:2] != "30":
        raise PydanticCustomError(
            "ruc_invalid", "{value}: a RUC starts with a province code 01-24 or 30", {"value": value}
        )
    elif value[10:] == "000":
        raise PydanticCustomError(
            "ruc_invalid", "{value}: the establishment number of a RUC is never 000", {"value": value}
        )
    return value


# Characters outside XML 1.0's Char production: control characters, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        raise PydanticCustomError(
            "xml_char_invalid",
            "contains U+{code} at position {position}, a character XML 1.0 cannot carry",
            {"code": f"{ord(bad.group()):04X}", "position": bad.start()},
        )
    return value


def _container_check_digit(value: str) -> str:
    if not iso6346.is_valid(value):
        raise PydanticCustomError(
            "container_number_invalid", "{value} fails the ISO 6346 check digit", {"value": value}
        )
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=512), AfterValidator(xml_text)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=120), AfterValidator(xml_text)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]*$")]
Ruc = Annotated[str, StringConstraints(pattern=r"^\d{13}$"), AfterValidator(_ruc_structure)]
Cedula = Annotated[str, StringConstraints(pattern=r"^\d{10}$"), AfterValidator(_cedula_checksum)]
OceCode = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
District = Annotated[str, *_code_list(codelists.DISTRICTS, "district_unknown", "customs district")]
Country = Annotated[str, *_code_list(codelists.COUNTRIES, "country_unknown", "ISO 3166-1 alpha-2 country code")]
Unit = Annotated[str, *_code_list(codelists.UNITS, "unit_unknown", "UN/ECE Rec. 20 unit code")]
Currency = Annotated[str, *_code_list(codelists.CURRENCIES, "currency_unknown", "ISO 4217 currency code")]
Incoterm = Annotated[str, *_code_list(codelists.INCOTERMS, "incoterm_unknown", "Incoterms 2020 code")]
PackageType = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
# 10 digits: 8 NANDINA + 2 national; chapters 01-97 without the unused chapter 77.
TariffCode = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|[1-6]\d|7[0-68-9]|8\d|9[0-7])\d{8}$")]
UnLocode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")]
ContainerNumber = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}[UJZ]\d{7}$"), AfterValidator(_container_check_digit)
]
_DISTRICT = "|".join(codelists.DISTRICTS)
# DAE / DAI numbers: district, year, regime, 8-digit sequence, e.g. 028-2026-51-00001234.
DeclarationNumber = Annotated[str, StringConstraints(pattern=rf"^({_DISTRICT})-\d{{4}}-\d{{2}}-\d{{8}}$")]
Dae51Number = Annotated[str, StringConstraints(pattern=rf"^({_DISTRICT})-\d{{4}}-51-\d{{8}}$")]
AuthorizationNumber = Annotated[str, StringConstraints(pattern=rf"^({_DISTRICT})-\d{{4}}-AUT51-\d{{8}}$")]


def _decimal_schema(places: int, *, positive: bool) -> WithJsonSchema:
    """Decimals travel as JSON numbers or, to keep every digit, as strings: say so in the published schema."""
    bound = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", **bound},
                {"type": "string", "pattern": rf"^\d{{1,{15 - places}}}(\.\d{{1,{places}}})?$"},
            ]
        }
    )


Usd = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2), _decimal_schema(2, positive=False)]
Kilograms = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=3), _decimal_schema(3, positive=False)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3), _decimal_schema(3, positive=True)]
LineNumber = Annotated[int, Field(ge=1, le=999)]


class Quantity(Model):
    value: Amount = Field(description="Quantity, up to 3 decimals.")
    unit: Unit = Field(description="UN/ECE Recommendation 20 unit code, e.g. H87 (piece), KGM.")


class Party(Model):
    """An Ecuadorian party identified by its RUC."""

    ruc: Ruc = Field(description="13-digit RUC.")
    name: ShortText = Field(description="Registered name.")
    oce_code: OceCode | None = Field(None, description="8-digit foreign-trade operator (OCE) code in Ecuapass.")


def _registered_operator(party: Party) -> Party:
    if party.oce_code is None:
        raise PydanticCustomError(
            "oce_code_required", "a registered foreign-trade operator (OCE code) is required", {"field": "oce_code"}
        )
    return party


#: A party that must be registered as a foreign-trade operator (OCE): applicants, exporters.
Operator = Annotated[Party, AfterValidator(_registered_operator)]


class Numbered(Protocol):
    @property
    def line_number(self) -> int: ...


Line = TypeVar("Line", bound=Numbered)


def lines_in_order(items: list[Line]) -> list[Line]:
    """Field validator of item lists: line numbers 1, 2, 3… in order (the error points at the first wrong one)."""
    for position, item in enumerate(items, start=1):
        if item.line_number != position:
            raise PydanticCustomError(
                "line_number_out_of_sequence",
                "line numbers must be 1, 2, 3… in order; expected {expected}",
                {"expected": position, "field": f"{position - 1}.line_number"},
            )
    return items


def after(earlier: str) -> Callable[[date, ValidationInfo], date]:
    """Field validator of a return date: strictly after the date field ``earlier`` (declared before it)."""

    def check(value: date, info: ValidationInfo) -> date:
        start = info.data.get(earlier)
        if start is not None and value <= start:
            raise PydanticCustomError(
                "return_before_shipment",
                "{name} must be after {earlier}",
                {"name": info.field_name, "earlier": earlier},
            )
        return value

    return check


class ForeignParty(Model):
    """A party abroad: the processor that repairs, transforms or elaborates the goods."""

    name: ShortText
    country: Country = Field(description="ISO 3166-1 alpha-2 country code.")
    address: Text | None = None


class SupportingDocument(Model):
    kind: Literal[
        "EXPORTER_LETTER",
        "PROFORMA_INVOICE",
        "IMPORT_DECLARATION",
        "REGIME_CHANGE_ACT",
        "COMMERCIAL_INVOICE",
        "TRANSPORT_DOCUMENT",
        "AUTHORIZATION",
    ] = Field(description="What the document is (see gateway.contract.codelists.SUPPORTING_DOCUMENTS).")
    reference: Reference = Field(description="The document's number or reference.")
    issue_date: date = Field(description="Date the document was issued.")
