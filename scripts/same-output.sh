#!/usr/bin/env bash
# Runs two fedscan binaries over the same offline inputs and shows where their
# outputs differ: the check for a change meant to keep behaviour (a refactor).
#   scripts/same-output.sh [--ignore-field NAME ...] OLD_BINARY NEW_BINARY
# The cases: replayed facts, snapshots, traces, rule commands, a baseline, an
# ignore file with an expired entry, every report format, and a live batch
# against a fleet of peers on loopback that both binaries share; the run's
# own times are masked.
# --ignore-field drops a JSON field the new binary adds on purpose (needs jq).
set -euo pipefail
cd "$(dirname "$0")/.."
ignored=()
while [ "${1:-}" = "--ignore-field" ]; do
    ignored+=("$2")
    shift 2
done
old=$1
new=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cases=()
add() { cases+=("$*"); }
sample=fixtures/sample/contoso.facts.json
for format in table json; do
    add scan --facts $sample --format $format --color never
    add scan --offline --now 2026-06-01T00:00:00Z --config fixtures/sample/contoso-lync2013.txt --partner it.litwareinc.com --format $format --color never
    for profile in federation skype hybrid online push; do
        add scan --facts $sample --profile $profile --format $format --color never
    done
    for only in 'DNS-*' 'TLS-*' 'SIP-*' 'CFG-*' 'PROV-*' DNS-FED-05 TLS-CON-01 SIP-OPT-03; do
        add scan --facts $sample --only "$only" --format $format --color never
    done
    add scan --facts $sample --skip 'TLS-*' --format $format --color never
    add scan --facts $sample --now 2031-01-01T00:00:00Z --format $format --color never
    for snapshot in fixtures/snapshots/*.txt fixtures/snapshots/*.json; do
        add scan --offline --now 2026-06-01T00:00:00Z --config "$snapshot" --partner fabrikam.com --format $format --color never
    done
    add scan --offline --now 2026-06-01T00:00:00Z --config fixtures/snapshots --format $format --color never
    for cert in fixtures/certs/*.pem; do
        add scan --offline --now 2026-06-01T00:00:00Z --cert-file "$cert" --edge sip.contoso.com contoso.com --format $format --color never
    done
    add rules list --format $format
done
add rules validate rules
# Rule files with problems of every layer: TOML, fields, parameters, references.
printf '[[rule]]\nid = "X-SRV-01"\ntitle = "t"\nseverity = "high"\nrationale = "r"\nremediation = "x"\nprofiles = ["federation"]\nreferences = []\n[rule.check]\nkind = "srv_port"\nservice = "_sipfederationtls._tcp"\nport = 5061\nexistence_rule = "NO-SUCH-01"\ncolour = "blue"\n\n[[rule]]\nid = "X-SRV-02"\ntitle = "t"\nseverity = "loud"\nrationale = "r"\nremediation = "x"\nprofiles = ["federation"]\nreferences = []\n[rule.check]\nkind = "srv_target_public"\nservice = "_sipfederationtls._tcp"\nexistence_rule = "DNS-FED-99"\nresolution_rule = "DNS-FED-05"\n' >"$work/bad-rules.toml"
printf '[[rule]]\nid = "X-SRV-03"\n[rule.check\n' >"$work/broken-rules.toml"
add rules validate "$work/bad-rules.toml"
add rules validate rules "$work/bad-rules.toml" "$work/broken-rules.toml"
# Planned zones: each fixture zone alone, the directory with its internal
# view, a zone split by $INCLUDE, a Windows export, every listing format,
# with a topology and a certificate file, in the formats that show evidence
# and locations.
for format in table json sarif; do
    for zone in fixtures/zones/*.zone fixtures/zones/include/contoso.com.zone fixtures/zones/windows/contoso.com.dns; do
        add scan --offline --now 2026-06-01T00:00:00Z --zone "$zone" --format $format --color never
    done
    add scan --offline --now 2026-06-01T00:00:00Z --zone fixtures/zones --internal-zone fixtures/zones/internal --profile federation --profile hybrid --profile online --format $format --color never
    for listing in fixtures/zones/formats/*/fabrikam.com.*; do
        add scan --offline --now 2026-06-01T00:00:00Z --zone "fabrikam.com=$listing" --zone fixtures/zones/fabrikam-edge.net.zone --format $format --color never
    done
    add scan --offline --now 2026-06-01T00:00:00Z --zone fixtures/zones/contoso.com.zone --zone fixtures/zones/contoso.net.zone --config fixtures/sample/contoso-lync2013.txt --format $format --color never
done
# Every report format, and what a report is judged against.
for format in table json ndjson sarif junit markdown html csv; do
    add scan --facts $sample --format $format --color never
    add scan --offline --now 2026-06-01T00:00:00Z --config fixtures/sample/contoso-lync2013.txt --partner it.litwareinc.com --format $format --color never
done
"$old" scan --facts $sample --only 'DNS-*' --format json -o "$work/baseline.json" >/dev/null 2>&1 || true
printf '[[ignore]]\nrule = "TLS-*"\nreason = "replaced next year"\nexpires = 2020-01-31\n\n[[ignore]]\nrule = "DNS-FED-05"\nreason = "known"\n\n[[ignore]]\nrule = "CFG-*"\nreason = "errors too"\naccept_errors = true\n' >"$work/ignore.toml"
for format in table json ndjson sarif; do
    add scan --facts $sample --baseline "$work/baseline.json" --format $format --color never
    add scan --facts $sample --baseline "$work/baseline.json" --fail-on-new --format $format --color never
    add scan --facts $sample --ignore-file "$work/ignore.toml" --format $format --color never
