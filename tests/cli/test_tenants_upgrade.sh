#!/usr/bin/env bash
# tests/cli/test_tenants_upgrade.sh - upgrades of every tenant at once
# (issue 6), black box, with the example CDP migrations 0.7.1 -> 0.8.1 on
# four tenants (default, acme, beta, gamma):
#   - `ferry tenant add` gives a new tenant the others' index set;
#   - one plan covers every tenant: per-tenant counts, the budget counts
#     tenants x versions and a refusal breaks it down and names the old
#     version whose deletion makes room;
#   - the run shows a progress line per tenant; status has per-tenant
#     done/total; every tenant's aliases move in the cutover;
#   - a Lua error on one document of one tenant stops the cutover for all
#     (nothing switched), naming tenant, index and id; an abort moves none;
#   - a tenant added while a throttled `ferry upgrade run` copies gets both
#     index sets and is switched with the rest, its writes during the run
#     included; kill -9 of the runner before or after the add, then resume;
#   - a tenant added after the switch gets the old version's set too (for
#     a rollback; test_tenants_rollback.sh rolls it back);
#   - `ferry tenant remove`: refusals, during an upgrade, --force.
#
#   B=build bash tests/cli/test_tenants_upgrade.sh      (or B=build-san)
. "$(dirname "$0")/lib.sh"
data_suite

T="timeout 300"
. "$(dirname "$0")/upgrade_lib.sh"
MIG=$ROOT/examples/cdp/migrations
export FERRY_MIGRATIONS=$MIG
NP=${TEN_DOCS:-3000} # profiles and events per tenant; sessions: half
TENANTS="default acme beta gamma"
COPY=$((4 * 2 * NP)) # documents the upgrade copies (sessions are dropped)

now_ms() { date +%s%3N; }
ustate() { $T "$FERRY" upgrade status --json | jq -r '.state // ""'; }
# wait_copy SECONDS: until the background run is copying
wait_copy() {
  local i
  for ((i = 0; i < $1 * 20; i++)); do
    [ "$(ustate)" = copy ] && return 0
    sleep 0.05
  done
  return 1
}
# on VERSION TENANT...: every alias of these tenants points at VERSION
on() {
  local v=$1 t a p bad=""; shift
  for t in "$@"; do
    for a in $($T "$FERRY" index list --json | jq -r --arg t "$t" '.[] | select(.tenant == $t and .alias != "") | .alias'); do
      p=$(resolve "$a")
      case "$p" in "v${v//./_}.$t."*) ;; *) bad="$bad $a=$p" ;; esac
    done
  done
  echo "${bad:-ok}"
}
names() { $T "$FERRY" index list "$1" --json | jq -r '[.[].index] | join(",")'; }
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

# ------------------------------------------------------------ the base
use base
check "init 0.7.1" $T "$FERRY" init --version 0.7.1
for t in $TENANTS; do
  [ "$t" = default ] || check "tenant add $t" $T "$FERRY" tenant add "$t"
  "$GEN" --type profile --count "$NP" --tenant "$t" | $T "$FERRY" import "$t.profile" - --quiet
  "$GEN" --type event --count "$NP" --profiles $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.event" - --quiet
  "$GEN" --type session --count $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.session" - --quiet
done
same "base: 12 indices of 0.7.1, 3 per tenant" "$($T "$FERRY" index list 'v0_7_1.*' --json | jq length)" 12
same "base: every tenant's documents" "$($T "$FERRY" status --json | jq .docs)" $((4 * (2 * NP + NP / 2)))

# a new tenant gets the index set the others have, empty, same bodies
fresh add
check "tenant add zed" $T "$FERRY" tenant add zed
same "zed has profile, event, session of 0.7.1" "$(names 'v0_7_1.zed.*')" \
  "v0_7_1.zed.event,v0_7_1.zed.profile,v0_7_1.zed.session"
same "zed's aliases" "$(resolve zed.profile) $(resolve zed.event)" "v0_7_1.zed.profile v0_7_1.zed.event"
same "zed's indices are empty" "$($T "$FERRY" index list 'v0_7_1.zed.*' --json | jq '[.[].docs] | add')" 0

