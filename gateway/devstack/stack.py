"""The embedded stack: Tansu + the mock + the gateway in one process, on 127.0.0.1, torn down on exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from adapters.ecuapass_mock.server import bind, serve
from adapters.ecuapass_mock.store import FilingStore
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, TansuBroker
from gateway.kafka.service import Gateway
from gateway.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningStack:
    settings: Settings
    gateway: Gateway
    mock_url: str
    mock_state: Path


def dev_settings(base: Settings, bootstrap: str, mock_url: str) -> Settings:
    """``base`` pointed at the embedded broker and mock, with consumer timings that make Tansu's joins quick."""
    kafka = base.kafka.model_copy(
        update={
            "bootstrap_servers": bootstrap,
            "session_timeout_ms": 3000,
            "heartbeat_interval_ms": 1000,
            "fetch_max_wait_ms": TANSU_FETCH_MAX_WAIT_MS,
        }
    )
    ecuapass = base.ecuapass.model_copy(update={"url": mock_url})
    return base.model_copy(update={"kafka": kafka, "ecuapass": ecuapass})


@contextlib.asynccontextmanager
async def embedded_stack(
    base: Settings, *, kafka_port: int = 0, mock_port: int = 0, workdir: Path | None = None
) -> AsyncIterator[RunningStack]:
    with contextlib.ExitStack() as cleanup:
        folder = workdir or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="ecuapass-dev-")))
        broker = TansuBroker(kafka_port, log_path=folder / "tansu.log").start()
        cleanup.callback(broker.stop)
        store = FilingStore(folder / "mock.sqlite3")
        cleanup.callback(store.close)
        sock = bind(port=mock_port)
        cleanup.callback(sock.close)
        mock_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        stop_mock = asyncio.Event()
        mock = asyncio.create_task(serve(sock, store, stop_mock))
        settings = dev_settings(base, broker.bootstrap_servers, mock_url)
        gateway = build_gateway(settings)
        try:
            await gateway.start()
            await gateway.wait_assigned()
            yield RunningStack(settings, gateway, mock_url, folder / "mock.sqlite3")
        finally:
            await gateway.stop()
            stop_mock.set()
            await mock
