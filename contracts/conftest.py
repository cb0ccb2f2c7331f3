"""Options and the one session fixture of the contract suite: ``pytest contracts/`` (see contracts/README.md).

    --contract-env embedded|existing|containers   (ECUAPASS_CONTRACT_ENV, default embedded)
    --bootstrap-servers HOST:PORT                  (ECUAPASS_CONTRACT_BOOTSTRAP_SERVERS; existing: the broker)
    --examples DIR                                 (ECUAPASS_CONTRACT_EXAMPLES; default: the published examples)
    --gateway-image, --broker-image                (ECUAPASS_CONTRACT_GATEWAY_IMAGE / _BROKER_IMAGE; containers)
    --container-logs DIR                           (ECUAPASS_CONTRACT_CONTAINER_LOGS; containers: keep their output)
    --contract-timeout SECONDS                     (ECUAPASS_CONTRACT_TIMEOUT, default 240)
    --contract-strict                              an unavailable environment fails instead of skipping

Topic names and Kafka security come from the gateway's own ``GATEWAY_*`` variables. Every example is published
once per session, prerequisites first; each test then checks one example's outcome.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from gateway.devstack.environments import ENVIRONMENTS, ContractRun, EnvironmentUnavailable, run_contract
from gateway.tools.examples import Example, examples

_OPTIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("--contract-env", "ECUAPASS_CONTRACT_ENV", "embedded", f"where the gateway runs: {', '.join(ENVIRONMENTS)}"),
    ("--bootstrap-servers", "ECUAPASS_CONTRACT_BOOTSTRAP_SERVERS", None, "existing: the broker the gateway uses"),
    ("--examples", "ECUAPASS_CONTRACT_EXAMPLES", None, "a folder of examples laid out like contracts/examples"),
    ("--gateway-image", "ECUAPASS_CONTRACT_GATEWAY_IMAGE", "ecuapass-gateway:latest", "containers: gateway image"),
    ("--broker-image", "ECUAPASS_CONTRACT_BROKER_IMAGE", "ecuapass-tansu:latest", "containers: Tansu broker image"),
    ("--container-logs", "ECUAPASS_CONTRACT_CONTAINER_LOGS", None, "containers: write their output to this folder"),
    ("--contract-timeout", "ECUAPASS_CONTRACT_TIMEOUT", "240", "seconds allowed for every outcome to arrive"),
)


def pytest_configure(config: pytest.Config) -> None:
    try:  # in the repository, ``make test`` keeps this run's logs for the log scan (tests/logcapture.py)
        from tests import logcapture
    except ImportError:  # the contract suite run from elsewhere
        return
    logcapture.start("contracts")
    config.add_cleanup(logcapture.stop)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecuapass contract", "Ecuapass gateway contract suite")
    for flag, variable, default, text in _OPTIONS:
        group.addoption(flag, default=os.environ.get(variable, default), help=f"{text} (env {variable})")
    group.addoption(
        "--contract-strict", action="store_true", help="fail, instead of skipping, when the environment cannot run"
    )


def _option(config: pytest.Config, flag: str) -> str | None:
    value = config.getoption(flag.lstrip("-").replace("-", "_"))
    return str(value) if value else None


def _examples(config: pytest.Config) -> list[Example]:
    folder = _option(config, "--examples")
    if folder is not None and not Path(folder).is_dir():
        raise pytest.UsageError(f"--examples {folder}: not a folder")
    return examples(Path(folder) if folder else None)


#: Test arguments and the examples they take: every example, or those expecting one kind of outcome.
_CASES = {
    "case": ("accepted", "rejected", "invalid", "dead-letter"),
    "answered_case": ("accepted", "rejected", "invalid"),
    "accepted_case": ("accepted",),
    "rejected_case": ("rejected", "invalid"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argument, expected in _CASES.items():
        if argument in metafunc.fixturenames:
            cases = [case for case in _examples(metafunc.config) if case.expected in expected]
            metafunc.parametrize(argument, cases, ids=[case.name for case in cases])


@pytest.fixture(scope="session")
def contract_run(request: pytest.FixtureRequest) -> ContractRun:
    config = request.config
    name = _option(config, "--contract-env") or "embedded"
    if name not in ENVIRONMENTS:
        raise pytest.UsageError(f"--contract-env {name}: one of {', '.join(ENVIRONMENTS)}")
    run = run_contract(
        name,  # type: ignore[arg-type]  # checked against ENVIRONMENTS above
        _examples(config),
        timeout_s=float(_option(config, "--contract-timeout") or 240),
        bootstrap_servers=_option(config, "--bootstrap-servers"),
        gateway_image=_option(config, "--gateway-image") or "ecuapass-gateway:latest",
        broker_image=_option(config, "--broker-image") or "ecuapass-tansu:latest",
        container_logs=Path(logs) if (logs := _option(config, "--container-logs")) else None,
    )
    try:
        return asyncio.run(run)
    except EnvironmentUnavailable as exc:
        if config.getoption("contract_strict"):
            raise
        pytest.skip(f"contract environment {name!r} unavailable: {exc}")
