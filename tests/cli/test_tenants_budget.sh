#!/usr/bin/env bash
# tests/cli/test_tenants_budget.sh - `ferry tenant add` and the index
# budget, black box, with the example CDP migrations 0.7.1 -> 0.8.1:
#   - `ferry indices budget [N]` shows and sets the deployment's budget
#     (usage errors for bad values); `upgrade plan` uses it;
#   - a tenant that fits the budget exactly is added; one that does not is
#     refused (exit 1, like the plan's budget refusal) with the numbers and
#     what makes room, and nothing is created (index list, tenant list and
#     catalog unchanged); raising the budget lets it in;
#   - the count covers every set an add creates: during an upgrade the
#     target set too (a killed run's job), after the cutover the set kept
#     for a rollback, which deleting the old version spares;
#   - `ferry index create` (and `ferry import` creating its index) is
#     counted the same way: one more index over the budget is refused
#     (exit 1) with the numbers and what makes room, nothing created.
#
#   B=build bash tests/cli/test_tenants_budget.sh      (or B=build-san)
. "$(dirname "$0")/lib.sh"
data_suite

T="timeout 120"
. "$(dirname "$0")/upgrade_lib.sh"
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
NP=300 # profiles and events per tenant

ustate() { $T "$FERRY" upgrade status --json | jq -r '.state // ""'; }
count() { $T "$FERRY" status --json | jq .indices; }
tenants() { $T "$FERRY" tenant list --json | jq -r 'join(",")'; }
names() { $T "$FERRY" index list "$1" --json | jq -r '[.[].index] | join(",")'; }
# catalog: every index, alias and tenant, and the upgrade job's items
catalog() { echo "$(listing) $(tenants) $($T "$FERRY" upgrade status --json | jq -c '[.items[]? | [.tenant, .src, .dst]]')"; }

# ------------------------------------------------------------ the base
use base
check "init 0.7.1" $T "$FERRY" init --version 0.7.1
check "tenant add acme" $T "$FERRY" tenant add acme
for t in default acme; do
  "$GEN" --type profile --count "$NP" --tenant "$t" | $T "$FERRY" import "$t.profile" - --quiet
  "$GEN" --type event --count "$NP" --profiles $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.event" - --quiet
  "$GEN" --type session --count $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.session" - --quiet
done
same "base: 6 indices" "$(count)" 6

# ------------------------------------------------------------ ferry indices budget
fresh cmd
run $T "$FERRY" indices budget
same "budget: shows the default" "$out" "index budget 1000; 6 indices exist"
run $T "$FERRY" indices budget --json
same "budget --json" "$out" '{"index_budget":1000,"indices":6}'
run $T "$FERRY" indices budget 5
same "budget 5: exit 0" "$rc" 0
has "budget 5: says it is over" "$out" "index budget set to 5; 6 indices exist (over it"
same "status shows the budget" "$($T "$FERRY" status --json | jq .index_budget)" 5
for v in "1 2" 0 -3 x 10000001; do
  # shellcheck disable=SC2086
  expect_fail 2 "budget '$v': usage error" $T "$FERRY" indices budget $v
done
has "a bad budget names the range" "$err" "from 1 to 10000000, got '10000001'"
same "a bad budget changes nothing" "$($T "$FERRY" status --json | jq .index_budget)" 5
run $T "$FERRY" indices --help
has "indices help names budget" "$out" "ferry indices budget [N] [--json]"
run $T "$FERRY" upgrade plan --to 0.8.1
same "plan uses the deployment's budget: refused (1)" "$rc" 1
has "plan: over the budget of 5" "$err" "12 indices, over the index budget of 5"
has "plan: says how to raise it" "$err" "\`ferry indices budget N\`"
run $T "$FERRY" upgrade plan --to 0.8.1 --index-budget 12
same "plan: --index-budget still overrides it" "$rc" 0

# ------------------------------------------------------------ one version: fits, then over
fresh one
check "budget 9" $T "$FERRY" indices budget 9
check "tenant add beta: 9 of 9 fits" $T "$FERRY" tenant add beta
same "beta has the index set" "$(names 'v0_7_1.beta.*')" "v0_7_1.beta.event,v0_7_1.beta.profile,v0_7_1.beta.session"
same "9 indices" "$(count)" 9
before=$(catalog)
run $T "$FERRY" tenant add gamma
same "tenant add gamma over the budget: exit 1" "$rc" 1
has "  says the tenant was not added" "$err" "tenant 'gamma' was not added"
has "  how many it needs, in which version" "$err" "it needs 3 new indices (3 in 0.7.1 (active))"
has "  the total against the budget" "$err" "would make 12 indices, over the index budget of 9 (9 now)"
has "  nothing old to delete: raise the budget" "$err" "there is no old version to delete: raise the budget (\`ferry indices budget 12\`)"
same "  nothing created" "$(catalog)" "$before"
same "  gamma is no tenant" "$(tenants)" "acme,beta,default"
run $T "$FERRY" index create gamma.profile
same "  so gamma cannot have indices" "$rc" 3
check "budget 12" $T "$FERRY" indices budget 12
check "tenant add gamma after raising it" $T "$FERRY" tenant add gamma
same "gamma has the index set" "$(names 'v0_7_1.gamma.*')" "v0_7_1.gamma.event,v0_7_1.gamma.profile,v0_7_1.gamma.session"
same "12 indices" "$(count)" 12

