"""The development tools' bodies (``gateway/cli/``): ``bench``."""

from __future__ import annotations

import argparse

from gateway.settings import Settings


def bench(args: argparse.Namespace, _: Settings) -> int:
    """``bench``: the benchmark's scenarios, a table on stdout and the figures in ``--json``."""
    from gateway.bench.command import bench

    return bench(
        args.scenario,
        events=args.events,
        scale=args.scale,
        quick=args.quick,
        json_path=args.json,
        keep_logs=args.keep_logs,
        paced_seconds=args.paced_seconds,
        max_in_flight=args.in_flight,
        profile_dir=args.profile,
        signed=args.signed,
    )
