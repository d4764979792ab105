#!/usr/bin/env bash
# tests/cli/test_tenants_rollback.sh - `ferry rollback` of a multi-tenant
# upgrade after tenants were added following the cutover, black box, with
# real CDP data and the example migrations 0.7.1 -> 0.8.1:
#   - a tenant added after the switch gets the 0.8.1 set and an empty
#     0.7.1 set (no aliases) and joins the switched job;
#   - the rollback says how many writes it drops, counting that tenant's
#     writes (all made after the switch) and those to an index created
#     after the switch; without --yes nothing changes;
#   - after it every alias of every tenant is on 0.7.1 (the new tenant's
#     too, on its empty set; the new index gets an empty 0.7.1 index), the
#     old tenants' documents are as before the upgrade, and the new tenant
#     writes through its aliases again;
#   - upgrading again afterwards covers the new tenant;
#   - kill -9 of `ferry rollback --yes` at spread-out points: every time,
#     all aliases are on one version (all switched back or none), and
#     running it again ends exactly like an uninterrupted rollback.
#
#   B=build bash tests/cli/test_tenants_rollback.sh      (or B=build-san)
#   RB_CRASH_POINTS=30 RB_CRASH_SEED=7 ... to vary
. "$(dirname "$0")/lib.sh"
data_suite

T="timeout 120"
. "$(dirname "$0")/upgrade_lib.sh"
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
NP=${RB_DOCS:-2000} # profiles and events per old tenant; sessions: half
NEW=${RB_NEW_TENANTS:-12} # tenants added after the switch (t1 and more)
POINTS=${RB_CRASH_POINTS:-16}
SEED=${RB_CRASH_SEED:-$$}
RANDOM=$SEED
echo "# seed $SEED, $POINTS kill points, $NEW tenants added after the switch"

ustate() { $T "$FERRY" upgrade status --json | jq -r '.state // ""'; }
tenants() { $T "$FERRY" tenant list --json | jq -r '.[]'; }
names() { $T "$FERRY" index list "$1" --json | jq -r '[.[].index] | join(",")'; }
docs() { $T "$FERRY" index list "$1" --json | jq '[.[].docs] | add // 0'; }
# off_active: aliases whose index is not of the active version ("" if none)
off_active() {
  local dv
  dv=$($T "$FERRY" status --json | jq -r .data_version)
  $T "$FERRY" index list --json | jq -r --arg v "$dv" \
    '[.[] | select(.alias != "" and .version != $v) | "\(.alias)=\(.index)"] | join(" ")'
}
# on V TENANT...: every alias of these tenants points at version V
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
now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# ------------------------------------------------------------ 0.7.1, upgraded
use base
check "init 0.7.1" $T "$FERRY" init --version 0.7.1
check "tenant add acme" $T "$FERRY" tenant add acme
for t in default acme; do
  "$GEN" --type profile --count "$NP" --tenant "$t" | $T "$FERRY" import "$t.profile" - --quiet
  "$GEN" --type event --count "$NP" --profiles $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.event" - --quiet
  "$GEN" --type session --count $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.session" - --quiet
done
hashes 0.7.1 >"$TMP/old.hashes"
same "base: 6 indices of 0.7.1" "$(wc -l <"$TMP/old.hashes")" 6
check "upgrade to 0.8.1" $T "$FERRY" upgrade run --to 0.8.1 --quiet --no-snapshot
same "switched" "$(release) $(ustate)" "0.8.1 0.8.1 done"

# ------------------------------------------------------------ tenants added after the switch
check "tenant add t1 after the switch" $T "$FERRY" tenant add t1
same "t1 has the 0.8.1 set and an empty 0.7.1 set" "$(names '*.t1.*')" \
  "v0_7_1.t1.event,v0_7_1.t1.profile,v0_7_1.t1.session,v0_8_1.t1.consent,v0_8_1.t1.events,v0_8_1.t1.profile"
