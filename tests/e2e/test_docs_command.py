"""``ecuapass-gateway docs`` as a user starts it: the AsyncAPI page and the raw document, until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from gateway.devstack.broker import free_port
from gateway.settings import TopicSettings
from gateway.tools import asyncapi
from tests.harness.waiting import eventually_sync


def test_docs_serves_the_asyncapi_document_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "docs", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:

            def front_page() -> httpx.Response:
                if process.poll() is not None:
                    raise RuntimeError(f"the docs server exited with {process.returncode}: {process.communicate()}")
                try:
                    return client.get("/")
                except httpx.TransportError as exc:
                    raise AssertionError(f"the docs server did not answer within 60 s: {exc!r}") from exc

            page = eventually_sync(front_page, timeout_s=60, interval_s=0.1)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            topics = TopicSettings()
            for topic in (topics.input, topics.acks, topics.rejections, topics.dlq):
                assert topic in page.text
            raw = client.get(asyncapi.YAML_PATH)
            assert raw.status_code == 200
            assert raw.text == asyncapi.path().read_text(encoding="utf-8")
            assert client.get(asyncapi.JSON_PATH).json()["asyncapi"] == "3.0.0"

        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert out.startswith(f"AsyncAPI docs on {base}/"), out
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
