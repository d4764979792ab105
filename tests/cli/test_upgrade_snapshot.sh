#!/usr/bin/env bash
# test_upgrade_snapshot.sh - every major upgrade takes a snapshot first:
# it is listed and recorded in the version history, it restores the old
# version, it lets the old version be deleted without --force;
# --no-snapshot and the choice between several repositories.
. "$(dirname "$0")/lib.sh"
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations

"$FERRY" init --version 0.7.1 >/dev/null
"$GEN" --type profile --count 3000 > "$TMP/p.ndjson"
"$FERRY" import profile "$TMP/p.ndjson" --quiet
old_hash=$("$FERRY" export profile --quiet | sha256sum)
mkdir -p "$TMP/r1" "$TMP/r2"
check "repo add" "$FERRY" snapshot repo add r1 "$TMP/r1"

check "upgrade to 0.7.2 with one repository" "$FERRY" upgrade run --to 0.7.2 --quiet
snaps=$("$FERRY" snapshot list r1 --json)
same "one pre-upgrade snapshot" "$(jq 'length' <<<"$snaps")" 1
name=$(jq -r '.[0].name' <<<"$snaps")
has "named after the move" "$name" "pre-upgrade-0.7.1-to-0.7.2-"
has "history records it" "$("$FERRY" versions --history)" "snapshot r1/$name"
check "it verifies" "$FERRY" snapshot verify r1 "$name"

# it restores the old version, whole, into an empty data dir
export FERRY_DATA=$TMP/restored
check "restore --all into an empty dir" "$FERRY" snapshot restore "$TMP/r1" "$name" --all
same "restored release is the old one" "$("$FERRY" status --json | jq -r .release)" 0.7.1
same "restored profiles equal the old ones" "$("$FERRY" export profile --quiet | sha256sum)" "$old_hash"
export FERRY_DATA=$TMP/data

# the snapshot holds 0.7.1: deleting it needs no --force
check "delete 0.7.1 (a snapshot holds it)" "$FERRY" indices delete --version 0.7.1

# --no-snapshot: no new snapshot, a warning in the history
check "upgrade --no-snapshot" "$FERRY" upgrade run --to 0.8.0 --no-snapshot --quiet
same "no new snapshot" "$("$FERRY" snapshot list r1 --json | jq 'length')" 1
has "history warns" "$("$FERRY" versions --history)" "upgraded without a snapshot (--no-snapshot)"
expect_fail 1 "0.7.2 no snapshot holds: refused" "$FERRY" indices delete --version 0.7.2
has "says how" "$err" "--force"

# two repositories: the run must be told which
check "second repo" "$FERRY" snapshot repo add r2 "$TMP/r2"
expect_fail 1 "two repos: refused" "$FERRY" upgrade run --to 0.8.1 --quiet
has "two repos: names the option" "$err" "--snapshot-repo"
same "two repos: nothing changed" "$("$FERRY" status --json | jq -r .release)" 0.8.0
check "with --snapshot-repo r2" "$FERRY" upgrade run --to 0.8.1 --snapshot-repo r2 --quiet
same "the snapshot went to r2" "$("$FERRY" snapshot list r2 --json | jq -r '.[0].name' | cut -c1-26)" "pre-upgrade-0.8.0-to-0.8.1"
same "release 0.8.1" "$("$FERRY" status --json | jq -r .release)" 0.8.1
# a minor upgrade moves no data: no snapshot
check "minor upgrade" "$FERRY" upgrade run --to 0.8.1.2 --quiet
same "no snapshot for a minor upgrade" "$("$FERRY" snapshot list r2 --json | jq 'length')" 1
finish
