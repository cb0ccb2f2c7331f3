"""What each benchmark scenario is given before it runs: its settings, the signing agencies, its processes' commands.

Every scenario gets fresh topics and a fresh consumer group (a random suffix), a connection pool as large as the
in-flight limit, and, with ``--signed``, development agencies for every sender of the workload (``Signing``). The
system under test is the gateway itself (``ecuapass-gateway run``, ready once ``/readyz`` answers) or one of the
comparison programs of ``gateway.bench`` (ready once it prints ``ready``); the mock's latency is set once the
prerequisites are filed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from gateway.bench.processes import Child, environment, python
from gateway.bench.scenarios import Options, Scenario
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, free_port
from gateway.devstack.certificates import dev_agencies
from gateway.devstack.stack import example_senders
from gateway.settings import (
    AgencySettings,
    EcuapassSettings,
    KafkaSettings,
    OpsSettings,
    ProcessingSettings,
    Settings,
    TopicSettings,
)
from gateway.signing import SigningIdentity, load_identities


@dataclass(frozen=True, slots=True)
class Signing:
    """Development agencies for every sender of the workload, and the CA the mock is told to trust."""

    agencies: dict[str, AgencySettings]
    ca: Path
    identities: dict[str, SigningIdentity]  # the agencies' keys, loaded once: the warm-ups sign with them

    @classmethod
    def make(cls, workdir: Path) -> Signing:
        agencies, ca = dev_agencies(workdir / "agencies", example_senders())
        return cls(agencies, ca, load_identities(agencies))

    def mock_environment(self) -> dict[str, str]:
        """The mock requires signatures, from this CA only."""
        return {"MOCK_SIGNATURE_CA": str(self.ca), "MOCK_REQUIRE_SIGNATURE": "true"}


def scenario_settings(bootstrap: str, options: Options, endpoint_url: str, signing: Signing | None) -> Settings:
    """The settings of the system under test for one scenario: its own topics and group, filing to ``endpoint_url``."""
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap,
            group_id=f"bench-{suffix}",
            client_id="ecuapass-gateway-bench",
            session_timeout_ms=options.session_timeout_ms,
            heartbeat_interval_ms=options.session_timeout_ms // 3,
            fetch_max_wait_ms=TANSU_FETCH_MAX_WAIT_MS,
        ),
        topics=TopicSettings(
            input=f"bench-in-{suffix}",
            acks=f"bench-acks-{suffix}",
            rejections=f"bench-rejections-{suffix}",
            dlq=f"bench-dlq-{suffix}",
            quarantine=f"bench-quarantine-{suffix}",
        ),
        # The pool as large as the in-flight limit: with the default 100 connections the pool, not the limit,
        # would bound the concurrency towards a slow endpoint.
        ecuapass=EcuapassSettings(url=endpoint_url, max_connections=options.max_in_flight),
        processing=ProcessingSettings(max_in_flight=options.max_in_flight),
        ops=OpsSettings(port=free_port()),
        source="urn:ecuapass-gateway:bench",
        agencies=signing.agencies if signing is not None else {},
        log_level="INFO",
        log_format="json",
    )


def system_under_test(scenario: Scenario, settings: Settings, log_path: Path) -> Child:
    """The scenario's system under test as a child process (not started yet), logging to ``log_path``."""
    env = environment(settings)
    if scenario.system == "gateway":
        ready = f"http://127.0.0.1:{settings.ops.port}/readyz"
        return Child("gateway", python("-m", "gateway", "run"), log_path=log_path, env=env, ready_url=ready)
    module = f"gateway.bench.{scenario.system}"  # passthrough, runner, naive
    return Child(scenario.system, python("-m", module), log_path=log_path, env=env, ready_line="ready")


async def set_latency(url: str, latency_ms: float) -> None:
    """The mock answers at once during the warm-up; then every answer waits ``latency_ms``."""
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        response = await client.put("/admin/faults", json={"latency_ms": latency_ms})
        response.raise_for_status()