# ------------------------------------------------------------ one plan, per-tenant counts, budget
use base
run $T "$FERRY" upgrade plan --to 0.8.1 --json
plan=$out
same "plan: four tenants" "$(jq -r '[.tenants[].tenant] | join(",")' <<<"$plan")" "acme,beta,default,gamma"
same "plan: per tenant 3 now + 3 new" "$(jq -r '[.tenants[] | "\(.now)+\(.new)=\(.after)"] | unique | join(" ")' <<<"$plan")" "3+3=6"
same "plan: per tenant documents" "$(jq -r '.tenants[] | select(.tenant == "beta") | .docs' <<<"$plan")" $((2 * NP + NP / 2))
same "plan: budget counts tenants x versions" \
  "$(jq -c '.budget | [.now, .after, .tenants, [.versions[] | "\(.data_version):\(.indices)"]]' <<<"$plan")" \
  '[12,24,4,["0.7.1:12","0.8.1:12"]]'
same "plan: one item per tenant and index" "$(jq '.indices | length' <<<"$plan")" 16
run $T "$FERRY" upgrade plan --to 0.8.1
has "text plan: per-tenant table" "$out" "TENANT                INDICES      NEW    AFTER         DOCS"
has "text plan: a tenant's row" "$out" "  gamma                       3        3        6"
has "text plan: budget per version" "$out" "24 of a budget of 1000 (4 tenants; 0.7.1: 12, 0.8.1: 12)"
run $T "$FERRY" upgrade plan --to 0.8.1 --index-budget 20
same "over the budget: exit 1" "$rc" 1
has "over the budget: counts" "$err" "24 indices, over the index budget of 20 (12 now + 12 new"
has "over the budget: per-tenant breakdown" "$err" "4 tenants with 6 each (3 now + 3 new)"
has "over the budget: nothing old to delete" "$err" "there is none to delete"
fresh seq
check "seq: upgrade to 0.7.2" $T "$FERRY" upgrade run --to 0.7.2 --quiet
run $T "$FERRY" upgrade plan --to 0.8.1 --index-budget 30
same "seq: over the budget: exit 1" "$rc" 1
has "seq: 36 = 24 now + 12 new" "$err" "36 indices, over the index budget of 30 (24 now + 12 new"
has "seq: the breakdown" "$err" "4 tenants with 9 each (6 now + 3 new)"
has "seq: the old version" "$err" "candidates: 0.7.1 (12 indices)"
has "seq: its deletion makes room" "$err" "deleting 0.7.1 makes room"
check "seq: delete 0.7.1" $T "$FERRY" indices delete --version 0.7.1 --force
run $T "$FERRY" upgrade plan --to 0.8.1 --index-budget 30
same "seq: then the plan fits" "$rc" 0

# ------------------------------------------------------------ every tenant at once
fresh ref
run $T "$FERRY" upgrade run --to 0.8.1
same "run: exit 0" "$rc" 0
for t in $TENANTS; do
  has "run: a progress line for $t" "$err" "tenant $t: $(commas $((2 * NP))) of $(commas $((2 * NP))) docs copied"
done
has "run: the last tenant line counts them" "$err" "(4/4 tenants)"
has "run: one bar for the copy" "$err" "copy, 4 tenants: "
same "run: release" "$(release)" "0.8.1 0.8.1"
same "run: every tenant's aliases moved" "$(on 0.8.1 $TENANTS)" ok
same "run: 3 aliases each" "$($T "$FERRY" index list --json | jq '[.[] | select(.alias != "")] | length')" 12
run $T "$FERRY" upgrade status --json
same "status: per-tenant done/total" "$(jq -c '[.tenants[] | "\(.tenant):\(.phase):\(.done)/\(.total):\(.items)"]' <<<"$out")" \
  "[\"acme:done:$((2 * NP))/$((2 * NP)):4\",\"beta:done:$((2 * NP))/$((2 * NP)):4\",\"default:done:$((2 * NP))/$((2 * NP)):4\",\"gamma:done:$((2 * NP))/$((2 * NP)):4\"]"
run $T "$FERRY" upgrade status
has "status text: tenants" "$out" "tenants: 4"
has "status text: a tenant's line" "$out" "  beta                 done"
hashes 0.8.1 >"$TMP/ref.hashes"
ref_list=$(listing)

# ------------------------------------------------------------ one tenant fails: nobody switches
fresh fail
bad_id=$($T "$FERRY" export beta.profile --quiet | sed -n "$((NP / 2))p" | jq -r .id)
rm -rf "$TMP/mig-fail"; cp -r "$MIG" "$TMP/mig-fail"
cat >>"$TMP/mig-fail/0.8.1/profile.lua" <<EOF

