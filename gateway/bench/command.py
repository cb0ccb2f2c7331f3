"""``ecuapass-gateway bench``: run the scenarios, print the table and the targets, write the JSON file.

Exit 0 whenever the benchmark ran, whatever the figures (it is a benchmark, not a test); 1 when a scenario could
not run at all (a process did not start, the mock refused a prerequisite); 130 when interrupted (SIGINT, SIGTERM),
after stopping every process it started.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.bench import procfs, report
from gateway.bench.profile import py_spy
from gateway.bench.run import run
from gateway.bench.scenarios import PACED_SECONDS, SESSION_TIMEOUT_MS, Options, select


async def _interruptible(options: Options, progress: Callable[[str], None]) -> dict[str, Any]:
    """``run``, cancelled by SIGINT or SIGTERM: each scenario then stops what it started (its ``finally``)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await run(options, progress)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def bench(
    keys: list[str] | None = None,
    *,
    events: int | None = None,
    scale: float = 1.0,
    quick: bool = False,
    json_path: Path | None = Path("bench-results.json"),
    keep_logs: Path | None = None,
    paced_seconds: float | None = None,
    max_in_flight: int = 200,
    profile_dir: Path | None = None,
    signed: bool = False,
) -> int:
    options = Options(
        scenarios=select(keys, scale=scale, events=events, quick=quick),
        paced_seconds=paced_seconds if paced_seconds is not None else (1.0 if quick else PACED_SECONDS),
        quick=quick,
        keep_logs=keep_logs,
        max_in_flight=max_in_flight,
        profile_dir=profile_dir,
        session_timeout_ms=1_000 if quick else SESSION_TIMEOUT_MS,
        signed=signed,
    )

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if profile_dir is not None:
        py_spy()  # fail now, not after the first scenario
    facts = report.environment_facts()
    machine = facts["machine"]
    progress(
        f"ecuapass-gateway bench on {machine['cores']} cores ({machine['cpu_model']}), load average "
        f"{' '.join(f'{v:.2f}' for v in procfs.load_average())}"
    )
    try:
        results = facts | asyncio.run(_interruptible(options, progress))
    except asyncio.CancelledError:
        progress("interrupted: every process the benchmark started has been stopped")
        return 130
    results["targets"] = report.targets(results)
    print(report.table(results))
    if signed:
        print("\nEvery e-document signed with development agency certificates (XAdES-BES); the mock verified each.")
    if json_path is not None:
        report.write_json(results, json_path)
        print(f"\nfigures, settings, machine and versions in {json_path}")
    return 1 if any("error" in scenario for scenario in results["scenarios"]) else 0
