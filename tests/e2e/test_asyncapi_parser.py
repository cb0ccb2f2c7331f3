"""``contracts/asyncapi.yaml`` as the official parser reads it: ``@asyncapi/parser`` finds no error in it, and sees
the channels, operations and headers that ``gateway.tools.asyncapi`` says the document holds.

The parser (Node) is installed with npm, at a pinned version, into ``build/node/asyncapi-parser`` (git-ignored;
``make clean`` removes it) when it is not there yet: into a fresh folder first, then moved in place, so that a run
cut short or two runs at once leave no half-installed parser behind. ``tests/e2e/asyncapi_parse.mjs`` parses the
document and prints the diagnostics and what it read as JSON. Without node or npm the test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.kafka.headers import CE_PREFIX, CONTENT_TYPE, DLQ_HEADERS, DLQ_QUARANTINED_FROM, TRACEPARENT
from gateway.settings import TopicSettings
from gateway.tools import asyncapi

PARSER = "@asyncapi/parser"
PARSER_VERSION = "3.6.6"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "node" / "asyncapi-parser"
SCRIPT = Path(__file__).with_name("asyncapi_parse.mjs")
ERROR = 0
SEVERITIES = {0: "error", 1: "warning", 2: "information", 3: "hint"}  # the parser's
TOPICS = TopicSettings()


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: the AsyncAPI document is not checked with {PARSER}")
    return found


def installed(folder: Path) -> bool:
    manifest = folder / "node_modules" / PARSER / "package.json"
    return manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("version") == PARSER_VERSION


def install(npm: str) -> Path:
    """The folder the pinned parser is installed in, installing it there first if needed."""
    if installed(CACHE):
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{CACHE.name}.", dir=CACHE.parent))
    try:
        manifest = {"private": True, "description": SCRIPT.name, "dependencies": {PARSER: PARSER_VERSION}}
        (staging / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        command = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        environment = os.environ | {"npm_config_update_notifier": "false"}
        done = subprocess.run(command, cwd=staging, env=environment, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"npm could not install {PARSER}@{PARSER_VERSION}:\n{done.stdout}\n{done.stderr}")
        if not installed(CACHE):  # else another run was quicker
            shutil.rmtree(CACHE, ignore_errors=True)  # an install of another version
            try:
                staging.rename(CACHE)
            except OSError:
                if not installed(CACHE):
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return CACHE


@pytest.fixture(scope="module")
def parser_folder() -> Path:
    tool("node")
    return install(tool("npm"))


def parse(folder: Path, document: Path) -> dict[str, Any]:
    done = subprocess.run(
        [tool("node"), str(SCRIPT), str(folder), str(document)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def parsed(parser_folder: Path) -> dict[str, Any]:
    return parse(parser_folder, asyncapi.path())


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """The file the parser read (``tests/unit/test_asyncapi.py`` checks that it is what the code generates)."""
    loaded: dict[str, Any] = yaml.safe_load(asyncapi.path().read_text(encoding="utf-8"))
    return loaded


def test_the_official_parser_finds_no_error(parsed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert parsed["parser"] == PARSER_VERSION
    errors = [d for d in parsed["diagnostics"] if d["severity"] == ERROR]
    others = [d for d in parsed["diagnostics"] if d["severity"] != ERROR]
    if others:
        with capsys.disabled():  # shown in every run, not only on failure
            print(f"\n{PARSER} {PARSER_VERSION} on {asyncapi.path().name}:")
            for d in others:
                where = "/".join(map(str, d["path"])) or "(root)"
                print(f"  {SEVERITIES.get(d['severity'], d['severity'])} {d['code']} at {where}: {d['message']}")
    assert not errors, json.dumps(errors[:20], indent=2, ensure_ascii=False)
    assert parsed["channels"] is not None


def test_the_check_would_see_a_broken_document(parser_folder: Path, tmp_path: Path) -> None:
    """The harness is not blind: a header of no JSON Schema type, a Kafka binding the spec does not know: errors."""
    broken: dict[str, Any] = yaml.safe_load(asyncapi.path().read_text(encoding="utf-8"))
    broken["components"]["messages"]["caseEventBinary"]["headers"]["properties"][CE_PREFIX + "type"]["type"] = "text"
    broken["components"]["messages"]["quarantine:Message"]["bindings"]["kafka"]["partitioner"] = "murmur2"
    copy = tmp_path / "asyncapi.yaml"
    copy.write_text(yaml.safe_dump(broken), encoding="utf-8")
    diagnostics = parse(parser_folder, copy)["diagnostics"]
    wrong = [set(map(str, d["path"])) for d in diagnostics if d["severity"] == ERROR]
    assert any({"caseEventBinary", "headers", CE_PREFIX + "type"} <= path for path in wrong)
    assert any({"quarantine", "bindings", "partitioner"} <= path for path in wrong)


def test_the_parser_reads_the_channels_and_operations_we_wrote(parsed: dict[str, Any], doc: dict[str, Any]) -> None:
    channels = parsed["channels"]
    assert set(channels) == asyncapi.described_topics(doc)
    assert TOPICS.quarantine in channels
    actions = {address: channel["actions"] for address, channel in channels.items()}
    assert actions == {
        TOPICS.input: ["receive"],
        TOPICS.acks: ["send"],
        TOPICS.rejections: ["send"],
        TOPICS.dlq: ["send"],
        TOPICS.quarantine: ["send"],
    }


def test_the_parser_reads_the_headers_we_wrote(parsed: dict[str, Any], doc: dict[str, Any]) -> None:
    channels = parsed["channels"]
    read = {
        address: {name for message in channel["messages"].values() for name in message["headers"]}
        for address, channel in channels.items()
    }
    assert read == asyncapi.described_headers(doc)
    required = {
        address: set.intersection(*(set(message["required"]) for message in channel["messages"].values()))
        for address, channel in channels.items()
    }
    assert required == asyncapi.required_headers(doc)

    modes = channels[TOPICS.input]["messages"]
    assert set(modes) == {"caseEventStructured", "caseEventBinary"}
    binary = modes["caseEventBinary"]
    attributes = {CE_PREFIX + name for name in ("specversion", "id", "source", "type", "subject", "time", "sender")}
    assert attributes <= set(binary["required"])
    assert {CE_PREFIX + "correlationid", CE_PREFIX + "partitionkey", CE_PREFIX + "dataschema"} <= set(binary["headers"])
    assert {CONTENT_TYPE, TRACEPARENT} <= set(binary["headers"]) & set(modes["caseEventStructured"]["headers"])

    (quarantined,) = channels[TOPICS.quarantine]["messages"].values()
    assert {DLQ_QUARANTINED_FROM, *DLQ_HEADERS} <= set(quarantined["headers"])
    assert DLQ_QUARANTINED_FROM in quarantined["required"]
