"""Generated documentation stays generated: these fail when the code changes and the docs do not."""

from __future__ import annotations

from pathlib import Path

from gateway import customs_codes
from gateway.resources import contracts_dir

README = Path(__file__).resolve().parents[2] / "README.md"


def test_rejection_code_table_is_current() -> None:
    assert (contracts_dir() / "rejection-codes.md").read_text(encoding="utf-8") == customs_codes.document(), (
        "run: make docs"
    )
    assert customs_codes.table() in README.read_text(encoding="utf-8")


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in customs_codes.CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(c.code.startswith("R51-") and c.message_es and c.message_en for c in customs_codes.CATALOGUE)
