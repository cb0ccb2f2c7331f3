"""The contract suite as an integrator runs it: ``pytest contracts/`` against a gateway that is already running.

``ecuapass-gateway dev --serve`` plays the integrator's environment; the suite runs in a separate pytest process in
``existing`` mode, given only the bootstrap address. Without a Docker engine, the ``containers`` mode skips and
says why.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway.devstack.broker import free_port

REPO = Path(__file__).resolve().parents[2]


def _suite(
    *options: str, env: dict[str, str] | None = None, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "contracts/", "-q", "-p", "no:cacheprovider", *options],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "ECUAPASS_CONTRACT_"))}
    env.update(extra)
    return env


def test_contract_suite_passes_against_a_running_gateway() -> None:
    kafka_port, mock_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "dev", "--serve", "--kafka-port", str(kafka_port), "--mock-port",
         str(mock_port)],
        env=_clean_environment(GATEWAY_OPS__PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Serving") for line in lines):
            assert time.monotonic() < deadline and server.poll() is None, "".join(lines)
            lines.append(server.stdout.readline())

        done = _suite(
            "--contract-env", "existing", "--bootstrap-servers", f"127.0.0.1:{kafka_port}",
            env=_clean_environment(),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
        passed = re.search(r"(\d+) passed", done.stdout)
        assert passed and int(passed.group(1)) > 100, done.stdout[-2000:]
        assert "skipped" not in done.stdout.splitlines()[-1]

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


def test_containers_mode_skips_without_a_docker_engine(tmp_path: Path) -> None:
    done = _suite(
        "--contract-env", "containers", "-k", "minimal",
        env=_clean_environment(DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock"),
        timeout_s=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.splitlines()[-1]
    assert re.match(r"\d+ skipped\b", summary), done.stdout[-2000:]
    assert "passed" not in summary and "failed" not in summary and "error" not in summary
    assert f"no Docker engine answers at unix://{tmp_path}/no-engine.sock" in done.stdout


def test_suite_runs_an_integrators_own_examples(tmp_path: Path) -> None:
    """An integrator's folder (same layout), here one document's examples, runs on the embedded stack."""
    own = tmp_path / "examples"
    shutil.copytree(REPO / "contracts" / "examples" / "authorization-request", own / "authorization-request")
    expected = {f"authorization-request/{path.parent.name}/{path.stem}" for path in own.glob("*/*/*.json")}
    done = _suite("--examples", str(own), "-rA", env=_clean_environment())
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    passed = set(re.findall(r"^PASSED \S+::test_case_gets_its_expected_outcome\[(.+?)\]$", done.stdout, re.MULTILINE))
    assert passed == expected
