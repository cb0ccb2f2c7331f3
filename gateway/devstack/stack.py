"""The embedded stack: Tansu + the mock + the gateway in one process, on 127.0.0.1, torn down on exit.

Documents are signed and verified as in production: without agencies in the settings (``GATEWAY_AGENCIES``), the
stack makes a development CA and a certificate for every sender of the examples (``gateway.devstack.certificates``),
and the mock requires signatures from that CA. With agencies of your own, the mock trusts ``signature_ca``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ecuapass_mock.server import bind, serve
from ecuapass_mock.signatures import SignatureCheck
from ecuapass_mock.store import FilingStore
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, TansuBroker
from gateway.devstack.certificates import dev_agencies
from gateway.kafka.service import Gateway
from gateway.settings import AgencySettings, Settings
from gateway.tools.examples import examples

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningStack:
    settings: Settings
    gateway: Gateway
    mock_url: str
    mock_state: Path
    signature_ca: Path | None  # the CA whose signatures the mock accepts (None: it accepts none)


def dev_settings(
    base: Settings, bootstrap: str, mock_url: str, agencies: Mapping[str, AgencySettings] | None = None
) -> Settings:
    """``base`` pointed at the embedded broker and mock, with consumer timings that make Tansu's joins quick (and
    ``agencies`` instead of its own, when given). The intake of customs' notifications is on, polling often: the
    mock's dev pace takes seconds."""
    kafka = base.kafka.model_copy(
        update={
            "bootstrap_servers": bootstrap,
            "session_timeout_ms": 3000,
            "heartbeat_interval_ms": 1000,
            "fetch_max_wait_ms": TANSU_FETCH_MAX_WAIT_MS,
        }
    )
    ecuapass = base.ecuapass.model_copy(update={"url": mock_url})
    intake = base.intake.model_copy(update={"enabled": True, "interval_s": min(base.intake.interval_s, 0.5)})
    update: dict[str, object] = {"kafka": kafka, "ecuapass": ecuapass, "intake": intake}
    if agencies is not None:
        update["agencies"] = dict(agencies)
    return base.model_copy(update=update)


def example_senders() -> set[str]:
    """The ``sender`` of every example event that has one: the agencies the demo and the contract suite file for."""
    found = set()
    for example in examples():
        try:
            sender = json.loads(example.payload()).get("sender")
        except (ValueError, AttributeError):  # the dead-letter examples are not JSON objects
            continue
        if isinstance(sender, str):
            found.add(sender)
    return found


@contextlib.asynccontextmanager
async def embedded_stack(
    base: Settings,
    *,
    kafka_port: int = 0,
    mock_port: int = 0,
    workdir: Path | None = None,
    signature_ca: Path | None = None,
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
        agencies: Mapping[str, AgencySettings] | None = None
        if not base.agencies:
            agencies, signature_ca = dev_agencies(folder / "agencies", example_senders())
        elif signature_ca is None:
            log.warning("the mock trusts no signing CA: set MOCK_SIGNATURE_CA to the CA of your agencies' certificates")
        stop_mock = asyncio.Event()
        signatures = SignatureCheck(trusted_ca=signature_ca, required=True)
        mock = asyncio.create_task(serve(sock, store, stop_mock, signatures=signatures))
        settings = dev_settings(base, broker.bootstrap_servers, mock_url, agencies)
        gateway = build_gateway(settings)
        try:
            await gateway.start()
            await gateway.wait_assigned()
            yield RunningStack(settings, gateway, mock_url, folder / "mock.sqlite3", signature_ca)
        finally:
            await gateway.stop()
            stop_mock.set()
            await mock
