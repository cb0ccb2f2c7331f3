"""The log scan of a whole ``make test``: no secret and no unmasked identifier in any log line of the run.

``make test`` runs ``pytest`` and ``pytest contracts/`` keeping their logs (``ECUAPASS_TEST_LOGS``,
tests/logcapture.py), then ``pytest tests/full_run --scan-test-logs build/test-logs``. Without that option (any
other run, e.g. the plain ``pytest`` of that same ``make test``) the scan is skipped: there is no full run to scan.
It refuses to pass on logs that were not collected: each source must hold enough lines, the gateway's own JSON lines
must be there from subprocesses too, the secrets must have been registered, and identifiers of the examples must be
seen masked. The gateway logs no identifier at INFO or above anywhere in the suite, so the masked ones seen are the
canary each captured pytest process logs through the production handler (``logcapture._canary``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.logscan import Report, event_numbers, registered_secrets, scanner_for

#: Fewer lines than this from a source means its logs were not collected (a full run writes two to five times more).
MIN_LINES = {"inprocess/tests": 400, "inprocess/contracts": 30, "subprocess": 200}
#: JSON lines of the gateway's loggers written by gateway processes the tests started (``ecuapass-gateway run``…).
MIN_GATEWAY_SUBPROCESS_LINES = 20


@pytest.fixture(scope="module")
def logs(request: pytest.FixtureRequest) -> Path:
    value = request.config.getoption("scan_test_logs")
    if not value:
        pytest.skip("the log scan runs after a full run: make test (pytest tests/full_run --scan-test-logs DIR)")
    folder = Path(value)
    if not folder.is_dir():
        pytest.fail(f"{folder}: no logs; run the suite with ECUAPASS_TEST_LOGS={folder} first (make test does)")
    return folder


@pytest.fixture(scope="module")
def report(logs: Path) -> Report:
    report = scanner_for(logs).scan_folder(logs)
    summary = [f"{source}: {count} lines" for source, count in sorted(report.lines.items()) if "/" not in source]
    summary += [f"{source}: {count} lines" for source, count in sorted(report.lines.items()) if "/" in source]
    summary.append(f"masked identifiers seen: {sum(report.masked.values())}; findings: {len(report.findings)}")
    (logs / "scan.txt").write_text("\n".join([*summary, *map(str, report.findings)]) + "\n", encoding="utf-8")
    print("\n".join(summary))
    return report


def test_no_secret_and_no_unmasked_identifier_in_the_logs_of_the_run(report: Report) -> None:
    shown = "\n".join(str(finding) for finding in report.findings[:50])
    assert report.findings == [], f"{len(report.findings)} leaks in the test run's logs:\n{shown}"


def test_the_logs_of_every_source_were_collected(report: Report) -> None:
    for source, least in MIN_LINES.items():
        assert report.lines[source] >= least, f"only {report.lines[source]} lines from {source}: not collected?"


def test_the_gateway_processes_started_by_the_tests_were_heard(logs: Path) -> None:
    gateway_lines = 0
    for path in (logs / "subprocess").glob("*.log"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{") and '"logger": "gateway' in line:
                gateway_lines += json.loads(line)["level"] in {"INFO", "WARNING", "ERROR", "CRITICAL"}
    assert gateway_lines >= MIN_GATEWAY_SUBPROCESS_LINES


def test_the_secrets_the_tests_used_were_registered(logs: Path) -> None:
    secrets = registered_secrets(logs)
    assert any("T0KEN" in secret for secret in secrets), "the tokens of tests/integration/test_tls_endpoint.py"
    assert sum("\n" in secret for secret in secrets) >= 3, "the private keys of tests/certificates.py"


def test_identifiers_of_the_examples_were_logged_masked(report: Report) -> None:
    identifiers, _ = event_numbers()
    endings = {identifier[-3:] for identifier in identifiers}
    seen = {ending: count for ending, count in report.masked.items() if ending in endings}
    assert seen, "no masked identifier of the examples (not even the canary): is the masking in the logs' path?"
