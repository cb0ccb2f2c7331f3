"""Markers come from folders: tests/unit -> unit, tests/integration -> integration, tests/e2e -> e2e.

With ``ECUAPASS_TEST_LOGS`` (``make test``), the run's logs are kept for the log scan (tests/logcapture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.tools.examples import Example, examples
from tests import logcapture
from tests.signing_certificates import SigningAuthority, authority

ROOT = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--scan-test-logs",
        metavar="DIR",
        help="scan the logs a full run kept in DIR (tests/full_run; make test's last step)",
    )


def pytest_configure(config: pytest.Config) -> None:
    logcapture.start("tests")  # only with ECUAPASS_TEST_LOGS (make test): see tests/logcapture.py


def pytest_unconfigure(config: pytest.Config) -> None:
    logcapture.stop()


def pytest_collection_finish(session: pytest.Session) -> None:
    logcapture.register_module_secrets({item.module for item in session.items if isinstance(item, pytest.Function)})


def pytest_runtest_setup(item: pytest.Item) -> None:
    logcapture.ensure_handler()


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


@pytest.fixture(scope="module")
def certificate_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a test module's signing certificates and keys are written (made at test time, never committed)."""
    return tmp_path_factory.mktemp("certificates")


@pytest.fixture(scope="module")
def ca(certificate_folder: Path) -> SigningAuthority:
    """The signing CA the module's agency certificates are issued by (and the mock is told to trust)."""
    return authority(certificate_folder, "Agencies Test CA")
