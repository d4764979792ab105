#!/usr/bin/env bash
# examples/demo.sh - the main job on the embedded LMDB default, run by
# `make demo`: generate customer-data-platform documents for two tenants,
# import them (progress bars), list what is stored, export a sample, and
# show the catalog. Everything lives in a fresh data dir under build/.
set -euo pipefail
B=${B:-build}
cd "$(dirname "$0")/.."
FERRY=$PWD/$B/ferry
GEN=$PWD/$B/cdp-gen
N=${DEMO_DOCS:-100000}
export FERRY_DATA=${FERRY_DATA:-$PWD/$B/demo-data}
work=$PWD/$B/demo
rm -rf "$FERRY_DATA" "$work"
mkdir -p "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "generate $N profiles, $N events and $((N / 2)) sessions per tenant (deterministic)"
for t in default acme; do
  "$GEN" --type profile --count "$N" --tenant "$t" >"$work/$t-profile.ndjson"
  "$GEN" --type event --count "$N" --tenant "$t" --profiles "$N" >"$work/$t-event.ndjson"
  "$GEN" --type session --count $((N / 2)) --tenant "$t" --profiles "$N" \
    >"$work/$t-session.ndjson"
done
ls -lh "$work" | tail -n +2

step "ferry init --version 0.7.1 (data dir $FERRY_DATA)"
"$FERRY" init --version 0.7.1
"$FERRY" tenant add acme

step "import (NDJSON, ids from the documents' \"id\" field)"
for t in default acme; do
  for ix in profile event session; do
    "$FERRY" import "$t.$ix" "$work/$t-$ix.ndjson"
  done
done

step "re-import is idempotent: same ids are replaced, nothing doubles"
"$FERRY" import acme.session "$work/acme-session.ndjson"

step "ferry index list"
"$FERRY" index list

step "a document, by alias and by physical name"
id=$(head -1 "$work/acme-profile.ndjson" | sed 's/^{"id":"\([^"]*\)".*/\1/')
"$FERRY" doc get acme.profile "$id" --json | head -c 400; echo
"$FERRY" doc get v0_7_1.acme.profile "$id" | head -c 200; echo

step "bad input is refused with where and why, and nothing is written"
printf '{"id":"x1","ok":true}\n{"id":"x2", "broken": }\n' >"$work/bad.ndjson"
"$FERRY" import acme.profile "$work/bad.ndjson" || true

step "export: first 3 profiles of acme in id order"
("$FERRY" export acme.profile --quiet || true) | head -3 | cut -c1-160

export FERRY_MIGRATIONS=$PWD/examples/cdp/migrations
step "a snapshot repository: every major upgrade takes a snapshot first"
mkdir -p "$work/backups"
"$FERRY" snapshot repo add backups "$work/backups"

step "upgrade plan: 0.7.1 -> 0.8.1 is three hops, composed into one pass per index"
"$FERRY" upgrade plan --to 0.8.1

step "a plan that cannot run is refused before anything changes"
"$FERRY" upgrade plan --to 0.9.0 || true
"$FERRY" upgrade plan --to 0.8.1 --index-budget 8 || true

step "upgrade run --to 0.8.1 (copy, catch up, switch every alias at once, verify)"
"$FERRY" upgrade run --to 0.8.1

step "both versions side by side; aliases now point at 0.8.1"
"$FERRY" versions
"$FERRY" index list
echo "the same profile, old and new shape:"
"$FERRY" doc get "v0_7_1.acme.profile" "$id" | cut -c1-220
"$FERRY" doc get acme.profile "$id" | cut -c1-220

step "roll back (first it says what would be lost), then upgrade again"
"$FERRY" doc put acme.profile demo-after-switch --body '{"note":"written after the switch"}' >/dev/null
"$FERRY" rollback
"$FERRY" rollback --yes
"$FERRY" versions
"$FERRY" upgrade run --to 0.8.1 --quiet
"$FERRY" upgrade status

step "the pre-upgrade snapshots (the second shares every chunk of the unchanged 0.7.1 set with the first)"
"$FERRY" snapshot list backups
"$FERRY" snapshot policy put nightly --schedule '0 30 1 * * ?' --repo backups \
  --name '<nightly-{now/d}>' --expire-after 30d --min-count 3 --max-count 30
"$FERRY" snapshot policy run nightly

step "delete the old version (the active one is refused)"
"$FERRY" indices delete --version 0.8.1 || true
"$FERRY" indices delete --version 0.7.1 --dry-run
"$FERRY" indices delete --version 0.7.1

step "ferry status / ferry versions"
"$FERRY" status
"$FERRY" versions
echo
echo "demo done: data in $FERRY_DATA"
