"""The AsyncAPI 3.0 document of the gateway, generated from its FastStream broker into ``contracts/asyncapi.yaml``.

FastStream describes the channels the gateway declares (``gateway/kafka/wiring.py``); this package adds what
FastStream cannot see: the case-event payloads in both CloudEvents content modes, every header read or written
(names and meanings from ``gateway/kafka/headers.py``, value formats from the events' schemas), the Kafka key (the
case id) and the quarantine topic, which only ``ecuapass-gateway dlq replay`` writes. The file only changes when the
code does: ``tests/unit/test_asyncapi.py`` fails when it drifts; regenerate it with ``make docs``
(``python -m gateway.tools.asyncapi``); ``tests/e2e/test_asyncapi_parser.py`` validates it with the official parser.

The modules, in the order the document goes through them:

- ``building.py``: ``document()``, from the broker built on the settings' defaults, in a stable order;
- ``channels.py``: what FastStream leaves out of the channels (server, messages, keys, the quarantine channel);
- ``headers.py``: each message's ``headers`` schema, one text and one value form per header name;
- ``reading.py``: following ``$ref``s, and what the document promises (``described_topics``, ``described_headers``,
  ``required_headers``, ``open_header_topics``), for tests that compare it with what the gateway really writes;
- ``rendering.py``: YAML and JSON text, and ``write()`` of the file;
- ``serving.py``: ``create_app`` and ``serve()``, for ``ecuapass-gateway docs``.

Callers import from here, not from the modules.
"""

from gateway.tools.asyncapi.building import DESCRIPTION, TITLE, default_settings, document
from gateway.tools.asyncapi.channels import QUARANTINE_CHANNEL, SERVER
from gateway.tools.asyncapi.reading import (
    described_headers,
    described_topics,
    open_header_topics,
    required_headers,
    resolve,
)
from gateway.tools.asyncapi.rendering import path, render_json, render_yaml, write
from gateway.tools.asyncapi.serving import HTML_PATHS, JSON_PATH, YAML_PATH, create_app, serve

__all__ = [
    "DESCRIPTION",
    "HTML_PATHS",
    "JSON_PATH",
    "QUARANTINE_CHANNEL",
    "SERVER",
    "TITLE",
    "YAML_PATH",
    "create_app",
    "default_settings",
    "described_headers",
    "described_topics",
    "document",
    "open_header_topics",
    "path",
    "render_json",
    "render_yaml",
    "required_headers",
    "resolve",
    "serve",
    "write",
]
