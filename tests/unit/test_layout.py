"""The layout is a dependency rule, not only folders: the running gateway (its composition root and Kafka
entrypoint) loads none of the operator tools (``gateway/tools/``), the development tools (``gateway/devstack/``,
``gateway/bench/``), the CLI or the mock; the runtime (``gateway/runtime/``) knows the outcome types it counts but
loads neither the pipeline nor the Kafka entrypoint (of ``gateway/kafka/``, only the wire format's header names,
which the CloudEvents binding of the events uses).

Each import runs in a fresh interpreter, so what another test imported cannot hide or fake a dependency.
"""

from __future__ import annotations

import pytest

from tests.harness.imports import modules_loaded_by, within

ABOVE_THE_RUNTIME = ("gateway.kafka", "gateway.pipeline", "gateway.mapping", "gateway.documents", "gateway.tools")


def test_the_running_gateway_loads_no_tools_and_no_mock() -> None:
    loaded = modules_loaded_by("gateway.bootstrap", "gateway.kafka.service")
    assert "gateway.kafka.handler" in loaded and "gateway.runtime.metrics" in loaded  # the check sees the imports
    off_graph = within(loaded, "gateway.tools", "gateway.devstack", "gateway.bench", "gateway.cli", "ecuapass_mock")
    assert off_graph == [], f"the running gateway loads {off_graph}"


@pytest.mark.parametrize(
    "module",
    ["gateway.runtime.logs", "gateway.runtime.tracing", "gateway.runtime.metrics", "gateway.runtime.circuit"],
)
def test_the_runtime_stands_below_the_flow(module: str) -> None:
    loaded = modules_loaded_by(module)
    assert module in loaded
    above = within(loaded, *ABOVE_THE_RUNTIME)
    above = [name for name in above if name not in ("gateway.kafka", "gateway.kafka.headers")]
    assert above == [], f"{module} loads {above}"
