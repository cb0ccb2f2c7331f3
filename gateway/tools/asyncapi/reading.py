"""Reading the AsyncAPI document (``gateway/tools/asyncapi/``): following its references and saying what it promises.

Works on the document as built (``building.py``, ``channels.py``) and as read back from ``contracts/asyncapi.yaml``.
``described_topics``, ``described_headers``, ``required_headers`` and ``open_header_topics`` say what the document
promises, for tests that compare it with the records the gateway really writes; the other functions find a
channel, its messages, its operation or the node a ``$ref`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# -- what the document promises, for tests that compare it with the records written -----------------------------


def described_topics(doc: Mapping[str, Any]) -> set[str]:
    """The topic of every channel."""
    return {channel["address"] for channel in doc["channels"].values()}


def described_headers(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per topic, every header name its messages list (case events: both content modes)."""
    return {
        channel["address"]: {name for message in messages(doc, channel) for name in _header_schema(message)}
        for channel in doc["channels"].values()
    }


def required_headers(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per topic, the header names every one of its messages requires."""
    return {
        channel["address"]: set.intersection(
            *(set(message.get("headers", {}).get("required", ())) for message in messages(doc, channel))
        )
        for channel in doc["channels"].values()
    }


def open_header_topics(doc: Mapping[str, Any]) -> set[str]:
    """Topics whose records may carry headers besides the ones listed (what a publisher or an original record
    brought); on the others, a header the document does not list is a bug."""
    return {
        channel["address"]
        for channel in doc["channels"].values()
        if any(message.get("headers", {}).get("additionalProperties", True) for message in messages(doc, channel))
    }


def _header_schema(message: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = message.get("headers", {}).get("properties", {})
    return properties


# -- finding things -------------------------------------------------------------------------------------------


def find_channel(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    """The one channel FastStream declares for ``topic``."""
    matches: list[dict[str, Any]] = [c for c in doc["channels"].values() if c.get("address") == topic]
    if len(matches) != 1:
        raise ValueError(f"the broker declares {len(matches)} channels for topic {topic}, expected 1")
    return matches[0]


def messages(doc: Mapping[str, Any], channel: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The component messages of a channel (FastStream declares one per subscriber or publisher)."""
    found = []
    for reference in channel["messages"].values():
        name = reference["$ref"].removeprefix("#/components/messages/")
        found.append(doc["components"]["messages"][name])
    return found


def channel_name(doc: dict[str, Any], channel: dict[str, Any]) -> str:
    (name,) = [str(name) for name, candidate in doc["channels"].items() if candidate is channel]
    return name


def operation(doc: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    """The one operation on a channel."""
    reference = f"#/channels/{channel_name(doc, channel)}"
    (found,) = [op for op in doc["operations"].values() if op["channel"]["$ref"] == reference]
    result: dict[str, Any] = found
    return result


def resolve(doc: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """The node a local ``$ref`` names."""
    node: Any = doc
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"{reference} names no object")
    return node


def referenced(node: Any, ref: str) -> bool:
    """Whether anything under ``node`` refers to ``ref``."""
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(referenced(value, ref) for value in node.values())
    if isinstance(node, list):
        return any(referenced(value, ref) for value in node)
    return False
