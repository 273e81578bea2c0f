#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, then
# checks formatting, lints with clippy (warnings are errors) and runs every
# test. Run from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "scripts/test.sh: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
# rustfmt and clippy are rustup components; add them if this toolchain lacks them.
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done
# Real peers the tests start on loopback: Knot DNS (knotd), openssl s_server
# (legacy TLS) and Kamailio with its TLS module (SIP). Under CI a missing peer fails its test, so install
# what is missing.
packages=()
if ! command -v knotd >/dev/null && [ ! -x /usr/sbin/knotd ]; then
    packages+=(knot)
fi
if ! command -v openssl >/dev/null; then
    packages+=(openssl)
fi
if ! command -v kamailio >/dev/null && [ ! -x /usr/sbin/kamailio ]; then
    packages+=(kamailio kamailio-tls-modules)
elif ! ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1; then
    packages+=(kamailio-tls-modules)
fi
# The reports' real consumers: Chromium opens the HTML report, groff reads
# the manual page.
if ! command -v chromium >/dev/null; then
    packages+=(chromium)
fi
if ! command -v groff >/dev/null; then
    packages+=(groff-base)
fi
# GNU time gives a scan's own peak memory, apart from the test process's
# (tests/memory.rs).
if [ ! -x /usr/bin/time ]; then
    packages+=(time)
fi
# BIND's named-checkzone checks the fixture zone files in tests/all/zones.rs.
if ! command -v named-checkzone >/dev/null; then
    packages+=(bind9-utils)
fi
# fedscan serve's consumers (tests/all/serve.rs): a real Prometheus scrapes
# it and promtool checks the shipped files; the blackbox exporter probes the
# same Edge for comparison; systemd-analyze reads the shipped unit.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    packages+=(prometheus)
fi
if ! command -v prometheus-blackbox-exporter >/dev/null; then
    packages+=(prometheus-blackbox-exporter)
fi
if ! command -v systemd-analyze >/dev/null; then
    packages+=(systemd)
fi
# GNU parallel runs the shards of a batch in tests/all/batch.rs.
if ! command -v parallel >/dev/null; then
    packages+=(parallel)
fi
if [ ${#packages[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "scripts/test.sh: installing ${packages[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# The other consumers, pinned, under target/test-tools: Python's junitparser,
# jsonschema and cmark-gfm (tests/consumers/requirements.txt) in a virtual
# environment, and Microsoft's SARIF validator from npm.
tools=target/test-tools
mkdir -p "$tools"
if [ ! -x "$tools/venv/bin/python" ] || ! cmp -s tests/consumers/requirements.txt "$tools/venv/requirements.txt"; then
    echo "scripts/test.sh: installing the Python report consumers"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/consumers/requirements.txt
    cp tests/consumers/requirements.txt "$tools/venv/requirements.txt"
fi
multitool="$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [ ! -e "$multitool" ]; then
    if ! command -v npm >/dev/null; then
        echo "scripts/test.sh: npm is needed for the SARIF validator (install Node.js)" >&2
        exit 1
    fi
    echo "scripts/test.sh: installing @microsoft/sarif-multitool"
    npm install --silent --no-audit --no-fund --prefix "$tools" @microsoft/sarif-multitool@5.7.0
fi
chmod u+x "$multitool"

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --no-fail-fast
