#!/usr/bin/env bash
# System packages the test suite uses beyond Python, installed when missing: stunnel, the TLS terminator put in
# front of Tansu by tests/integration/test_tls_kafka.py (Debian package stunnel4); xmlsec1, the independent
# verifier of the gateway's XML signatures in tests/unit/test_signing.py (Debian package xmlsec1); and promtool,
# which checks the alert rules and runs their scenarios (deploy/prometheus/alerts.test.yml) in
# tests/unit/test_ops_assets.py. promtool comes from Debian's package prometheus (19 MB), but only that binary is
# taken from it, into /usr/local/bin: installing the package would also pull a dozen JavaScript packages and start
# a Prometheus server.
# Idempotent and quiet: does nothing when everything is there. Installs only as root with apt-get; otherwise, or
# when the install fails, it says so and the tests that need the package are skipped with that reason.
set -euo pipefail

missing=()
command -v stunnel >/dev/null 2>&1 || missing+=(stunnel4)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
need_promtool=0
command -v promtool >/dev/null 2>&1 || need_promtool=1
[ ${#missing[@]} -eq 0 ] && [ $need_promtool -eq 0 ] && exit 0

# promtool alone, out of the package prometheus (a static Go binary: nothing else is needed to run it).
install_promtool() {
    local dir status=0
    dir=$(mktemp -d)
    (cd "$dir" && apt-get download -qq prometheus >/dev/null 2>&1) \
        && dpkg-deb --fsys-tarfile "$dir"/prometheus_*.deb | tar -x -O ./usr/bin/promtool >"$dir/promtool" \
        && install -m 0755 "$dir/promtool" /usr/local/bin/promtool \
        || status=1
    rm -rf "$dir"
    return $status
}

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq >/dev/null; then
        if [ ${#missing[@]} -gt 0 ] && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
            missing=()
        fi
        if [ $need_promtool -eq 1 ] && install_promtool; then
            need_promtool=0
        fi
    fi
fi
if [ $need_promtool -eq 1 ]; then
    missing+=(promtool)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "note: could not install ${missing[*]} (needs root and apt-get): the tests that need it will be skipped" >&2