same "t1's aliases are on 0.8.1" "$(on 0.8.1 t1)" ok
same "t1's 0.7.1 set has no alias and no documents" \
  "$($T "$FERRY" index list 'v0_7_1.t1.*' --json | jq -c '[([.[].alias] | unique), ([.[].docs] | add)]')" '[[""],0]'
same "t1 joined the switched job (4 items, done)" \
  "$($T "$FERRY" upgrade status --json | jq -c '[.items[] | select(.tenant == "t1") | .phase] | [length, unique]')" '[4,["done"]]'
for i in $(seq 2 "$NEW"); do "$FERRY" tenant add "t$i" >/dev/null || bad "tenant add t$i"; done
T1P=300 T1E=120
"$GEN" --type profile --count $T1P --tenant t1 | $T "$FERRY" import t1.profile - --quiet
"$GEN" --type event --count $T1E --profiles 50 --tenant t1 | $T "$FERRY" import t1.events - --quiet
check "t2: one write" $T "$FERRY" doc put t2.profile p1 --body '{"id":"p1"}'
check "acme: one write after the switch" $T "$FERRY" doc put acme.profile late-1 --body '{"id":"late-1"}'
# an index created after the switch, for an old tenant
check "acme.notes created after the switch" $T "$FERRY" index create acme.notes
check "acme.notes: two writes" sh -c "'$FERRY' doc put acme.notes n1 --body '{}' >/dev/null && '$FERRY' doc put acme.notes n2 --body '{}' >/dev/null"
WRITES=$((T1P + T1E + 1 + 1 + 2))
same "no alias is off the active version before the rollback" "$(off_active)" ""
cp -a "$TMP/base" "$TMP/pre" # the state every crash round starts from
pre_list=$(listing)

# ------------------------------------------------------------ rollback
run $T "$FERRY" rollback
same "rollback without --yes: exit 0" "$rc" 0
has "rollback without --yes: counts the new tenants' and the new index's writes" "$out" "would drop $WRITES writes"
same "rollback without --yes: changes nothing" "$(listing) $(release) $(ustate)" "$pre_list 0.8.1 0.8.1 done"
run $T "$FERRY" rollback --json
same "rollback --json" "$out" "{\"rolled_back\":false,\"writes_dropped\":$WRITES}"
t0=$(now_ms)
run $T "$FERRY" rollback --yes
D=$(($(now_ms) - t0))
same "rollback --yes: exit 0" "$rc" 0
has "rollback --yes: says what it dropped" "$out" "$WRITES writes"
same "rollback: release and job" "$(release) $(ustate)" "0.7.1 0.7.1 rolledback"
rb_list=$(listing)
same "rollback: no alias of any tenant is off the active version" "$(off_active)" ""
# shellcheck disable=SC2046
same "rollback: every tenant's aliases are on 0.7.1" "$(on 0.7.1 $(tenants))" ok
same "rollback: t1's aliases point at its 0.7.1 set" "$(resolve t1.profile) $(resolve t1.event) $(resolve t1.session)" \
  "v0_7_1.t1.profile v0_7_1.t1.event v0_7_1.t1.session"
same "rollback: t1's 0.8.1-only index has no alias" "$(resolve t1.consent)$(resolve t1.events)" ""
same "rollback: acme.notes is on an empty 0.7.1 index" "$(resolve acme.notes) $(docs 'v0_7_1.acme.notes')" "v0_7_1.acme.notes 0"
same "rollback: the old tenants' documents are as before the upgrade" \
  "$(hashes 0.7.1 | grep -E '^v0_7_1\.(default|acme)\.(profile|event|session) ')" "$(cat "$TMP/old.hashes")"
same "rollback: the new tenants' 0.7.1 sets are empty" "$(docs 'v0_7_1.t*')" 0
same "rollback: per tenant, documents through the aliases" \
  "$(for t in default acme t1 t2; do echo "$t:$($T "$FERRY" index list "$t.*" --json | jq '[.[].docs] | add')"; done | paste -sd' ')" \
  "default:$((2 * NP + NP / 2)) acme:$((2 * NP + NP / 2)) t1:0 t2:0"
