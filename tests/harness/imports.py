"""What importing some modules loads, seen in a fresh interpreter: what another test imported cannot hide or fake a
dependency. The layout tests (``tests/unit/test_layout.py``, ``tests/unit/test_contract_layer.py``) read it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAM = """
import importlib, json, pkgutil, sys
for name in {modules!r}:
    module = importlib.import_module(name)
    if {walk!r} and hasattr(module, "__path__"):
        for found in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(found.name)
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(*modules: str, walk: bool = False) -> list[str]:
    """Every module loaded once ``modules`` are imported (with ``walk``, every module of each package too)."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(modules=modules, walk=walk)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def within(loaded: list[str], *packages: str) -> list[str]:
    """The modules of ``loaded`` that are ``packages`` or inside them."""
    return [name for name in loaded if any(name == p or name.startswith(f"{p}.") for p in packages)]
