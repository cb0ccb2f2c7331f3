"""The XSD enumerations and the Python code lists are one list: this fails when they drift."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.contract import codelists
from gateway.resources import xsd_dir

XS = "{http://www.w3.org/2001/XMLSchema}"


def _enumeration(type_name: str) -> set[str]:
    tree = etree.parse(str(xsd_dir() / "common-types.xsd"))
    values = tree.xpath(
        f"//xs:simpleType[@name='{type_name}']//xs:enumeration/@value",
        namespaces={"xs": XS.strip("{}")},
    )
    return set(values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_name", "codes"),
    [
        ("DistrictCodeType", set(codelists.DISTRICTS)),
        ("RegimeCodeType", set(codelists.REGIMES)),
        ("PreviousRegimeCodeType", set(codelists.PREVIOUS_REGIMES)),
        ("PurposeCodeType", set(codelists.PURPOSES)),
        ("SupportingDocumentKindType", set(codelists.SUPPORTING_DOCUMENTS)),
        ("IncotermCodeType", set(codelists.INCOTERMS)),
        ("TransportModeCodeType", set(codelists.TRANSPORT_MODES)),
        ("UnitCodeType", set(codelists.UNITS)),
        ("CountryCodeType", set(codelists.COUNTRIES)),
        ("CurrencyCodeType", set(codelists.CURRENCIES)),
    ],
)
def test_xsd_enumeration_matches_code_list(type_name: str, codes: set[str]) -> None:
    assert _enumeration(type_name) == codes


def test_iso_lists_are_complete() -> None:
    assert len(codelists.COUNTRIES) == 249
    assert {"EC", "PE", "CO", "DE", "US"} <= codelists.COUNTRIES
    assert "USD" in codelists.CURRENCIES
