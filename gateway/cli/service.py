"""The service commands' bodies (``gateway/cli/``): ``run`` (production), ``dev`` (the embedded stack) and ``mock``.

Each translates its arguments and calls the core; what it needs is imported when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigurationError
from gateway.settings import Settings

if TYPE_CHECKING:
    from ecuapass_mock.faults import FaultSettings
    from ecuapass_mock.server import MockTls
    from ecuapass_mock.settings import MockSettings

log = logging.getLogger("gateway")


def run(_: argparse.Namespace, settings: Settings) -> int:
    """``run``: the gateway against the configured broker and endpoint, until SIGINT/SIGTERM."""
    from gateway.bootstrap import build_gateway
    from gateway.runtime.signals import StopSignal

    async def main() -> None:
        with StopSignal() as stop:
            gateway = build_gateway(settings)
            await gateway.start()
            try:
                await stop.wait()
                log.info("stopping: finishing the events in flight")
            finally:
                await gateway.stop()

    asyncio.run(main())
    return 0


def dev(args: argparse.Namespace, settings: Settings) -> int:
    """``dev``: Tansu, the mock and the gateway in this process, then the demo (or, with ``--serve``, a wait)."""
    from ecuapass_mock.settings import MockSettings
    from gateway.devstack.demo import play, procedure_order
    from gateway.devstack.stack import embedded_stack
    from gateway.runtime.signals import StopSignal
    from gateway.tools.examples import examples

    async def main() -> bool:
        base = settings
        if args.metrics_port is not None:
            base = settings.model_copy(update={"ops": settings.ops.model_copy(update={"port": args.metrics_port})})
        signature_ca = MockSettings().signature_ca
        async with embedded_stack(
            base, kafka_port=args.kafka_port, mock_port=args.mock_port, signature_ca=signature_ca
        ) as stack:
            s = stack.settings
            print(f"Kafka bootstrap: {s.kafka.bootstrap_servers}  (Tansu, in memory)")
            print(f"Mock Ecuapass:   {stack.mock_url}  (state {stack.mock_state})")
            if stack.gateway.ops is not None:
                print(f"Gateway ops:     {stack.gateway.ops.url}  (/metrics, /healthz, /readyz)")
            print(f"Topics: in {s.topics.input}; out {s.topics.acks}, {s.topics.rejections}, {s.topics.dlq}")
            print(f"Signing:         {len(s.agencies)} agencies; the mock trusts {stack.signature_ca or 'no CA'}")
            sys.stdout.flush()
            if args.serve:
                with StopSignal() as stop:
                    print("Serving; Ctrl-C or SIGTERM stops.", flush=True)
                    await stop.wait()
                return True
            return await play(s, procedure_order(examples()))

    return 0 if asyncio.run(main()) else 1


def mock(args: argparse.Namespace, _: Settings) -> int:
    """``mock``: the mock Ecuapass endpoint alone, its settings from ``MOCK_*`` overridden by the flags."""
    from ecuapass_mock.faults import FaultInjector
    from ecuapass_mock.server import bind, serve
    from ecuapass_mock.settings import MockSettings
    from ecuapass_mock.signatures import SignatureCheck
    from ecuapass_mock.store import FilingStore
    from gateway.runtime.signals import StopSignal

    base = MockSettings()
    tls = _mock_tls(args)
    token = token_argument(args.require_token)
    faults = FaultInjector(_mock_faults(args, base))

    async def main() -> None:
        store = FilingStore(args.state)
        sock = bind(args.host, args.port)
        stop = asyncio.Event()
        scheme = "https" if tls else "http"
        print(f"Mock Ecuapass on {scheme}://{args.host}:{sock.getsockname()[1]} (state {args.state})", flush=True)
        server = asyncio.create_task(
            serve(
                sock,
                store,
                stop,
                tls=tls,
                require_token=token,
                seed=base.seed if args.seed is None else args.seed,
                faults=faults,
                decision_delay_s=base.decision_delay_s if args.decision_delay_s is None else args.decision_delay_s,
                signatures=SignatureCheck(base.signature_ca, base.require_signature),
                lifecycle=base.lifecycle,
                feed=base.feed,
            )
        )
        with StopSignal() as signalled:
            await signalled.wait()
        stop.set()
        await server
        store.close()

    asyncio.run(main())
    return 0


def _mock_faults(args: argparse.Namespace, base: MockSettings) -> FaultSettings:
    """The mock's fault settings: ``MOCK_FAULTS__*`` with every fault flag given on top."""
    flags = {
        name: getattr(args, name)
        for name in base.faults.model_fields
        if name != "maintenance" and getattr(args, name, None) is not None
    }
    if args.fault_seed is not None:
        flags["seed"] = args.fault_seed
    return base.faults.model_validate(base.faults.model_dump() | flags)


def _mock_tls(args: argparse.Namespace) -> MockTls | None:
    """The mock's TLS from ``--tls-cert``, ``--tls-key`` and ``--tls-client-ca`` (checked), or ``None``."""
    if (args.tls_cert is None) != (args.tls_key is None) or (args.tls_client_ca and not args.tls_cert):
        raise ConfigurationError("--tls-cert and --tls-key go together, and --tls-client-ca needs them")
    if not args.tls_cert:
        return None
    from ecuapass_mock.server import MockTls

    tls = MockTls(args.tls_cert, args.tls_key, args.tls_client_ca)
    tls.check()
    return tls


def token_argument(value: str | None) -> str | None:
    """``--require-token``: the token itself, or a file that holds it."""
    if value is None:
        return None
    path = Path(value)
    token = path.read_text(encoding="utf-8").strip() if path.is_file() else value
    if not token:
        raise ConfigurationError(f"--require-token: {path} is empty")
    return token
