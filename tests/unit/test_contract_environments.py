"""The contract suite's environments, the parts that need no broker and no Docker engine (the rest: e2e tests and
``make test-containers``)."""

from __future__ import annotations

import os

import pytest

from gateway.devstack.containers import _gateway_environment
from gateway.devstack.environments import environment
from gateway.errors import ConfigurationError
from gateway.settings import Settings, TopicSettings


def test_gateway_container_gets_valid_settings_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    base = Settings(topics=TopicSettings(input="in-x", acks="acks-x"))
    variables = _gateway_environment(base, "127.0.0.1:19092", "http://127.0.0.1:18081", 19464)
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    seen = Settings()
    assert seen.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert (seen.topics.input, seen.topics.acks) == ("in-x", "acks-x")
    assert str(seen.ecuapass.url) == "http://127.0.0.1:18081/"
    assert (seen.ops.host, seen.ops.port) == ("127.0.0.1", 19464)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown contract environment"):
        environment("staging", Settings())  # type: ignore[arg-type]
