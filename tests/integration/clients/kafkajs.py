"""kafkajs from Python: install it once (npm, into the git-ignored ``build/node/clients``), then run
``kafkajs_client.mjs`` as a subprocess that produces the records and prints the outcomes it consumes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.settings import Settings
from tests.integration.clients.records import Received, Record

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "kafkajs_client.mjs"
MANIFESTS = ("package.json", "package-lock.json")
INSTALLED = HERE.parents[2] / "build" / "node" / "clients"
CODECS = ("none", "gzip", "snappy")  # kafkajs's own gzip and the pure-JavaScript snappy of kafkajs-snappy


def missing_tools() -> str | None:
    """Why kafkajs cannot run here, or ``None``."""
    absent = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(absent)} not found: the kafkajs client is not tested" if absent else None


def install() -> Path:
    """The folder holding kafkajs's node_modules, installed from the pinned manifests unless already there."""
    wanted = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in MANIFESTS)).hexdigest()
    stamp = INSTALLED / ".installed"
    if stamp.is_file() and stamp.read_text() == wanted:
        return INSTALLED
    INSTALLED.mkdir(parents=True, exist_ok=True)
    for name in MANIFESTS:
        shutil.copyfile(HERE / name, INSTALLED / name)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        cwd=INSTALLED,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    stamp.write_text(wanted)
    return INSTALLED


@dataclass(frozen=True)
class Run:
    partitions: dict[str, int]  # event id -> the partition kafkajs produced it to
    received: list[Received]
    timed_out: bool
    log: str


def _encode(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode()


def _decode(data: str | None) -> bytes | None:
    return None if data is None else base64.b64decode(data)


async def run(
    modules: Path, settings: Settings, records: Sequence[Record], expected: int, timeout_s: float = 40.0
) -> Run:
    """Produce ``records`` to the input topic, then consume ``expected`` outcomes from the outcome topics."""
    topics = settings.topics
    job = {
        "brokers": [settings.kafka.bootstrap_servers],
        "produce": {
            "topic": topics.input,
            "records": [
                {
                    "key": r.key.decode(),
                    "value": _encode(r.value),
                    "headers": {name: _encode(value) for name, value in r.headers},
                    "compression": r.codec,
                }
                for r in records
            ],
        },
        "consume": {
            "topics": [topics.acks, topics.rejections, topics.dlq],
            "groupId": f"kafkajs-{uuid.uuid4().hex[:8]}",
            "expected": expected,
            "timeoutMs": int(timeout_s * 1000),
        },
    }
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        cwd=modules,
        env={**os.environ, "KAFKAJS_NO_PARTITIONER_WARNING": "1"},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(json.dumps(job).encode()), timeout_s + 20)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    log = stderr.decode(errors="replace")
    assert process.returncode == 0, f"kafkajs client exited with {process.returncode}:\n{log}"
    partitions: dict[str, int] = {}
    received: list[Received] = []
    timed_out = True
    for line in stdout.decode().splitlines():
        item = json.loads(line)
        if "produced" in item:
            partitions[records[item["produced"]["index"]].event_id] = item["produced"]["partition"]
        elif "consumed" in item:
            c = item["consumed"]
            headers = [(name, _decode(value)) for name, value in c["headers"].items()]
            received.append(
                Received(c["topic"], c["partition"], _decode(c["key"]), _decode(c["value"]) or b"", headers)
            )
        elif "done" in item:
            timed_out = item["done"]["timedOut"]
    return Run(partitions, received, timed_out, log)
