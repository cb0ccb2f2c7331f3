"""The wheel carries its XSDs and contract examples: installed outside the repository, the gateway finds them."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
from pathlib import Path
import gateway
from gateway.resources import xsd_dir
from gateway.contract.schemas import schema, SCHEMA_FILES
from gateway.tools.examples import examples
from gateway import documents
from gateway.documents import decode

assert "site-packages" in gateway.__file__, gateway.__file__
assert xsd_dir().is_dir() and "site-packages" in str(xsd_dir()), xsd_dir()
for name in SCHEMA_FILES:
    schema(name)
cases = examples()
assert cases, "no demo cases"
accepted = [c for c in cases if c.expected == "accepted"]
document = documents.build(decode(accepted[0].payload()))
import ecuapass_mock.app  # the mock ships in the wheel too
assert "site-packages" in ecuapass_mock.__file__, ecuapass_mock.__file__
print(json.dumps({"xsd": str(xsd_dir()), "cases": len(cases), "document": document.kind}))
"""


def test_wheel_installs_with_its_data(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("ecuapass_gateway-*.whl")
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True
    )
    # Dependencies come from this test run's environment, but not its editable copy of the gateway: a plain
    # path entry in a .pth file adds site-packages without running the .pth files inside it.
    site = Path(sysconfig.get_paths()["purelib"])
    installed_site = next((target / "lib").glob("python3*/site-packages"))
    (installed_site / "zz_test_dependencies.pth").write_text(f"{site}\n")
    done = subprocess.run([str(python), "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout and '"document": "authorization-request"' in done.stdout
    render = subprocess.run(
        [
            str(target / "bin" / "ecuapass-gateway"),
            "render",
            str(REPO / "contracts/examples/authorization-request/accepted/minimal.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert render.returncode == 0, render.stderr
    assert "<aut:AuthorizationRequest" in render.stdout
