#!/usr/bin/env bash
# test_policy.sh - snapshot lifecycle policies through the CLI: put and
# list, refusals, run with retention, run-due with a given clock, delete.
. "$(dirname "$0")/lib.sh"

"$FERRY" init --version 0.7.1 >/dev/null
"$GEN" --type profile --count 2000 > "$TMP/p.ndjson"
"$FERRY" import profile "$TMP/p.ndjson" --quiet
mkdir -p "$TMP/repo"
check "repo add" "$FERRY" snapshot repo add backups "$TMP/repo"

check "put a policy" "$FERRY" snapshot policy put nightly --schedule '0 30 1 * * ?' \
  --repo backups --name '<nightly-{now/d}>' --indices '*' --expire-after 30d \
  --min-count 1 --max-count 2
list=$("$FERRY" snapshot policy list)
same "list shows the schedule" "$(jq -r .nightly.policy.schedule <<<"$list")" "0 30 1 * * ?"
next=$(jq -r .nightly.state.next_ms <<<"$list")
now=$(($(date +%s) * 1000))
if [ "$next" -gt "$now" ] && [ $((next - now)) -le 86400000 ]; then ok "next run within a day"
else bad "next run within a day" "next=$next now=$now"; fi
expect_fail 1 "bad schedule refused" "$FERRY" snapshot policy put x --schedule '61 * * * *' --repo backups --name x
has "bad schedule message" "$err" "bad schedule"
expect_fail 3 "unknown repository refused" "$FERRY" snapshot policy put x --schedule '* * * * *' --repo nope --name x
has "unknown repository message" "$err" "snapshot repo add nope"
expect_fail 1 "bad date math refused" "$FERRY" snapshot policy put x --schedule '* * * * *' --repo backups --name '<a-{later}>'
expect_fail 1 "bad retention refused" "$FERRY" snapshot policy put x --schedule '* * * * *' --repo backups --name x --expire-after 3q
expect_fail 2 "put without --repo" "$FERRY" snapshot policy put x --schedule '* * * * *' --name x

# three runs in one second: each gets its own name (-<secs>, -<secs>-2...)
for i in 1 2 3; do
  out=$("$FERRY" snapshot policy run nightly) && ok "run $i" || bad "run $i" "$out"
done
n=$("$FERRY" snapshot list backups --json | jq 'length')
same "retention keeps max_count 2" "$n" 2
state=$("$FERRY" snapshot policy list nightly | jq -c .nightly.state)
same "policy remembers the 2 kept" "$(jq '.taken | length' <<<"$state")" 2
has "last success recorded" "$(jq -r .last_ok <<<"$state")" "nightly-"
check "the kept snapshots verify" "$FERRY" snapshot verify backups

# run-due: not due now; due when the clock is past next_ms
same "nothing due now" "$("$FERRY" snapshot policy run-due)" "[]"
next=$("$FERRY" snapshot policy list nightly | jq -r .nightly.state.next_ms)
due=$("$FERRY" snapshot policy run-due --at $((next + 1000)))
same "due at next_ms runs it" "$(jq -r '.[0].policy' <<<"$due")" nightly
same "and without error" "$(jq -r '.[0].error' <<<"$due")" ""
same "still 2 after retention" "$("$FERRY" snapshot list backups --json | jq 'length')" 2
next2=$("$FERRY" snapshot policy list nightly | jq -r .nightly.state.next_ms)
if [ "$next2" -gt "$next" ]; then ok "next run moved on"; else bad "next run moved on" "$next2 <= $next"; fi

check "delete the policy" "$FERRY" snapshot policy delete nightly
same "its snapshots stay" "$("$FERRY" snapshot list backups --json | jq 'length')" 2
expect_fail 3 "delete again: not found" "$FERRY" snapshot policy delete nightly
check "policy --help" "$FERRY" snapshot policy --help
finish
