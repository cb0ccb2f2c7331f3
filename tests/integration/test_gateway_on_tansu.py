"""The shared gateway bodies (``tests/harness/bodies.py``) on the session's Tansu broker, filing with the mock over
HTTP."""

from __future__ import annotations

import pytest

from gateway.devstack.broker import TansuBroker
from tests.harness.bodies import GatewayCases
from tests.harness.brokers import OnTansu


class TestOnTansu(GatewayCases):
    @pytest.fixture
    def kafka(self, broker: TansuBroker) -> OnTansu:
        return OnTansu(broker)
