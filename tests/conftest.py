"""Markers come from folders: tests/unit -> unit, tests/integration -> integration, tests/e2e -> e2e."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.examples import Example, examples

ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(ROOT).parts[0]
        if folder in {"unit", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, folder))


def example_params(*expected: str) -> list[object]:
    """The contract examples with these expected outcomes, as pytest params named after the files."""
    return [pytest.param(e, id=e.name) for e in examples() if not expected or e.expected in expected]


@pytest.fixture
def example_by_name() -> dict[str, Example]:
    return {e.name: e for e in examples()}
