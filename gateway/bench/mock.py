"""The mock Ecuapass endpoint as the benchmark runs it: its own process, ``python -m gateway.bench.mock``.

The same app, store, fault injection and ``serve()`` as ``ecuapass-gateway mock``, with one difference: the
listening socket has ``TCP_NODELAY`` set (accepted connections inherit it on Linux). The shipped ``bind()``
creates its socket with protocol 0, so asyncio does not turn Nagle's algorithm off on the connections it accepts;
uvicorn writes the response head and body separately, and the body then waits for the client's delayed ACK:
about 40 ms added to every answer. The benchmark measures the gateway, not that stall (``docs/benchmarks.md``).

Prints ``Mock Ecuapass on http://HOST:PORT`` once it listens; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Sequence

from adapters.ecuapass_mock.faults import FaultInjector, FaultSettings
from adapters.ecuapass_mock.server import bind, serve
from adapters.ecuapass_mock.store import FilingStore
from gateway.signals import StopSignal


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench.mock", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", default=":memory:", help="SQLite state (default: in memory)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--seed", type=int, default=51)
    args = parser.parse_args(argv)

    async def run() -> None:
        store = FilingStore(args.state)
        sock = bind(args.host, args.port)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stop = asyncio.Event()
        with StopSignal() as signalled:
            server = asyncio.create_task(
                serve(
                    sock,
                    store,
                    stop,
                    seed=args.seed,
                    faults=FaultInjector(FaultSettings(latency_ms=args.latency_ms)),
                    decision_delay_s=0.0,
                )
            )
            print(f"Mock Ecuapass on http://{args.host}:{sock.getsockname()[1]}", flush=True)
            await signalled.wait()
        stop.set()
        await server
        store.close()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
