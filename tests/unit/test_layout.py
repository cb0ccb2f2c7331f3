"""The layout is a dependency rule, not only folders: the running gateway (its composition root and Kafka
entrypoint) loads none of the operator tools (``gateway/tools/``), the development tools (``gateway/devstack/``,
``gateway/bench/``), the CLI or the mock; the runtime (``gateway/runtime/``) knows the outcome types it counts but
loads neither the pipeline nor the Kafka entrypoint (of ``gateway/kafka/``, only the wire format's header names,
which the CloudEvents binding of the events uses).

Each import runs in a fresh interpreter, so what another test imported cannot hide or fake a dependency.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ABOVE_THE_RUNTIME = ("gateway.kafka", "gateway.pipeline", "gateway.mapping", "gateway.documents", "gateway.tools")

LOADED = """
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(*modules: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(modules=modules)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _within(loaded: list[str], *packages: str) -> list[str]:
    return [name for name in loaded if any(name == p or name.startswith(f"{p}.") for p in packages)]


def test_the_running_gateway_loads_no_tools_and_no_mock() -> None:
    loaded = _loaded_by("gateway.bootstrap", "gateway.kafka.service")
    assert "gateway.kafka.handler" in loaded and "gateway.runtime.metrics" in loaded  # the check sees the imports
    off_graph = _within(loaded, "gateway.tools", "gateway.devstack", "gateway.bench", "gateway.cli", "ecuapass_mock")
    assert off_graph == [], f"the running gateway loads {off_graph}"


@pytest.mark.parametrize(
    "module",
    ["gateway.runtime.logs", "gateway.runtime.tracing", "gateway.runtime.metrics", "gateway.runtime.circuit"],
)
def test_the_runtime_stands_below_the_flow(module: str) -> None:
    loaded = _loaded_by(module)
    assert module in loaded
    above = _within(
        loaded, "gateway.kafka", "gateway.pipeline", "gateway.mapping", "gateway.documents", "gateway.tools"
    )
    above = [name for name in above if name not in ("gateway.kafka", "gateway.kafka.headers")]
    assert above == [], f"{module} loads {above}"
