"""``ecuapass-gateway run`` with an agency it cannot sign for: exit 2 before touching the broker, with a message that
names the agency (its name, its RUC masked as in logs) and the problem, never the password (nor the bearer token)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signing_certificates import agency, authority

RUC = "1790011674001"
WRONG_PASSWORD = "Wr0ng-p12-password-never-shown"
TOKEN = "agency-t0ken-never-shown"


@pytest.mark.parametrize("how", ["json", "nested"])
def test_a_wrong_certificate_password_stops_the_gateway_with_exit_2(tmp_path: Path, how: str) -> None:
    made = agency(tmp_path, authority(tmp_path, "Agencies Test CA"), RUC)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_KAFKA__BOOTSTRAP_SERVERS"] = "127.0.0.1:1"  # never reached: the agencies are loaded first
    if how == "json":
        env["GATEWAY_AGENCIES"] = json.dumps(
            {RUC: {"name": "Uno", "certificate": str(made.pkcs12), "password": WRONG_PASSWORD, "token": TOKEN}}
        )
    else:
        env[f"GATEWAY_AGENCIES__{RUC}__NAME"] = "Uno"
        env[f"GATEWAY_AGENCIES__{RUC}__CERTIFICATE"] = str(made.pkcs12)
        env[f"GATEWAY_AGENCIES__{RUC}__PASSWORD"] = WRONG_PASSWORD
        env[f"GATEWAY_AGENCIES__{RUC}__TOKEN"] = TOKEN
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert f"agency **********001 (Uno): cannot open the PKCS#12 file {made.pkcs12}: wrong password" in done.stderr
    output = done.stdout + done.stderr
    assert WRONG_PASSWORD not in output and made.password not in output and TOKEN not in output and RUC not in output
