"""Generated documentation stays generated: these fail when the code changes and the docs do not (make docs)."""

from __future__ import annotations

from gateway import customs_codes, readme
from gateway.resources import contracts_dir


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
