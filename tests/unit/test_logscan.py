"""The log scan (tests/logscan.py) and the log capture (tests/logcapture.py): planted leaks are found, masked
identifiers, timestamps, ids and placeholders are not, and the report never repeats what it found."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from stdnum.ec import ci

from tests import logcapture
from tests.logscan import Scanner, event_numbers, registered_secrets, scanner_for

RUC = "1790011674001"  # the agency of the examples
SECRET = "s3cr3t-planted-T0KEN"
NOW = time.time()


def _valid_cedula(prefix: str = "110200300") -> str:
    return next(prefix + d for d in "0123456789" if ci.is_valid(prefix + d))


def _findings(*lines: str, scanner: Scanner | None = None) -> list[str]:
    from tests.logscan import Report

    report = Report()
    (scanner or Scanner([SECRET], [RUC], ["0901110000"], now=NOW)).scan_lines(lines, Path("x.log"), report)
    return [str(finding) for finding in report.findings]


def test_a_registered_secret_is_found_and_not_repeated_in_the_report() -> None:
    (finding,) = _findings(json.dumps({"level": "WARNING", "message": f"probe with {SECRET} failed"}))
    assert finding.startswith("x.log:1: registered secret: ") and SECRET not in finding
    assert "<registered secret>" in finding


def test_a_secret_hidden_by_json_escapes_is_found() -> None:
    pem_line = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"
    line = json.dumps({"message": f"key\n{pem_line}\nend", "note": 'a "quoted" s3cr3t-planted-T0KEN'})
    assert _findings(line, scanner=Scanner([SECRET, pem_line], now=NOW))


@pytest.mark.parametrize(
    "line",
    [
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "GET / Authorization: Bearer eyJhbGciOi.J9x1",
        "sasl_password=hunter2-hunter2",
        '{"token": "abc123def456"}',
        "GATEWAY_ECUAPASS__TOKEN=abc123def456",
        "pkcs12 passphrase: p12-pa55",
    ],
)
def test_what_looks_like_a_secret_is_found_whatever_its_value(line: str) -> None:
    (finding,) = _findings(line)
    assert "abc123def456" not in finding and "hunter2" not in finding and "p12-pa55" not in finding


@pytest.mark.parametrize(
    "line",
    [
        "the bearer token goes to http://customs.test/ over plain HTTP",
        "customs endpoint answers (TLS, bearer token)",
        "KafkaSettings(sasl_password=SecretStr('**********'), token=None)",
        "password=********** token: <redacted> secret=${TOKEN}",
        "GATEWAY_ECUAPASS__TOKEN_FILE=/run/secrets/token",
    ],
)
def test_masked_absent_or_described_secrets_are_not_findings(line: str) -> None:
    assert _findings(line) == []


def test_an_unmasked_ruc_or_cedula_is_found_and_shown_masked() -> None:
    cedula = _valid_cedula()
    findings = _findings(
        f"applicant {RUC} rejected",
        json.dumps({"message": f"holder {cedula}"}),
        f"<ruc>{RUC}</ruc>",
    )
    assert [f.split(": ")[1] for f in findings] == ["unmasked RUC", "unmasked cédula", "unmasked RUC"]
    assert all(RUC not in f and cedula not in f for f in findings)
    assert "**********001" in findings[0] and f"*******{cedula[-3:]}" in findings[1]


def test_an_invalid_number_is_an_identifier_only_when_an_event_carries_it() -> None:
    assert _findings("number 1234567890 and 9999999999999") == []
    assert _findings("number 1234567890", scanner=Scanner(identifiers=["1234567890"], now=NOW))


@pytest.mark.parametrize(
    "line",
    [
        "applicant **********001, holder *******065",
        f"Kafka timestamp {int(NOW * 1000)} and {int(NOW)}",
        '{"time": "2026-11-27T23:30:06.555+00:00", "message": "in-dc5a9091:0@1234"}',
        "message 863f5dee-97f4-5dd4-8ba6-0b1710034065 trace 4bf92f3577b34da6a1710034065e4736",
        "tariff 0901110000",
        "sha256:17100340651710034065",
    ],
)
def test_masked_identifiers_timestamps_ids_and_tariff_codes_are_not_findings(line: str) -> None:
    assert _findings(line) == []


def test_a_folder_is_scanned_by_source_and_masked_identifiers_are_counted(tmp_path: Path) -> None:
    (tmp_path / "inprocess").mkdir()
    (tmp_path / "subprocess").mkdir()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "inprocess" / "tests-1.log").write_text('{"message": "applicant **********001"}\nok\n')
    (tmp_path / "subprocess" / "2.log").write_text(f"leaked {SECRET}\n")
    (tmp_path / "secrets" / "1.jsonl").write_text(json.dumps(SECRET) + "\n")
    report = scanner_for(tmp_path).scan_folder(tmp_path)
    assert report.lines == {"inprocess": 2, "inprocess/tests": 2, "subprocess": 1}
    assert report.masked == {"001": 1}
    (finding,) = report.findings
    assert finding.path.name == "2.log" and finding.line == 1 and SECRET not in str(finding)


def test_register_secret_keeps_values_and_pem_lines_only_when_a_run_keeps_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(logcapture.VARIABLE, raising=False)
    logcapture.register_secret("never-written-anywhere")
    assert not (tmp_path / "secrets").exists()
    monkeypatch.setenv(logcapture.VARIABLE, str(tmp_path))
    pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
    logcapture.register_secret(pem, b"t0ken-bytes", "short")
    assert registered_secrets(tmp_path) == {pem, "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49", "AwEHBG0wawIBAQQg", "t0ken-bytes"}


def test_the_examples_give_identifiers_and_tariff_codes() -> None:
    identifiers, tariffs = event_numbers()
    assert RUC in identifiers and "8410110000" in tariffs and not identifiers & tariffs


def test_the_capture_masks_a_copy_and_leaves_the_record_to_the_other_handlers(tmp_path: Path) -> None:
    from gateway.runtime import logs
    from gateway.settings import Settings

    path = tmp_path / "out.log"
    with path.open("w", encoding="utf-8") as stream:
        handler = logcapture._ProductionCopy(logs.handler(Settings.model_construct(log_format="json"), stream))
        logger = logging.getLogger("tests.logscan.capture")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        records: list[logging.LogRecord] = []
        logger.handlers[:] = [handler, _Keep(records)]
        try:
            logger.info("applicant %s", RUC)
            logger.debug("payload of %s", RUC)  # DEBUG carries payloads by design: not kept
        finally:
            logger.handlers.clear()
    assert [record.getMessage() for record in records] == [f"applicant {RUC}", f"payload of {RUC}"]
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["message"] == "applicant **********001"


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize(
    "text",
    [
        f"applicant {RUC}, holder 1710034065.",
        f'{{"ruc": "{RUC}"}} <ruc>{RUC}</ruc> ruc={RUC} x_{RUC}',
        "warehouse-entry 863f5dee-97f4-5dd4-8ba6-0b1710034065: customs answered ACCEPTED",
    ],
)
def test_what_the_logs_mask_is_what_the_scan_looks_for(text: str) -> None:
    from gateway.runtime.logs import mask

    masked = mask(text)
    assert _findings(masked, scanner=Scanner(identifiers=[RUC, "1710034065"], now=NOW)) == []
    assert "0b1710034065" in mask("0b1710034065"), "digits inside a hex id are not an identifier"


def test_a_python_subprocess_has_its_stderr_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import sys

    monkeypatch.setenv(logcapture.VARIABLE, str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(logcapture.SITE), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", "import sys; print('to stderr', file=sys.stderr); print('to stdout')"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == "to stderr\n" and done.stdout == "to stdout\n"
    (log,) = (tmp_path / "subprocess").glob("*.log")
    assert log.read_text(encoding="utf-8") == "to stderr\n"
    assert "-c" in log.with_suffix(".argv").read_text(encoding="utf-8")


def test_the_event_context_on_a_line_is_masked_too(tmp_path: Path) -> None:
    from gateway.runtime import logs
    from gateway.settings import Settings

    path = tmp_path / "out.log"
    with path.open("w", encoding="utf-8") as stream:
        logger = logging.getLogger("tests.logscan.context")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.handlers[:] = [logs.handler(Settings.model_construct(log_format="json"), stream)]
        try:
            with logs.event_context(case_id=f"CASE-{RUC}", event_id="e-1"):
                logger.info("filed")
        finally:
            logger.handlers.clear()
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["case_id"] == "CASE-**********001" and _findings(line) == []