local base_transform = transform
function transform(doc)
  if doc.id == "$bad_id" then error("bad tenant data") end
  return base_transform(doc)
end
EOF
before=$(listing)
run $T "$FERRY" upgrade run --to 0.8.1 --migrations "$TMP/mig-fail" --batch 500 --quiet
if [ "$rc" -ne 0 ]; then ok "fail: the run stops"; else bad "fail: the run stops" "exit 0"; fi
has "fail: names the tenant" "$err" "tenant 'beta'"
has "fail: names the index and id" "$err" "document '$bad_id' of v0_7_1.beta.profile"
has "fail: gives the reason" "$err" "bad tenant data"
has "fail: says nothing was switched" "$err" "nothing was switched"
same "fail: nothing switched" "$(release) $(on 0.7.1 $TENANTS)" "0.7.1 0.7.1 ok"
same "fail: the job stopped before the cutover" "$(ustate)" copy
has "fail: status keeps the error" "$($T "$FERRY" upgrade status --json | jq -r .error)" "tenant 'beta'"
run $T "$FERRY" upgrade resume --migrations "$TMP/mig-fail" --batch 500 --quiet
if [ "$rc" -ne 0 ]; then ok "fail: resume stops again"; else bad "fail: resume stops again" "exit 0"; fi
same "fail: still nothing switched" "$(release) $(on 0.7.1 $TENANTS)" "0.7.1 0.7.1 ok"
check "fail: abort" $T "$FERRY" upgrade abort
same "fail: after the abort no alias moved" "$(on 0.7.1 $TENANTS)" ok
same "fail: after the abort the old set is as it was" "$(listing)" "$before"
same "fail: no index of 0.8.1 left" "$($T "$FERRY" index list 'v0_8_1.*' --json | jq length)" 0

# ------------------------------------------------------------ a tenant added mid-upgrade
THR=$((COPY / 3)) # documents/s: the copy takes about 3 s
fresh mid
"$FERRY" upgrade run --to 0.8.1 --throttle "$THR" --batch 500 --quiet >/dev/null 2>"$TMP/mid.err" &
bg=$!
if wait_copy 30; then ok "mid: the runner is copying"; else bad "mid: the runner is copying" "$(ustate)"; fi
check "mid: tenant add delta during the copy" $T "$FERRY" tenant add delta
if kill -0 "$bg" 2>/dev/null; then ok "mid: the runner is still copying after the add"
else bad "mid: the runner is still copying after the add" "it ended (throttle too fast?)"; fi
same "mid: delta has the 0.7.1 set" "$(names 'v0_7_1.delta.*')" "v0_7_1.delta.event,v0_7_1.delta.profile,v0_7_1.delta.session"
same "mid: and the 0.8.1 set" "$(names 'v0_8_1.delta.*')" "v0_8_1.delta.consent,v0_8_1.delta.events,v0_8_1.delta.profile"
same "mid: its aliases stay on 0.7.1 until the cutover" "$(on 0.7.1 delta)" ok
same "mid: delta joined the job" "$($T "$FERRY" upgrade status --json | jq -r '[.items[] | select(.tenant == "delta") | .phase] | join(",")')" \
  "catchup,catchup,done,done"
"$GEN" --type profile --count 500 --tenant delta >"$TMP/delta.ndjson"
check "mid: write to delta during the run" $T "$FERRY" import delta.profile "$TMP/delta.ndjson" --quiet
run $T "$FERRY" tenant remove gamma --force
same "mid: tenant remove during the upgrade: refused (1)" "$rc" 1
has "mid: the refusal says why" "$err" "under way"
wait "$bg"; brc=$?; bg=""
same "mid: the run finishes" "$brc" 0
[ "$brc" -ne 0 ] && echo "#    $(cat "$TMP/mid.err")"
same "mid: every tenant switched, delta too" "$(release) $(on 0.8.1 $TENANTS delta)" "0.8.1 0.8.1 ok"
same "mid: delta's aliases" "$(resolve delta.profile) $(resolve delta.events) $(resolve delta.consent)" \
  "v0_8_1.delta.profile v0_8_1.delta.events v0_8_1.delta.consent"
same "mid: delta's writes arrived, transformed" \
  "$($T "$FERRY" export delta.profile --quiet | jq -s '[length, (map(.data.metrics.tier != null) | all)]' -c)" "[500,true]"
