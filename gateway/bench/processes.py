"""The processes a benchmark scenario starts: the system under test and the mock, each its own Python process.

A ``Child`` starts with its environment, writes its logs to a file, says it is ready (a line on its stdout, or a URL
answering 200) and is stopped with SIGTERM (SIGKILL after a grace period). Its CPU seconds and peak RSS are read
from ``/proc`` while it runs (``gateway.bench.procfs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from gateway.bench import procfs
from gateway.errors import ConfigurationError
from gateway.settings import Settings


class Child:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        ready_line: str | None = None,
        ready_url: str | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        self._env = dict(env) if env is not None else None
        self._log_path = log_path
        self._ready_line = ready_line
        self._ready_url = ready_url
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None
        self.first_line = ""

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    async def start(self, timeout_s: float = 120.0) -> Child:
        with self._log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self._argv, env=self._env, stdout=asyncio.subprocess.PIPE, stderr=log, start_new_session=True
            )
        try:
            await asyncio.wait_for(self._wait_ready(), timeout_s)
        except (TimeoutError, ConfigurationError) as exc:
            await self.stop()
            raise ConfigurationError(
                f"{self.name} did not get ready in {timeout_s:.0f} s: {exc or 'no answer'} (log: {self._log_path})"
            ) from exc
        return self

    async def _wait_ready(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        stdout = self._process.stdout
        while self._ready_line is not None:
            line = await stdout.readline()
            if not line:
                raise ConfigurationError(f"{self.name} exited with code {await self._process.wait()}")
            text = line.decode("utf-8", "replace").strip()
            self.first_line = self.first_line or text
            if text.startswith(self._ready_line):
                break
        self._drain = asyncio.create_task(self._discard(stdout))
        if self._ready_url is not None:
            async with httpx.AsyncClient(timeout=2.0) as client:
                while True:
                    if self._process.returncode is not None:
                        raise ConfigurationError(f"{self.name} exited with code {self._process.returncode}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(self._ready_url)).status_code == 200:
                            return
                    await asyncio.sleep(0.1)

    async def _discard(self, stdout: asyncio.StreamReader) -> None:
        while await stdout.read(65_536):
            pass

    def cpu_seconds(self) -> float:
        return procfs.cpu_seconds(self.pid)

    def memory_mib(self) -> dict[str, float]:
        return procfs.memory_mib(self.pid)

    async def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; the exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        return process.returncode


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def clean_environment() -> dict[str, str]:
    """This process's environment without the gateway's and the mock's settings (``GATEWAY_*``, ``MOCK_*``): a
    child gets only what the benchmark gives it."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("GATEWAY_", "MOCK_"))}


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The ``GATEWAY_*`` variables of ``settings`` (the ones the benchmark sets) over ``clean_environment()``."""
    k, t, p = settings.kafka, settings.topics, settings.processing
    env = clean_environment()
    env |= {
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": k.bootstrap_servers,
        "GATEWAY_KAFKA__GROUP_ID": k.group_id,
        "GATEWAY_KAFKA__CLIENT_ID": k.client_id,
        "GATEWAY_KAFKA__SESSION_TIMEOUT_MS": str(k.session_timeout_ms),
        "GATEWAY_KAFKA__HEARTBEAT_INTERVAL_MS": str(k.heartbeat_interval_ms),
        "GATEWAY_KAFKA__FETCH_MAX_WAIT_MS": str(k.fetch_max_wait_ms),
        "GATEWAY_TOPICS__INPUT": t.input,
        "GATEWAY_TOPICS__ACKS": t.acks,
        "GATEWAY_TOPICS__REJECTIONS": t.rejections,
        "GATEWAY_TOPICS__DLQ": t.dlq,
        "GATEWAY_TOPICS__QUARANTINE": t.quarantine,
        "GATEWAY_TOPICS__PARTITIONS": str(t.partitions),
        "GATEWAY_ECUAPASS__URL": str(settings.ecuapass.url),
        "GATEWAY_ECUAPASS__MAX_CONNECTIONS": str(settings.ecuapass.max_connections),
        "GATEWAY_PROCESSING__MAX_IN_FLIGHT": str(p.max_in_flight),
        "GATEWAY_OPS__ENABLED": str(settings.ops.enabled).lower(),
        "GATEWAY_OPS__PORT": str(settings.ops.port),
        "GATEWAY_LOG_LEVEL": settings.log_level,
        "GATEWAY_LOG_FORMAT": settings.log_format,
        "GATEWAY_SOURCE": settings.source,
    }
    if settings.agencies:
        agencies = {ruc: agency.model_dump(mode="json", exclude_none=True) for ruc, agency in settings.agencies.items()}
        env["GATEWAY_AGENCIES"] = json.dumps(agencies)
    return env | extra
