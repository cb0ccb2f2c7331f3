"""Generated documentation stays generated: these fail when the code changes and the docs do not (make docs)."""

from __future__ import annotations

import pytest

from gateway import documents, gateway_codes
from gateway.contract import customs_codes
from gateway.documents import decode
from gateway.errors import InvalidEvent
from gateway.resources import contracts_dir
from gateway.tools import readme
from gateway.tools.examples import Example, examples


def test_readme_tables_are_current() -> None:
    text = readme.README.read_text(encoding="utf-8")
    assert readme.regenerate(text) == text, "run: make docs"


def test_rejection_code_table_is_current() -> None:
    assert (contracts_dir() / "rejection-codes.md").read_text(encoding="utf-8") == customs_codes.document(), (
        "run: make docs"
    )


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in customs_codes.CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(c.code.startswith("R51-") and c.message_es and c.message_en for c in customs_codes.CATALOGUE)


def test_gateway_code_table_is_current() -> None:
    assert (contracts_dir() / "gateway-codes.md").read_text(encoding="utf-8") == gateway_codes.document(), (
        "run: make docs"
    )


def test_gateway_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in gateway_codes.CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(c.code.startswith("GW-") and c.rule and c.message_es for c in gateway_codes.CATALOGUE)


@pytest.mark.parametrize("example", [e for e in examples() if e.expected == "invalid"], ids=lambda e: e.name)
def test_the_codes_of_every_invalid_example_are_catalogued(example: Example) -> None:
    assert set(example.codes) <= set(gateway_codes.BY_CODE), "expected codes missing from gateway.gateway_codes"
    with pytest.raises(InvalidEvent) as refused:
        documents.build(decode(example.payload()))
    assert {error.code for error in refused.value.errors} <= set(gateway_codes.BY_CODE)
