"""The AsyncAPI document (``gateway/tools/asyncapi/``) over HTTP, for ``ecuapass-gateway docs`` (``gateway/cli/``).

FastStream's HTML page on ``/`` and ``/asyncapi``, the document itself on ``/asyncapi.yaml`` and ``/asyncapi.json``
(``rendering.py``), generated when the server starts; ``serve()`` runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from faststream.specification.asyncapi.site import get_asyncapi_html
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.runtime.signals import StopSignal
from gateway.tools.asyncapi.building import document
from gateway.tools.asyncapi.rendering import render_json, render_yaml

HTML_PATHS = ("/", "/asyncapi")
YAML_PATH = "/asyncapi.yaml"
JSON_PATH = "/asyncapi.json"


def create_app(doc: dict[str, Any]) -> Starlette:
    """The document as FastStream's HTML page (its scripts come from a CDN) and as YAML and JSON."""
    html = get_asyncapi_html(ApplicationSchema.model_validate(doc), try_it_out_path=None)  # no broker to try
    bodies = {
        YAML_PATH: (render_yaml(doc), "application/yaml; charset=utf-8"),
        JSON_PATH: (render_json(doc), "application/json"),
    } | {path: (html, "text/html; charset=utf-8") for path in HTML_PATHS}

    async def page(request: Request) -> Response:
        body, media_type = bodies[request.url.path]
        return Response(body.encode("utf-8"), media_type=media_type)

    return Starlette(routes=[Route(path, page, methods=["GET"]) for path in bodies])


async def serve(host: str, port: int) -> None:
    """Serve the docs until SIGINT or SIGTERM, after printing where."""
    with StopSignal() as stop:  # before anything starts, so no signal is missed
        app = create_app(document())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        url = f"http://{host}:{sock.getsockname()[1]}"
        print(
            f"AsyncAPI docs on {url}/  (raw: {url}{YAML_PATH}, {url}{JSON_PATH}); Ctrl-C or SIGTERM stops.", flush=True
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", log_config=None)
        server = uvicorn.Server(config)  # log_config=None: uvicorn's records go to the root logger (JSON, masked)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="asyncapi-docs")
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving
        stopped.cancel()
        sock.close()