# ------------------------------------------------------------ during an upgrade: the target set counts
fresh mid
"$FERRY" upgrade run --to 0.8.1 --throttle 200 --batch 100 --quiet --no-snapshot >/dev/null 2>&1 &
bg=$!
for _ in $(seq 1 200); do [ "$(ustate)" = copy ] && break; sleep 0.05; done
kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=""
same "mid: a killed run left the job copying" "$(ustate)" copy
same "mid: 12 indices (6 + 6 being built)" "$(count)" 12
check "mid: budget 15" $T "$FERRY" indices budget 15
before=$(catalog)
run $T "$FERRY" tenant add delta
same "mid: tenant add over the budget: exit 1" "$rc" 1
has "mid: counts the target set too" "$err" "it needs 6 new indices (3 in 0.8.1 (being built by the upgrade), 3 in 0.7.1 (active))"
has "mid: the total" "$err" "would make 18 indices, over the index budget of 15 (12 now)"
has "mid: the version being built is no candidate" "$err" "there is no old version to delete"
same "mid: nothing created, the job unchanged" "$(catalog)" "$before"
check "mid: budget 18" $T "$FERRY" indices budget 18
check "mid: tenant add delta fits now" $T "$FERRY" tenant add delta
same "mid: delta joined the job" "$($T "$FERRY" upgrade status --json | jq '[.items[] | select(.tenant == "delta")] | length')" 4
run $T "$FERRY" upgrade resume --quiet
same "mid: resume finishes" "$rc" 0
same "mid: delta switched with the rest" "$(resolve delta.profile) $(release)" "v0_8_1.delta.profile 0.8.1 0.8.1"

# ------------------------------------------------------------ after the cutover: the rollback set counts
fresh cut
check "cut: upgrade" $T "$FERRY" upgrade run --to 0.8.1 --quiet --no-snapshot
check "cut: budget 15" $T "$FERRY" indices budget 15
before=$(catalog)
run $T "$FERRY" tenant add eps
same "cut: tenant add over the budget: exit 1" "$rc" 1
has "cut: counts the set kept for a rollback" "$err" "it needs 6 new indices (3 in 0.8.1 (active), 3 in 0.7.1 (kept for \`ferry rollback\`))"
has "cut: names the old version to delete" "$err" "candidates: 0.7.1 (6 indices); deleting 0.7.1 makes room"
has "cut: or the budget to set" "$err" "\`ferry indices budget 18\`"
same "cut: nothing created, the job unchanged" "$(catalog)" "$before"
check "cut: delete 0.7.1" $T "$FERRY" indices delete --version 0.7.1 --force
check "cut: tenant add eps fits without the old version" $T "$FERRY" tenant add eps
same "cut: eps has the 0.8.1 set only (no rollback is possible)" "$(names '*.eps.*')" \
  "v0_8_1.eps.consent,v0_8_1.eps.events,v0_8_1.eps.profile"
same "cut: 9 indices" "$(count)" 9

# ------------------------------------------------------------ ferry index create counts too
fresh icreate
check "icreate: budget 7" $T "$FERRY" indices budget 7
check "icreate: index create extra: 7 of 7 fits" $T "$FERRY" index create extra
same "icreate: 7 indices" "$(count)" 7
before=$(catalog)
run $T "$FERRY" index create acme.extra
same "icreate: index create over the budget: exit 1" "$rc" 1
has "  says the index was not created" "$err" "ferry: error: index 'acme.extra' was not created"
has "  how many it needs, in which version" "$err" "it needs 1 new index (1 in 0.7.1 (active))"
has "  the total against the budget" "$err" "which would make 8 indices, over the index budget of 7 (7 now)"
has "  nothing old to delete: raise the budget" "$err" "there is no old version to delete: raise the budget (\`ferry indices budget 8\`)"
same "  nothing created" "$(catalog)" "$before"
run $T "$FERRY" index create acme.extra --body '{"mappings":{}}'
same "icreate: with a body too: exit 1" "$rc" 1
run $T "$FERRY" import fresh - --quiet <<<'{"id":"a","n":1}'
same "icreate: an import that would create its index: exit 1" "$rc" 1
has "  the same refusal" "$err" "index 'fresh' was not created"
same "  nothing created" "$(catalog)" "$before"
check "icreate: budget 8" $T "$FERRY" indices budget 8
check "icreate: index create acme.extra fits now" $T "$FERRY" index create acme.extra
same "icreate: 8 indices" "$(count)" 8

fresh icut
check "icut: upgrade" $T "$FERRY" upgrade run --to 0.8.1 --quiet --no-snapshot
check "icut: budget 12, the indices that exist" $T "$FERRY" indices budget 12
before=$(catalog)
run $T "$FERRY" index create extra
same "icut: index create over the budget: exit 1" "$rc" 1
has "  counts the active version" "$err" "it needs 1 new index (1 in 0.8.1 (active)), which would make 13 indices, over the index budget of 12 (12 now)"
has "  names the old version to delete" "$err" "candidates: 0.7.1 (6 indices); deleting 0.7.1 makes room"
has "  or the budget to set" "$err" "\`ferry indices budget 13\`"
same "  nothing created" "$(catalog)" "$before"
check "icut: delete 0.7.1" $T "$FERRY" indices delete --version 0.7.1 --force
check "icut: index create extra fits without the old version" $T "$FERRY" index create extra
same "icut: 7 indices" "$(count)" 7

finish
