"""Where the contract suite (``pytest contracts/``) finds a gateway to talk to.

    embedded    this process starts Tansu, the mock and the gateway on 127.0.0.1 (no Docker)
    existing    a broker with a gateway (and its customs endpoint) already running, named by its bootstrap address
    containers  a Kafka-protocol broker, the mock and the gateway started from images with testcontainers,
                on the host's network (every server on 127.0.0.1; see ``gateway.devstack.containers``)

Each environment is an async context manager yielding the ``Settings`` an agency back-end uses to reach the gateway's
topics; the suite then publishes the example events and checks the outcomes (``demo.exchange``). An environment
that cannot exist on this machine raises ``EnvironmentUnavailable`` (the suite skips); one that should exist but
does not answer raises ``ConfigurationError`` (the suite fails).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from gateway.devstack.demo import exchange
from gateway.errors import ConfigurationError
from gateway.kafka.records import Received
from gateway.kafka.security import client_security
from gateway.settings import Settings
from gateway.tools.examples import Example

EnvironmentName = Literal["embedded", "existing", "containers"]
ENVIRONMENTS: tuple[EnvironmentName, ...] = ("embedded", "existing", "containers")


class EnvironmentUnavailable(Exception):
    """The environment cannot run on this machine (e.g. no Docker engine); the message says why."""


@contextlib.asynccontextmanager
async def embedded(base: Settings) -> AsyncIterator[Settings]:
    """Tansu, the mock and the gateway in this process; the ops server on a free port, so runs can overlap."""
    from gateway.devstack.stack import embedded_stack

    ops = base.ops.model_copy(update={"port": 0})
    async with embedded_stack(base.model_copy(update={"ops": ops})) as stack:
        yield stack.settings


@contextlib.asynccontextmanager
async def existing(base: Settings, bootstrap_servers: str | None = None) -> AsyncIterator[Settings]:
    """A running gateway: ``base`` (``GATEWAY_*`` variables: topics, security) with the given bootstrap address.

    Its topics must exist (the gateway creates them at start): a missing one means no gateway is there."""
    settings = base
    if bootstrap_servers:
        settings = base.model_copy(
            update={"kafka": base.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})}
        )
    await _check_topics(settings)
    yield settings


@contextlib.asynccontextmanager
async def containers(
    base: Settings, gateway_image: str, broker_image: str, logs_dir: Path | None = None
) -> AsyncIterator[Settings]:
    """The broker, the mock and the gateway as containers; removed on exit (their output kept in ``logs_dir``)."""
    from gateway.devstack.containers import ContainerStack

    stack = ContainerStack(gateway_image=gateway_image, broker_image=broker_image, logs_dir=logs_dir)
    settings = await asyncio.to_thread(stack.start, base)  # testcontainers blocks
    try:
        yield settings
    finally:
        await asyncio.to_thread(stack.stop)


def environment(
    name: EnvironmentName,
    base: Settings,
    *,
    bootstrap_servers: str | None = None,
    gateway_image: str = "ecuapass-gateway:latest",
    broker_image: str = "ecuapass-tansu:latest",
    container_logs: Path | None = None,
) -> contextlib.AbstractAsyncContextManager[Settings]:
    """The environment called ``name``."""
    if name == "embedded":
        return embedded(base)
    if name == "existing":
        return existing(base, bootstrap_servers)
    if name == "containers":
        return containers(base, gateway_image, broker_image, container_logs)
    raise ConfigurationError(f"unknown contract environment {name!r}: one of {', '.join(ENVIRONMENTS)}")


@dataclass(frozen=True, slots=True)
class ContractRun:
    """What one run of the contract suite sent (``payloads``) and got back (``outcomes``, ``None``: nothing)."""

    environment: EnvironmentName
    settings: Settings
    outcomes: dict[Example, Received | None]
    payloads: dict[Example, bytes]
    timeout_s: float


async def run_contract(
    name: EnvironmentName,
    cases: Sequence[Example],
    *,
    base: Settings | None = None,
    timeout_s: float = 240.0,
    bootstrap_servers: str | None = None,
    gateway_image: str = "ecuapass-gateway:latest",
    broker_image: str = "ecuapass-tansu:latest",
    container_logs: Path | None = None,
) -> ContractRun:
    """Publish every case (prerequisites first) in environment ``name`` and collect the outcomes."""
    payloads: dict[Example, bytes] = {}
    async with environment(
        name,
        base or Settings(),
        bootstrap_servers=bootstrap_servers,
        gateway_image=gateway_image,
        broker_image=broker_image,
        container_logs=container_logs,
    ) as settings:
        outcomes = await exchange(settings, cases, timeout_s=timeout_s, payloads=payloads)
    return ContractRun(name, settings, outcomes, payloads, timeout_s)


async def _check_topics(settings: Settings) -> None:
    topics = settings.topics
    wanted = {topics.input, topics.acks, topics.rejections, topics.dlq}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        request_timeout_ms=settings.kafka.request_timeout_ms,
        **client_security(settings.kafka),
    )
    try:
        await consumer.start()
        found = await consumer.topics()
    except KafkaError as exc:
        raise ConfigurationError(f"no Kafka broker answers at {settings.kafka.bootstrap_servers}: {exc}") from exc
    finally:
        await consumer.stop()
    missing = sorted(wanted - set(found))
    if missing:
        raise ConfigurationError(
            f"topics {', '.join(missing)} do not exist on {settings.kafka.bootstrap_servers}: "
            "is the gateway running against this broker (it creates its topics when it starts)?"
        )
