"""``ecuapass-gateway bench --quick`` as a user runs it: every scenario completes, the table lists them all and the
JSON file holds the figures. Tiny sizes: this checks the machinery, never a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.bench.scenarios import SCENARIOS

BENCH = (sys.executable, "-m", "gateway", "bench")
PER_SCENARIO = ("throughput_eps", "cpu_s_per_1000", "peak_rss_mb", "paced", "outcomes", "load_average")


def test_quick_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [*BENCH, "--quick", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]

    table = done.stdout
    for scenario in SCENARIOS:
        assert f"| {scenario.number} | {scenario.title} |" in table, table
    assert "| target | measured | wanted | met |" in table

    results = json.loads(output.read_text(encoding="utf-8"))
    assert {"machine", "versions", "git", "settings", "workload", "scenarios", "targets", "duration_s"} <= set(results)
    assert results["machine"]["cores"] >= 1
    assert results["versions"]["faststream"] and results["versions"]["aiokafka"] and results["versions"]["tansu"]
    assert results["settings"]["quick"] is True
    assert [s["key"] for s in results["scenarios"]] == [s.key for s in SCENARIOS]
    for scenario in results["scenarios"]:
        assert "error" not in scenario, scenario
        assert scenario["completed"], scenario
        assert set(PER_SCENARIO) <= set(scenario), scenario
        assert scenario["exit_code"] == 0, scenario  # stopped gracefully by SIGTERM
        outcomes = scenario["outcomes"]
        assert outcomes["accepted"] == scenario["events"], outcomes  # the mock accepted every generated event
        latency = scenario["paced"]["latency_ms"]
        assert latency["matched"] == scenario["paced"]["events"]
        assert latency["p50"] is not None and latency["p50"] <= latency["p95"] <= latency["p99"]
    assert len(results["targets"]) == 6
    assert all(target["met"] in (True, False) for target in results["targets"])


def test_signed_benchmark_files_every_document_signed(tmp_path: Path) -> None:
    # The mock requires signatures in a signed run: every event accepted means every document was signed and
    # verified, prerequisites included (the naive handler signs as the gateway does).
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [*BENCH, "--quick", "--signed", "--scenario", "mock", "--scenario", "naive", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert "signed with development agency certificates" in done.stdout
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["settings"]["signed"] is True
    for scenario in results["scenarios"]:
        assert scenario["outcomes"]["accepted"] == scenario["events"], scenario["outcomes"]
