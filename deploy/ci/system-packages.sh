#!/usr/bin/env bash
# System packages the test suite uses beyond Python, installed when missing: stunnel, the TLS terminator put in
# front of Tansu by tests/integration/test_tls_kafka.py (Debian package stunnel4), and xmlsec1, the independent
# verifier of the gateway's XML signatures in tests/unit/test_signing.py (Debian package xmlsec1).
# Idempotent and quiet: does nothing when everything is there. Installs only as root with apt-get; otherwise, or
# when the install fails, it says so and the tests that need the package are skipped with that reason.
set -euo pipefail

missing=()
command -v stunnel >/dev/null 2>&1 || missing+=(stunnel4)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        exit 0
    fi
fi
echo "note: could not install ${missing[*]} (needs root and apt-get): the tests that need it will be skipped" >&2
