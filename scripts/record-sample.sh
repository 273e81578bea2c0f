#!/bin/sh
# Records the bundled sample's table and JSON report into
# fixtures/sample/expected/ (what tests/all/cli.rs compares byte for byte).
# Run after a deliberate change to findings; review the diff before committing.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/fedscan
facts=fixtures/sample/contoso.facts.json
"$bin" scan --facts "$facts" --color never > fixtures/sample/expected/contoso.table.txt || true
"$bin" scan --facts "$facts" --format json \
  | sed -E 's/"(started_at|finished_at)": "[^"]*"/"\1": "-"/g' > fixtures/sample/expected/contoso.report.json || true
git --no-pager diff --stat -- fixtures/sample/expected