same "mid: the other tenants as in an upgrade without delta" "$(hashes 0.8.1 | grep -v '\.delta\.')" "$(cat "$TMP/ref.hashes")"
same "mid: status lists delta, done" "$($T "$FERRY" upgrade status --json | jq -r '.tenants[] | select(.tenant == "delta") | .phase')" done
check "mid: a tenant added after the switch" $T "$FERRY" tenant add late
same "mid: gets the 0.8.1 set and, for a rollback, the 0.7.1 set" "$(names '*.late.*')" \
  "v0_7_1.late.event,v0_7_1.late.profile,v0_7_1.late.session,v0_8_1.late.consent,v0_8_1.late.events,v0_8_1.late.profile"
same "mid: its aliases are on 0.8.1" "$(on 0.8.1 late)" ok
same "mid: it joined the switched job, done" \
  "$($T "$FERRY" upgrade status --json | jq -r '[.items[] | select(.tenant == "late") | .phase] | unique | join(",")')" done

# ------------------------------------------------------------ kill -9 around the add
# kill_after: 1 = the runner is killed after the add, 0 = before it (the
# add then joins a job whose runner is dead); resume must finish with the
# tenant in
for kill_after in 1 0; do
  r="kill$kill_after"
  fresh "$r"
  "$FERRY" upgrade run --to 0.8.1 --throttle "$THR" --batch 500 --quiet >/dev/null 2>&1 &
  bg=$!
  if wait_copy 30; then ok "$r: copying"; else bad "$r: copying" "$(ustate)"; fi
  sleep 0.3
  if [ "$kill_after" = 0 ]; then kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=""; fi
  check "$r: tenant add eps" $T "$FERRY" tenant add eps
  "$GEN" --type profile --count 300 --tenant eps | $T "$FERRY" import eps.profile - --quiet
  if [ "$kill_after" = 1 ]; then sleep 0.2; kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=""; fi
  st=$(ustate)
  case "$st" in
  copy | catchup | cutover) same "$r: nothing switched after the kill ($st)" "$(release) $(on 0.7.1 $TENANTS eps)" "0.7.1 0.7.1 ok" ;;
  *) bad "$r: killed before the switch" "state '$st' (throttle too fast?)" ;;
  esac
  same "$r: eps is in the job" "$($T "$FERRY" upgrade status --json | jq '[.items[] | select(.tenant == "eps")] | length')" 4
  same "$r: a dead runner's lease is not alive" "$($T "$FERRY" upgrade status --json | jq -r '.lease.alive // false')" false
  run $T "$FERRY" upgrade resume --batch 500 --quiet
  same "$r: resume finishes" "$rc" 0
  [ "$rc" -ne 0 ] && echo "#    $err"
  same "$r: every tenant switched, eps too" "$(release) $(on 0.8.1 $TENANTS eps)" "0.8.1 0.8.1 ok"
  same "$r: eps's documents" "$($T "$FERRY" doc count eps.profile 2>/dev/null || $T "$FERRY" index list eps.profile --json | jq '.[0].docs')" 300
  same "$r: the other tenants as in an uninterrupted run" "$(hashes 0.8.1 | grep -v '\.eps\.')" "$(cat "$TMP/ref.hashes")"
done

# ------------------------------------------------------------ tenant remove
use ref
run $T "$FERRY" tenant --help
has "tenant help names remove" "$out" "ferry tenant remove NAME [--force]"
run $T "$FERRY" tenant remove default
same "remove default: refused (1)" "$rc" 1
run $T "$FERRY" tenant remove nobody
same "remove an unknown tenant: not found (3)" "$rc" 3
run $T "$FERRY" tenant remove gamma
same "remove a tenant with documents: refused (1)" "$rc" 1
has "the refusal asks for --force" "$err" "--force"
expect_fail 2 "remove without a name: usage" "$FERRY" tenant remove
check "remove gamma --force" $T "$FERRY" tenant remove gamma --force
same "gamma's indices are gone in every version" "$(names '*.gamma.*')" ""
same "gamma is no tenant" "$($T "$FERRY" tenant list --json | jq -r 'join(",")')" "acme,beta,default"
run $T "$FERRY" rollback --yes
same "rollback after a removal: exit 0" "$rc" 0
same "rollback moved the remaining tenants" "$(on 0.7.1 default acme beta)" ok

finish