same "rollback: the dropped writes stay in the retired set" "$(docs 'v0_8_1.t1.*')" $((T1P + T1E))
run $T "$FERRY" status
has "status: release 0.7.1" "$out" "release:       0.7.1"
same "versions: states" "$($T "$FERRY" versions --json | jq -r '[.[] | "\(.data_version):\(.state)"] | join(" ")')" \
  "0.7.1:active 0.8.1:rolled-back"
run $T "$FERRY" doc put t1.profile after-rb --body '{"id":"after-rb"}'
same "t1 writes through its alias after the rollback" "$rc $(jq -r ._index <<<"$out")" "0 t1.profile"
same "  into its 0.7.1 index" "$(docs 'v0_7_1.t1.profile')" 1
run $T "$FERRY" rollback --yes
same "rollback twice: refused (1)" "$rc" 1
check "a tenant added after the rollback" $T "$FERRY" tenant add late
same "  gets the 0.7.1 set only (notes too, which acme has now)" "$(names '*.late.*')" \
  "v0_7_1.late.event,v0_7_1.late.notes,v0_7_1.late.profile,v0_7_1.late.session"

# ------------------------------------------------------------ upgrade again
run $T "$FERRY" upgrade run --to 0.8.1 --quiet --no-snapshot
same "upgrade again after the rollback: exit 0" "$rc" 0
same "  every alias on 0.8.1" "$(release) $(off_active)" "0.8.1 0.8.1 "
same "  t1 carried its write from 0.7.1" "$($T "$FERRY" export t1.profile --quiet | jq -r .id)" after-rb
same "  the old tenants as in the first upgrade" \
  "$($T "$FERRY" index list 'v0_8_1.acme.profile' --json | jq '.[0].docs')" "$NP"
same "  acme.notes copied unchanged, empty (its writes were dropped)" \
  "$(resolve acme.notes) $(docs 'v0_8_1.acme.notes')" "v0_8_1.acme.notes 0"

# ------------------------------------------------------------ kill -9 during the rollback
# the rollback is one write transaction: a kill leaves all aliases on
# 0.8.1 (job done) or all on 0.7.1 (rolled back); a second run finishes
SPAN=$((D * 3 / 2 + 10))
echo "# an uninterrupted rollback took $D ms; kills spread over 0..$SPAN ms"
before=0 after=0
for k in $(seq 1 "$POINTS"); do
  rm -rf "$TMP/k"; cp -a "$TMP/pre" "$TMP/k"; use k
  wait_ms=$(( (k - 1) * SPAN / (POINTS > 1 ? POINTS - 1 : 1) + RANDOM % 5 ))
  "$FERRY" rollback --yes >/dev/null 2>&1 &
  bg=$!
  sleep_ms "$wait_ms"
  kill -9 "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=""
  st=$(ustate)
  case "$st" in
  done)
    before=$((before + 1))
    same "kill $k at ${wait_ms} ms: not rolled back, nothing moved" "$(release) $(listing)" "0.8.1 0.8.1 $pre_list" ;;
  rolledback)
    after=$((after + 1))
    same "kill $k at ${wait_ms} ms: rolled back in full" "$(release) $(off_active)" "0.7.1 0.7.1 " ;;
  *) bad "kill $k at ${wait_ms} ms: the job is '$st'" ;;
  esac
  if [ "$st" = done ]; then
    run $T "$FERRY" rollback --yes
    same "kill $k: the rollback run again finishes" "$rc" 0
  fi
  same "kill $k: the end state is the uninterrupted rollback's" "$(listing)" "$rb_list"
done
echo "# kills before the commit: $before, after it: $after"
[ $((before + after)) -eq "$POINTS" ] && ok "every kill left a consistent data dir" ||
  bad "every kill left a consistent data dir" "$before + $after of $POINTS"

finish
