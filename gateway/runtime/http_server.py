"""uvicorn servers that leave signals to their process.

``uvicorn.Server.serve()`` takes over SIGINT/SIGTERM while it runs in the main thread and raises them again when it
stops. The gateway, the mock and the dev stack handle signals themselves (``gateway.runtime.signals.StopSignal``)
and stop their servers in order, so their servers must not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