done
# Every trace fixture, the public corpus included, through diagnose.
for trace in fixtures/traces/*.log fixtures/traces/*.txt fixtures/traces/public/*.txt fixtures/traces/public/*.log; do
    add diagnose "$trace" --format json
    add diagnose "$trace" --domain contoso.com
done
for id in $("$old" rules list --format json | grep '"id"' | sed 's/.*"id": "\(.*\)".*/\1/'); do
    add rules explain "$id"
done

# A live batch against real peers on loopback (examples/peer_fleet.rs: an
# organization of two domains on one Edge, Edges that answer, refuse, close
# or present another name, a closed port, missing records), gathered whole,
# in chunks of one domain and in one chunk; NDJSON in chunks is streamed.
# The fleet stays up until the script ends and closes its standard input.
mkfifo "$work/fleet.in"
cargo run --quiet --locked --example peer_fleet -- "$work" <"$work/fleet.in" >"$work/fleet.out" &
exec 3>"$work/fleet.in"
trap 'exec 3>&-; wait; rm -rf "$work"' EXIT
for _ in $(seq 600); do
    grep -q '^edge=' "$work/fleet.out" 2>/dev/null && break
    sleep 0.5
done
resolver=$(sed -n 's/^resolver=//p' "$work/fleet.out")
edge=$(sed -n 's/^edge=//p' "$work/fleet.out")
[ -n "$edge" ] || { echo "the peer fleet did not start" >&2; exit 2; }
network="scan --quiet --now 2026-11-20T00:00:00Z --resolver $resolver --trust $work/root.pem --color never"
for chunks in "" "--chunk-domains 1" "--chunk-domains 1000"; do
    for format in table json ndjson sarif; do
        add $network --domains-file "$work/domains.txt" $chunks --format $format
    done
    add $network --domains-file "$work/domains.txt" $chunks --only 'DNS-*' --format json
    add $network --domains-file "$work/domains.txt" $chunks --layout overview --format table
    add $network --domains-file "$work/domains.txt" $chunks --format html
    add $network --domains-file "$work/domains.txt" $chunks --format markdown
    add $network --domains-file "$work/domains.txt" $chunks --format junit
    add $network --domains-file "$work/domains.txt" $chunks --format csv
    add $network --domains-file "$work/domains.txt" $chunks --layout paths --show pass,fail,error,skip --format table
    add $network --domains-file "$work/domains.txt" $chunks --skip 'TLS-*' --format ndjson
done
# Shards of the batch, saved once (by the old build) and read by both:
# merged whole, merged partial, refused, replayed.
for k in 0 1 2; do
    "$old" $network --domains-file "$work/domains.txt" --shard $k/3 --save-facts "$work/shard$k.json" --format json >/dev/null 2>&1 || true
done
for format in table json ndjson sarif; do
    add merge "$work/shard0.json" "$work/shard1.json" "$work/shard2.json" --format $format --color never
done
add merge "$work/shard0.json" "$work/shard2.json" --format json
add merge "$work/shard0.json" "$work/shard2.json" --allow-partial --format json
add merge "$work/shard0.json" "$work/shard0.json" "$work/shard1.json" --allow-partial --format table --color never
add scan --facts "$work/shard0.json" --facts "$work/shard1.json" --facts "$work/shard2.json" --format json
add scan --facts "$work/shard1.json" --allow-partial --format ndjson
printf '{"dns": [' >"$work/damaged.json"
add scan --facts "$work/damaged.json" --format json
add scan --facts "$work/missing.json" --format json
add merge "$work/shard0.json" "$work/damaged.json" --format json
# Scans with the organization's own context are gathered whole.
for format in table json ndjson; do
    add $network hoster.test --edge "$edge" --partner refuses.test --partner closes.test --format $format
    add $network --config fixtures/sample/contoso-lync2013.txt --partner ok0.test --partner misnamed.test --format $format
done

differ=0
for index in "${!cases[@]}"; do
    read -r -a argv <<<"${cases[$index]}"
    for side in old new; do
        binary=${!side}
        set +e
        "$binary" "${argv[@]}" >"$work/$side.out" 2>"$work/$side.err"
        echo "exit $?" >>"$work/$side.err"
        set -e
        # Times of the run itself: the JSON report's, the NDJSON records',
        # SARIF's automation id.
        sed -i -E 's/"(started_at|finished_at|startTimeUtc|endTimeUtc)": ?"[^"]*"/"\1": "-"/g; s#("id": "fedscan/[^/]*/)[^"]*"#\1-"#' "$work/$side.out"
        for field in "${ignored[@]}"; do
            if jq -e . "$work/$side.out" >/dev/null 2>&1; then
                jq --arg f "$field" 'del(.. | objects | select(has($f)) | .[$f])' "$work/$side.out" >"$work/$side.tmp"
                mv "$work/$side.tmp" "$work/$side.out"
            fi
        done
    done
    if ! cmp -s "$work/old.out" "$work/new.out" || ! cmp -s "$work/old.err" "$work/new.err"; then
        differ=$((differ + 1))
        echo "== differs: fedscan ${cases[$index]}"
        diff "$work/old.out" "$work/new.out" | head -20 || true
        diff "$work/old.err" "$work/new.err" | head -10 || true
    fi
done
echo "${#cases[@]} cases, $differ differ"
[ "$differ" -eq 0 ]
