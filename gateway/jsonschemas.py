"""JSON Schemas of the events and outcomes, generated from the models into ``contracts/schemas/``.

The files are the published contract for back-end developers; ``tests/unit/test_contracts.py`` fails when they
drift from the code. Regenerate with ``make docs`` (``python -m gateway.jsonschemas``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gateway.events import CASE_EVENTS, event_type
from gateway.outcomes import Acknowledgment, Rejection
from gateway.resources import contracts_dir


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every case event and both outcome events."""
    models: dict[str, type[BaseModel]] = {f"{event_type(cls)}.json": cls for cls in CASE_EVENTS}
    models |= {
        "ecuapass.gateway.document-accepted.v1.json": Acknowledgment,
        "ecuapass.gateway.document-rejected.v1.json": Rejection,
    }
    generated = {}
    for name, model in models.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:ecuapass-gateway:jsonschema:{name.removesuffix('.json')}"
        generated[name] = schema
    return generated


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(folder: Path | None = None) -> list[Path]:
    target = folder or contracts_dir() / "schemas"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = target / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
