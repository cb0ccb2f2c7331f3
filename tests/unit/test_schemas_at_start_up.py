"""Every XSD is compiled when a service is built: a broken or missing one stops start-up with a ``ConfigurationError``
naming the file, instead of turning the first event of its kind into a dead letter.

A copy of ``schemas/xsd/`` with one file broken stands for a damaged installation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecuapass_mock.app import create_app
from ecuapass_mock.store import FilingStore
from gateway import resources
from gateway.bootstrap import build_gateway
from gateway.contract.schemas import schema
from gateway.errors import ConfigurationError
from gateway.resources import contracts_dir, xsd_dir
from gateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the installed XSDs (the contract files as they are), in place of the installed ones."""
    root = tmp_path / "data"
    shutil.copytree(xsd_dir(), root / "schemas" / "xsd")
    (root / "contracts").symlink_to(contracts_dir())
    monkeypatch.setattr(resources, "data_root", lambda: root)
    schema.cache_clear()  # compiled again, from the copy
    yield root
    schema.cache_clear()


def _break(root: Path, name: str) -> None:
    path = root / "schemas" / "xsd" / name
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut in the middle of an element


@pytest.mark.parametrize("name", ["authorization-request.xsd", "warehouse-entry.xsd", "reply.xsd", "common-types.xsd"])
def test_a_broken_xsd_stops_building_the_gateway(data_root: Path, name: str) -> None:
    _break(data_root, name)
    with pytest.raises(ConfigurationError, match=rf"cannot load XSD .*{name}"):
        build_gateway(Settings())


def test_a_missing_xsd_stops_building_the_gateway(data_root: Path) -> None:
    (data_root / "schemas" / "xsd" / "export-declaration.xsd").unlink()
    with pytest.raises(ConfigurationError, match=r"cannot load XSD .*export-declaration\.xsd"):
        build_gateway(Settings())


def test_an_xsd_that_does_not_compile_is_named(data_root: Path) -> None:
    path = data_root / "schemas" / "xsd" / "warehouse-entry.xsd"
    path.write_text(path.read_text(encoding="utf-8").replace('type="cmn:DistrictCodeType"', 'type="cmn:NoSuchType"'))
    with pytest.raises(ConfigurationError, match=r"warehouse-entry\.xsd: line \d+: .*NoSuchType"):
        build_gateway(Settings())


def test_a_broken_xsd_stops_the_mock(data_root: Path) -> None:
    _break(data_root, "export-declaration.xsd")
    store = FilingStore(":memory:")
    try:
        with pytest.raises(ConfigurationError, match=r"export-declaration\.xsd"):
            create_app(store)
    finally:
        store.close()


def test_ecuapass_gateway_run_exits_2_naming_the_file(data_root: Path) -> None:
    _break(data_root, "warehouse-entry.xsd")
    run = (
        "import sys; from pathlib import Path; from gateway import resources; "
        f"resources.data_root = lambda: Path({str(data_root)!r}); "
        "from gateway.cli import main; sys.exit(main(['run']))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run([sys.executable, "-c", run], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "ecuapass-gateway: cannot load XSD" in done.stderr and "warehouse-entry.xsd" in done.stderr
