"""The AsyncAPI document (``gateway/tools/asyncapi/``) as text, and the file ``contracts/asyncapi.yaml``.

``render_yaml`` is the file's form (multi-line text as literal blocks, readable in a diff), ``render_json`` what
``serving.py`` offers besides; ``write()`` (``python -m gateway.tools.asyncapi``, run by ``make docs``) regenerates the
file from ``document()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment

from gateway.resources import contracts_dir
from gateway.tools.asyncapi.building import document


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # yaml is untyped here
    """Multi-line text as literal blocks, readable in a diff."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def render_yaml(doc: dict[str, Any]) -> str:
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False))


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def path() -> Path:
    return contracts_dir() / "asyncapi.yaml"


def write(target: Path | None = None) -> Path:
    destination = target or path()
    destination.write_text(render_yaml(document()), encoding="utf-8")
    return destination
