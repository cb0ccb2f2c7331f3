"""The console script as a new user tries it: a mistake in the settings, a file or the arguments gives one clear line
on stderr and exit 2, never a traceback; a Kafka broker that cannot be reached gives exit 3 and one line.

Other lines on stderr can only be log records (JSON lines here: ``GATEWAY_LOG_FORMAT=json``), e.g. aiokafka's own
"Unable connect to" before the gateway's line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import EXIT_KAFKA_UNAVAILABLE, EXIT_MISTAKE
from gateway.devstack.broker import free_port

RUC = "1790011674001"
SECRET = "pa55word-never-shown"
ISO_8601 = "expected an ISO 8601 date-time with offset, e.g. 2026-12-04T10:00:00-05:00, or a date"


def console_script(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    script = shutil.which("ecuapass-gateway", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "gateway"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environment |= {"GATEWAY_LOG_FORMAT": "json", "GATEWAY_KAFKA__REQUEST_TIMEOUT_MS": "3000"} | (env or {})
    return subprocess.run(
        [*command, *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=90, check=False
    )


def the_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line the gateway said on stderr (log records aside); fails on a traceback or on more lines."""
    assert "Traceback" not in done.stderr, done.stderr
    said = [line for line in done.stderr.splitlines() if line.strip() and not _is_log_record(line)]
    assert len(said) == 1, done.stderr
    assert said[0].startswith("ecuapass-gateway"), said
    return said[0]


def _is_log_record(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


# -- settings, files, arguments: exit 2 ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["run"], ["case", "CASE-1"], ["dlq", "replay", "--dry-run"]])
def test_malformed_json_in_a_nested_setting_is_one_line_and_exit_2(command: list[str]) -> None:
    done = console_script(*command, env={"GATEWAY_AGENCIES": "{not json"})
    assert done.returncode == EXIT_MISTAKE
    assert the_line(done) == (
        "ecuapass-gateway: invalid settings: GATEWAY_AGENCIES is not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1 column 2)"
    )


def test_invalid_settings_are_one_line_naming_the_variables_never_the_values() -> None:
    agencies = {"123": {"certificate": "a.p12", "password": SECRET}}
    done = console_script("case", "CASE-1", env={"GATEWAY_AGENCIES": json.dumps(agencies)})
    assert done.returncode == EXIT_MISTAKE
    assert (
        the_line(done)
        == "ecuapass-gateway: invalid settings: GATEWAY_AGENCIES: agencies are keyed by their 13-digit RUC, not '123'"
    )
    done = console_script(
        "run",
        env={
            "GATEWAY_KAFKA__SESSION_TIMEOUT_MS": "soon",
            f"GATEWAY_AGENCIES__{RUC}__PASSWORD": SECRET,  # and no certificate
            "GATEWAY_PROCESSING__MAX_EVENT_BYTES": "2000000",
        },
    )
    assert done.returncode == EXIT_MISTAKE
    line = the_line(done)
    assert "GATEWAY_KAFKA__SESSION_TIMEOUT_MS: Input should be a valid integer" in line
    assert "GATEWAY_AGENCIES__<RUC>__CERTIFICATE (agency **********001): Field required" in line
    assert SECRET not in done.stderr + done.stdout and RUC not in done.stderr


def test_a_missing_event_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = console_script("render", "missing.json", cwd=tmp_path)
    assert done.returncode == EXIT_MISTAKE
    assert the_line(done) == "ecuapass-gateway: missing.json: No such file or directory"
    assert done.stdout == ""


def test_a_missing_token_file_is_named_as_its_variable_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "token"
    done = console_script(
        "run", env={"GATEWAY_ECUAPASS__TOKEN_FILE": str(missing), "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    )
    assert done.returncode == EXIT_MISTAKE
    assert (
        the_line(done)
        == f"ecuapass-gateway: cannot read GATEWAY_ECUAPASS__TOKEN_FILE (No such file or directory): {missing}"
    )


@pytest.mark.parametrize(
    ("since", "problem"),
    [("yesterday", "'yesterday': "), ("2026-12-04T10:00:00", "'2026-12-04T10:00:00' has no UTC offset: ")],
)
def test_a_date_that_is_not_one_is_one_line_and_exit_2(since: str, problem: str) -> None:
    done = console_script("dlq", "replay", "--since", since)
    assert done.returncode == EXIT_MISTAKE
    assert the_line(done) == (
        f"ecuapass-gateway dlq replay: argument --since: {problem}{ISO_8601} (see ecuapass-gateway dlq replay --help)"
    )


def test_an_unknown_argument_is_one_line_and_exit_2() -> None:
    done = console_script("case")
    assert done.returncode == EXIT_MISTAKE
    assert "the following arguments are required: CASE_ID" in the_line(done)


def test_the_help_says_what_each_exit_status_means() -> None:
    done = console_script("--help")
    assert done.returncode == 0
    assert "exit status:" in done.stdout
    assert f"  {EXIT_KAFKA_UNAVAILABLE}    Kafka cannot be reached" in done.stdout
    assert f"  {EXIT_MISTAKE}    a mistake in the settings, a file or the arguments" in done.stdout


# -- a Kafka outage: exit 3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["dlq", "replay", "--dry-run", "--since", "2026-12-04"],  # a date alone is taken (its 00:00 UTC)
        ["case", "CASE-1"],
        ["tail", "--json"],
        ["run"],  # connection refused at start-up is an outage too, not a configuration mistake
    ],
)
def test_a_kafka_broker_that_cannot_be_reached_is_exit_3_and_one_line(command: list[str]) -> None:
    closed = f"127.0.0.1:{free_port()}"
    done = console_script(
        *command,
        env={"GATEWAY_KAFKA__BOOTSTRAP_SERVERS": closed, "GATEWAY_ECUAPASS__URL": f"http://127.0.0.1:{free_port()}/"},
    )
    assert done.returncode == EXIT_KAFKA_UNAVAILABLE, done.stderr
    line = the_line(done)
    assert line.startswith(f"ecuapass-gateway: cannot connect to Kafka at {closed} with PLAINTEXT: connection refused")
