"""The contract suite's ``containers`` environment: a Kafka-protocol broker, the mock and the gateway from images.

Containers share the host's network (``network_mode=host``): each server binds 127.0.0.1 on a free port picked
here, as the embedded stack does, so no bridge, NAT or published port is needed (a Docker engine started without
iptables and bridge, as ``make test-containers`` does, offers nothing else). The broker image runs Tansu
(``deploy/containers/tansu.Dockerfile``); the gateway image (the repository's ``Dockerfile``) runs both the mock and
the gateway. testcontainers' reaper (Ryuk) stays off, since its image may not be pullable: ``stop()`` removes every
container it started.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from gateway.devstack.broker import free_port
from gateway.devstack.environments import EnvironmentUnavailable
from gateway.errors import ConfigurationError
from gateway.settings import Settings

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

_HOST = "127.0.0.1"
_Probe = Callable[[], bool]
_DEFAULT_ENGINE = "unix:///var/run/docker.sock"


class ContainerStack:
    """Broker, mock and gateway containers on the host network, started in that order and removed by ``stop()``."""

    def __init__(
        self, *, gateway_image: str, broker_image: str, ready_timeout_s: float = 120.0, logs_dir: Path | None = None
    ) -> None:
        self.gateway_image = gateway_image
        self.broker_image = broker_image
        self.ready_timeout_s = ready_timeout_s
        self.logs_dir = logs_dir  # where each container's output is written when it is removed
        self._started: list[tuple[str, DockerContainer]] = []

    def start(self, base: Settings) -> Settings:
        """Start the three containers and wait until the gateway is ready; the settings a back-end uses."""
        _check_images(self.broker_image, self.gateway_image)
        kafka_port, mock_port, ops_port = free_port(), free_port(), free_port()
        bootstrap = f"{_HOST}:{kafka_port}"
        listener = f"tcp://{bootstrap}"
        try:
            broker = self._run(
                "broker",
                self.broker_image,
                ["broker", "--listener-url", listener, "--advertised-listener-url", listener,
                 "--storage-engine", "memory://tansu/"],
            )  # fmt: skip
            self._wait(broker, lambda: _listening(kafka_port), f"the broker on {bootstrap}")
            mock = self._run(
                "mock",
                self.gateway_image,
                ["mock", "--host", _HOST, "--port", str(mock_port), "--state", "mock.sqlite3"],
            )
            mock_url = f"http://{_HOST}:{mock_port}"
            self._wait(mock, lambda: _answers(f"{mock_url}/healthz"), f"the mock on {mock_url}")
            environment = _gateway_environment(base, bootstrap, mock_url, ops_port)
            gateway = self._run("gateway", self.gateway_image, ["run"], environment)
            ready = f"http://{_HOST}:{ops_port}/readyz"
            self._wait(gateway, lambda: _answers(ready), f"the gateway ({ready})")
        except BaseException:
            self.stop()
            raise
        kafka = base.kafka.model_copy(update={"bootstrap_servers": bootstrap})
        return base.model_copy(update={"kafka": kafka})

    def stop(self) -> None:
        """Remove every container started, the last first, keeping their output in ``logs_dir`` if set."""
        while self._started:
            role, container = self._started.pop()
            if self.logs_dir is not None and container.get_wrapped_container() is not None:
                self.logs_dir.mkdir(parents=True, exist_ok=True)
                stdout, stderr = container.get_logs()
                (self.logs_dir / f"{role}.log").write_bytes(stdout + stderr)
            container.stop()

    def _run(
        self, role: str, image: str, command: list[str], environment: dict[str, str] | None = None
    ) -> DockerContainer:
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image, env=environment).with_command(command).with_kwargs(network_mode="host")
        self._started.append((role, container))
        return container.start()

    def _wait(self, container: DockerContainer, ready: _Probe, what: str) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while not ready():
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            exited = wrapped.status not in {"created", "running"}
            if exited or time.monotonic() > deadline:
                state = "exited" if exited else f"not ready within {self.ready_timeout_s:.0f} s"
                raise ConfigurationError(
                    f"{what}: container {wrapped.short_id} ({container.image}) {state}; its last output:\n"
                    f"{_tail(container)}"
                )
            time.sleep(0.2)


def _gateway_environment(base: Settings, bootstrap: str, mock_url: str, ops_port: int) -> dict[str, str]:
    topics = base.topics
    return {
        "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        # Tansu's group joins wait half a session: a short session keeps the start quick (as `dev` does).
        "GATEWAY_KAFKA__SESSION_TIMEOUT_MS": "3000",
        "GATEWAY_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        "GATEWAY_TOPICS__INPUT": topics.input,
        "GATEWAY_TOPICS__ACKS": topics.acks,
        "GATEWAY_TOPICS__REJECTIONS": topics.rejections,
        "GATEWAY_TOPICS__DLQ": topics.dlq,
        "GATEWAY_TOPICS__QUARANTINE": topics.quarantine,
        "GATEWAY_ECUAPASS__URL": mock_url,
        "GATEWAY_OPS__HOST": _HOST,
        "GATEWAY_OPS__PORT": str(ops_port),
        "GATEWAY_LOG_FORMAT": "json",
    }


def _check_images(*images: str) -> None:
    try:
        import docker
        from docker.errors import DockerException, ImageNotFound
        from testcontainers.core.config import testcontainers_config
    except ImportError as exc:
        raise EnvironmentUnavailable(f"the containers environment needs testcontainers ({exc})") from exc
    testcontainers_config.ryuk_disabled = True
    _check_engine_socket()
    try:
        client = docker.from_env()
    except DockerException as exc:
        raise EnvironmentUnavailable(f"no Docker engine answers: {exc}") from exc
    try:
        for image in images:
            try:
                client.images.get(image)
            except ImageNotFound:
                raise ConfigurationError(
                    f"image {image} is not in the Docker engine: build it first (make test-containers does, "
                    "or see contracts/README.md)"
                ) from None
    finally:
        client.close()


def _check_engine_socket() -> None:
    """Fail early, and without leaking a socket as docker-py does, when the engine's unix socket does not answer."""
    address = os.environ.get("DOCKER_HOST") or _DEFAULT_ENGINE
    if not address.startswith("unix://"):
        return  # tcp:// or ssh://: docker-py reports those itself
    path = address.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(path)
        except OSError as exc:
            raise EnvironmentUnavailable(f"no Docker engine answers at {address} ({exc.strerror or exc})") from None


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _tail(container: DockerContainer, lines: int = 40) -> str:
    stdout, stderr = container.get_logs()
    text = (stdout + stderr).decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])
