"""The warm-up of the scenarios with a real mock: file the documents the measured events build on.

A measured DAE names an authorization, and a measured warehouse entry names a DAE: customs (the mock) accepts them
only if those were accepted before. The benchmark files these prerequisites straight to the mock over HTTP, with
the gateway's own mapper and HTTP adapter (authorizations first, then the DAEs that use them), and hands back the
official numbers to substitute into the measured events. Nothing of this is measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway import documents
from gateway.bench.workload import Event
from gateway.documents import decode
from gateway.errors import ConfigurationError
from gateway.ports import Filing
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.signing import SigningIdentity
from gateway.tools.examples import resolve_references


async def file_prerequisites(
    url: str,
    prerequisites: Sequence[Event],
    *,
    concurrency: int = 16,
    identities: Mapping[str, SigningIdentity] | None = None,
) -> dict[str, str]:
    """File every prerequisite, authorizations before DAEs (signed with ``identities``, by sender, when given);
    their official numbers by reference name."""
    settings = EcuapassSettings(url=url, max_connections=concurrency, read_timeout_s=60.0)
    endpoint = HttpCustomsEndpoint(settings, RetrySettings())
    numbers: dict[str, str] = {}
    slots = asyncio.Semaphore(concurrency)

    async def file(event: Event, known: Mapping[str, str]) -> None:
        async with slots:
            decoded = decode(resolve_references(event.value, known))
            document = documents.build(decoded)
            identity = (identities or {}).get(decoded.sender)
            body = document.to_bytes() if identity is None else identity.sign(document.root, description=document.kind)
            reply = await endpoint.file(Filing(document.kind, document.message_id, body, agency=decoded.sender))
        if reply.status != "ACCEPTED" or reply.acceptance is None:
            codes = [error.code for error in reply.rejection.errors] if reply.rejection else []
            raise ConfigurationError(f"the mock refused benchmark prerequisite {event.name}: {reply.status} {codes}")
        numbers[event.name] = reply.acceptance.official_number

    try:
        for kind in ("authorization-request", "export-declaration"):
            stage = [event for event in prerequisites if event.kind == kind]
            known = dict(numbers)
            await asyncio.gather(*(file(event, known) for event in stage))
    finally:
        await endpoint.aclose()
    return numbers
