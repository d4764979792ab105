#!/usr/bin/env bash
# tests/cli/test_upgrade.sh - `ferry upgrade plan|run|status|resume|abort`,
# `ferry rollback` and `ferry indices delete` on real data dirs, black box:
# help and usage errors; the plan and every refusal (missing hop,
# downgrade, dev release, index budget, a hop file or its Lua script
# changed after it was applied, bad migration files); every op on
# hand-made documents; a minor upgrade; the example CDP upgrade
# 0.7.1 -> 0.8.1 in one run against three runs (same target documents by
# export hash); running a finished upgrade again; a document a transform
# refuses (stop before the cutover, then --skip-bad and _failed, or fix
# and resume); rollback; deleting old versions.
# Crashes: test_upgrade_crash.sh. Concurrency and live writes:
# test_upgrade_live.sh.
#
#   B=build bash tests/cli/test_upgrade.sh      (or B=build-san)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "no $FERRY or $GEN: run make"; exit 1; }
export LC_ALL=C
trap 'rm -rf "$TMP"' EXIT

T="timeout 300"
. "$(dirname "$0")/upgrade_lib.sh"
MIG=$ROOT/examples/cdp/migrations
export FERRY_MIGRATIONS=$MIG
NP=${UPG_DOCS:-8000}    # profiles and events per tenant; sessions: half
NS=$((NP / 2))
TOTAL=$((2 * (NP + NP + NS)))

aliases() { $T "$FERRY" index list --json | jq -r '.[] | select(.alias != "") | "\(.alias)=\(.index)"'; }
ustate() { $T "$FERRY" upgrade status --json | jq -r '.state // ""'; }
vstate() { $T "$FERRY" versions --json | jq -r --arg v "$1" '.[] | select(.data_version == $v) | .state'; }
# exit codes of refusals that are not usage errors (reported together)
codes=""

# ------------------------------------------------------------ help, usage
for c in "upgrade --help" "upgrade plan --help" "upgrade run --help" "upgrade status --help" \
         "upgrade resume --help" "upgrade abort --help" "rollback --help" "indices --help" \
         "indices delete --help"; do
  # shellcheck disable=SC2086
  run "$FERRY" $c
  if [ "$rc" -eq 0 ] && [ -n "$out" ]; then ok "ferry $c: exit 0 and text"
  else bad "ferry $c: exit 0 and text" "exit $rc: $err"; fi
done
run "$FERRY" upgrade --help
has "upgrade help names the subcommands" "$out" "ferry upgrade resume"
has "upgrade help names --skip-bad" "$out" "--skip-bad"
has "upgrade help names --throttle" "$out" "--throttle"
run "$FERRY" rollback --help
has "rollback help names --yes" "$out" "--yes"
run "$FERRY" indices --help
has "indices help names --dry-run" "$out" "--dry-run"
expect_fail 2 "upgrade without a command: usage" "$FERRY" upgrade
expect_fail 2 "upgrade bogus: usage" "$FERRY" upgrade bogus
expect_fail 2 "upgrade run --throttle 0: usage" "$FERRY" upgrade run --to 0.8.1 --throttle 0
expect_fail 2 "upgrade run --throttle x: usage" "$FERRY" upgrade run --to 0.8.1 --throttle x
expect_fail 2 "upgrade run --batch 0: usage" "$FERRY" upgrade run --to 0.8.1 --batch 0
expect_fail 2 "upgrade plan --index-budget 0: usage" "$FERRY" upgrade plan --to 0.8.1 --index-budget 0
expect_fail 2 "upgrade plan --bogus: usage" "$FERRY" upgrade plan --to 0.8.1 --bogus
expect_fail 2 "rollback --bogus: usage" "$FERRY" rollback --bogus
expect_fail 2 "indices without delete: usage" "$FERRY" indices
expect_fail 2 "indices delete without --version: usage" "$FERRY" indices delete
use none
expect_fail 5 "upgrade status on a missing data dir: not initialised" "$FERRY" upgrade status
expect_fail 5 "upgrade plan on a missing data dir: not initialised" "$FERRY" upgrade plan --to 0.8.1
expect_fail 5 "rollback on a missing data dir: not initialised" "$FERRY" rollback

# ------------------------------------------------------------ the 0.7.1 base
use base
check "init 0.7.1" $T "$FERRY" init --version 0.7.1
check "tenant add acme" $T "$FERRY" tenant add acme
for t in default acme; do
  "$GEN" --type profile --count "$NP" --tenant "$t" >"$TMP/$t.profile"
  "$GEN" --type event --count "$NP" --profiles "$NS" --tenant "$t" >"$TMP/$t.event"
  "$GEN" --type session --count "$NS" --tenant "$t" >"$TMP/$t.session"
  for ty in profile event session; do
    check "import $t.$ty" $T "$FERRY" import "$t.$ty" "$TMP/$t.$ty" --quiet
  done
done
expect_fail 2 "upgrade plan without --to: usage" "$FERRY" upgrade plan
expect_fail 2 "upgrade run without --to: usage" "$FERRY" upgrade run
hashes 0.7.1 >"$TMP/base.hashes"
same "base: 6 indices of 0.7.1" "$(wc -l <"$TMP/base.hashes")" 6
base_list=$(listing)

run "$FERRY" upgrade status
same "status before any upgrade: exit 0" "$rc" 0
has "status before any upgrade says so" "$out" "no upgrade"
run "$FERRY" upgrade status --json
same "status --json before any upgrade is {}" "$out" "{}"
run "$FERRY" rollback
same "rollback with no upgrade: not found (3)" "$rc" 3
run "$FERRY" upgrade resume
same "resume with no upgrade: not found (3)" "$rc" 3
run "$FERRY" upgrade abort
same "abort with no upgrade: not found (3)" "$rc" 3

# ------------------------------------------------------------ plan
run $T "$FERRY" upgrade plan --to 0.8.1
same "plan 0.8.1: exit 0" "$rc" 0
has "plan: major upgrade" "$out" "major upgrade"
has "plan: hop 0.7.1 -> 0.7.2 with its file" "$out" "0.7.1_to_0.7.2.json"
has "plan: hop 0.7.2 -> 0.8.0" "$out" "hop 0.7.2 -> 0.8.0"
has "plan: hop 0.8.0 -> 0.8.1" "$out" "hop 0.8.0 -> 0.8.1"
has "plan: source and target names" "$out" "v0_8_1.acme.events"
has "plan: documents and budget" "$out" "of a budget of 1000"
run $T "$FERRY" upgrade plan --to 0.8.1 --json
plan=$out
same "plan --json: kind" "$(jq -r .kind <<<"$plan")" major
same "plan --json: from/to" "$(jq -r '"\(.from.release) \(.to.data_version)"' <<<"$plan")" "0.7.1 0.8.1"
same "plan --json: three hops in order" "$(jq -r '[.hops[] | "\(.from)>\(.to)"] | join(",")' <<<"$plan")" \
  "0.7.1>0.7.2,0.7.2>0.8.0,0.8.0>0.8.1"
same "plan --json: every hop has a sha256" "$(jq '[.hops[].checksum | test("^[0-9a-f]{64}$")] | all' <<<"$plan")" true
same "plan --json: actions per tenant" \
  "$(jq -r '[.indices[] | select(.tenant == "acme") | "\(.source)>\(.target):\(.action)"] | sort | join(" ")' <<<"$plan")" \
  ">v0_8_1.acme.consent:create v0_7_1.acme.event>v0_8_1.acme.events:transform v0_7_1.acme.profile>v0_8_1.acme.profile:transform v0_7_1.acme.session>:drop"
same "plan --json: both tenants" "$(jq -r '[.indices[].tenant] | unique | join(",")' <<<"$plan")" "acme,default"
same "plan --json: documents" "$(jq -r .docs <<<"$plan")" "$TOTAL"
same "plan --json: per-index counts" \
  "$(jq -r '.indices[] | select(.source == "v0_7_1.default.profile") | .docs' <<<"$plan")" "$NP"
same "plan --json: budget now/after/limit" "$(jq -r '"\(.budget.now) \(.budget.after) \(.budget.limit)"' <<<"$plan")" "6 12 1000"
same "plan changes nothing: index list" "$(listing)" "$base_list"
same "plan changes nothing: release" "$(release)" "0.7.1 0.7.1"
same "plan changes nothing: no job" "$($FERRY upgrade status --json)" "{}"

run "$FERRY" upgrade plan --to 0.7.1 --json
same "plan to the active release: kind same" "$rc $(jq -r .kind <<<"$out")" "0 same"
run "$FERRY" upgrade plan --to 0.7.1.5
same "plan to 0.7.1.5: exit 0" "$rc" 0
has "plan to 0.7.1.5: minor upgrade" "$out" "minor upgrade"
run "$FERRY" upgrade plan --to 0.7.1.5 --json
same "plan to 0.7.1.5 --json: kind minor, no hops" "$(jq -r '"\(.kind) \(.hops | length)"' <<<"$out")" "minor 0"

# ------------------------------------------------------------ refusals
run "$FERRY" upgrade plan --to abc
if [ "$rc" -ne 0 ]; then ok "plan --to abc: refused"; else bad "plan --to abc: refused" "exit 0"; fi
has "plan --to abc: names it" "$err" "abc"
run "$FERRY" upgrade plan --to 0.7.0
same "downgrade refused: exit 1" "$rc" 1
has "downgrade: names the versions" "$err" "0.7.0 is older than the active release 0.7.1"
has "downgrade: points at rollback" "$err" "rollback"
run "$FERRY" upgrade run --to 0.7.0
same "run of a downgrade refused too" "$rc" 1
run "$FERRY" upgrade plan --to 0.8.1-dev
same "dev release refused: exit 1" "$rc" 1
has "dev release: asks for --allow-dev" "$err" "--allow-dev"
has "dev release: warns about data loss" "$err" "lost"
run "$FERRY" upgrade plan --to 0.8.1-dev --allow-dev
case "$err" in *--allow-dev*) bad "--allow-dev lifts the dev refusal" "$err" ;; *) ok "--allow-dev lifts the dev refusal" ;; esac

cp -r "$MIG" "$TMP/mig-gap" && rm "$TMP/mig-gap/0.7.2_to_0.8.0.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-gap"
same "missing hop: not found (3)" "$rc" 3
has "missing hop: names it" "$err" "no migration from 0.7.2 to 0.8.0"
has "missing hop: lists the known hops" "$err" "known hops: 0.7.1->0.7.2, 0.8.0->0.8.1"
run "$FERRY" upgrade plan --to 0.8.2
same "no hop to 0.8.2: not found (3)" "$rc" 3
has "no hop to 0.8.2: names it" "$err" "no migration from 0.8.1 to 0.8.2"
FERRY_MIGRATIONS=$TMP/mig-gap run "$FERRY" upgrade plan --to 0.8.1
same "FERRY_MIGRATIONS is used" "$rc" 3

run "$FERRY" upgrade plan --to 0.8.1 --index-budget 10
same "index budget crossed: exit 1" "$rc" 1
has "index budget: says how many and the budget" "$err" "12 indices, over the index budget of 10"
has "index budget: says how to make room" "$err" "ferry indices delete --version"
run "$FERRY" upgrade run --to 0.8.1 --index-budget 10
same "run over the budget refused too" "$rc" 1
same "nothing started after the refusals" "$($FERRY upgrade status --json) $(listing)" "{} $base_list"
run "$FERRY" upgrade plan --to 0.8.1 --index-budget 12
same "index budget exactly met: allowed" "$rc" 0

# bad migration files: each message starts with file:line:col
badmig() { # NAME FILE SED-EXPR WANT
  rm -rf "$TMP/mig-bad"; cp -r "$MIG" "$TMP/mig-bad"
  sed -i "$3" "$TMP/mig-bad/$2"
  run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-bad"
  if [ "$rc" -ne 0 ]; then ok "bad file ($1): refused"; else bad "bad file ($1): refused" "exit 0"; fi
  has "bad file ($1): message" "$err" "$4"
  codes="$codes bad-file-${1// /-}:$rc"
}
badmig "JSON syntax" 0.8.0_to_0.8.1.json '5s/$/,,/' "mig-bad/0.8.0_to_0.8.1.json:5:15: invalid JSON"
badmig "unknown op" 0.7.2_to_0.8.0.json 's/{"rename": {"from": "pii.email"/{"renam": {"from": "pii.email"/' \
  "mig-bad/0.7.2_to_0.8.0.json:11:9: op 'renam' is not known"
badmig "unknown index key" 0.7.2_to_0.8.0.json 's/"rename_to"/"renam_to"/' \
  "mig-bad/0.7.2_to_0.8.0.json:28:7: index key 'renam_to' is not known"
badmig "bad convert type" 0.7.1_to_0.7.2.json 's/"to": "integer"/"to": "int"/' "mig-bad/0.7.1_to_0.7.2.json:10:"
badmig "renamed index named" 0.8.0_to_0.8.1.json 's/"profile": {/"event": {/' \
  "mig-bad/0.8.0_to_0.8.1.json:6:5: index 'event' does not exist at 0.8.0"
# an index no tenant has is skipped, but the plan says so (a typo shows)
rm -rf "$TMP/mig-bad"; cp -r "$MIG" "$TMP/mig-bad"
sed -i 's/"profile": {/"profil": {/' "$TMP/mig-bad/0.8.0_to_0.8.1.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-bad" --json
has "an index no tenant has: the plan warns, naming it" "$(jq -c .warnings <<<"$out")" "profil"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-bad"
has "an index no tenant has: the text plan warns too" "$out$err" "profil"
cp -r "$TMP/mig-bad" "$TMP/mig-typo"
badmig "Lua syntax" 0.8.1/profile.lua '$s/$/\nfunction x(/' "mig-bad/0.8.1/profile.lua:"
badmig "Lua syntax (op origin)" 0.8.1/profile.lua '$s/$/\nfunction x(/' "mig-bad/0.8.0_to_0.8.1.json:8:9"
rm -rf "$TMP/mig-bad"; cp -r "$MIG" "$TMP/mig-bad"
echo '{"from":"0.8.1","to":"0.8.0","indices":{}}' >"$TMP/mig-bad/0.8.1_to_0.8.0.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-bad"
if [ "$rc" -ne 0 ]; then ok "bad file (hop going back): refused"; else bad "bad file (hop going back): refused" "exit 0"; fi
has "bad file (hop going back): names the file" "$err" "0.8.1_to_0.8.0.json"
rm -rf "$TMP/mig-bad"; cp -r "$MIG" "$TMP/mig-bad"
echo '{"from":"0.7.1","to":"0.7.2","indices":{}}' >"$TMP/mig-bad/notahop.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-bad"
if [ "$rc" -ne 0 ]; then ok "bad file (bad file name): refused"; else bad "bad file (bad file name): refused" "exit 0"; fi
has "bad file (bad file name): names it" "$err" "notahop.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/nonexistent"
if [ "$rc" -ne 0 ]; then ok "missing migrations dir: refused"; else bad "missing migrations dir: refused" "exit 0"; fi
has "missing migrations dir: named" "$err" "nonexistent"
same "nothing changed by the refusals" "$(listing) $(release)" "$base_list 0.7.1 0.7.1"

# ------------------------------------------------------------ every op
# hand-made documents through two hops with every op, rename_to, drop,
# create, a Lua file and inline Lua code (returning nil drops)
mkdir -p "$TMP/ops/1.2.0"
cat >"$TMP/ops/1.0.0_to_1.1.0.json" <<'EOF'
{
  "from": "1.0.0", "to": "1.1.0",
  "description": "every op",
  "indices": {
    "t": {
      "ops": [
        {"rename":  {"from": "a.b", "to": "c.d"}},
        {"rename":  {"from": "missing", "to": "z"}},
        {"rename":  {"from": "over", "to": "tgt"}},
        {"set":     {"field": "meta.v", "value": "1.1"}},
        {"set":     {"field": "meta.list", "value": [1, {"k": 2.50}]}},
        {"remove":  {"field": "keep"}},
        {"remove":  {"field": "absent.deep"}},
        {"default": {"field": "x", "value": 5}},
        {"default": {"field": "y", "value": {"k": [1]}}},
        {"default": {"field": "w", "value": 9}},
        {"copy":    {"from": "c", "to": "c2"}},
        {"copy":    {"from": "nothing", "to": "n2"}},
        {"convert": {"field": "n", "to": "integer"}},
        {"convert": {"field": "f", "to": "float"}},
        {"convert": {"field": "flt", "to": "float"}},
        {"convert": {"field": "b", "to": "boolean"}},
        {"convert": {"field": "s", "to": "string"}},
        {"convert": {"field": "nul", "to": "integer"}},
        {"lua":     {"code": "function transform(doc) if doc.drop then return nil end doc.lua = 1 return doc end"}}
      ],
      "mappings": {"properties": {"n": {"type": "integer"}}}
    },
    "gone": {"drop": true},
    "old":  {"rename_to": "renamed"}
  }
}
EOF
cat >"$TMP/ops/1.1.0_to_1.2.0.json" <<'EOF'
{
  "from": "1.1.0", "to": "1.2.0",
  "indices": {
    "t": {"ops": [{"lua": {"file": "1.2.0/t.lua"}}]},
    "fresh": {"create": true, "mappings": {"properties": {"q": {"type": "keyword"}}}}
  }
}
EOF
cat >"$TMP/ops/1.2.0/t.lua" <<'EOF'
function transform(doc)
  doc.lua = doc.lua + 1
  doc.tags = json.array()
  doc.obj = json.object()
  return doc
end
EOF
cat >"$TMP/ops.ndjson" <<'EOF'
{"id":"d1","a":{"b":1,"e":2},"over":"O","tgt":"T","keep":1,"x":null,"w":0,"n":"42","f":"7","flt":7.0,"b":"true","s":12.50,"nul":null}
{"id":"d2","drop":true}
{"id":"d3","n":"4.5"}
{"id":"d4","n":3,"meta":"notanobject"}
{"id":"d5","n":true,"b":1.0,"s":"str","f":"2.5","a":{"b":{"deep":[1,2]}}}
EOF
use ops
check "ops: init 1.0.0" "$FERRY" init --version 1.0.0
check "ops: import t" "$FERRY" import t "$TMP/ops.ndjson" --quiet
echo '{"id":"g1"}' >"$TMP/g.ndjson"
echo '{"id":"o1","v":1}' >"$TMP/o.ndjson"
check "ops: import gone" "$FERRY" import gone "$TMP/g.ndjson" --quiet
check "ops: import old" "$FERRY" import old "$TMP/o.ndjson" --quiet
export FERRY_MIGRATIONS=$TMP/ops
run "$FERRY" upgrade plan --to 1.2.0 --json
same "ops: plan actions" "$(jq -r '[.indices[] | "\(.source)>\(.target):\(.action):\(.ops)"] | sort | join(" ")' <<<"$out")" \
  ">v1_2_0.default.fresh:create:0 v1_0_0.default.gone>:drop:0 v1_0_0.default.old>v1_2_0.default.renamed:copy:0 v1_0_0.default.t>v1_2_0.default.t:transform:20"
ops_before=$(hashes 1.0.0)
run "$FERRY" upgrade run --to 1.2.0 --quiet
if [ "$rc" -ne 0 ]; then ok "ops: d3 stops the upgrade"; else bad "ops: d3 stops the upgrade" "exit 0"; fi
codes="$codes transform-failure:$rc"
has "ops: stop names the document and the index" "$err" "document 'd3' of v1_0_0.default.t"
has "ops: stop names the file:line:col and op" "$err" "1.0.0_to_1.1.0.json:19:9: index 't' op 13 (convert)"
has "ops: stop gives the reason" "$err" "cannot convert 'n' = \"4.5\" to integer"
has "ops: stop suggests --skip-bad" "$err" "--skip-bad"
same "ops: nothing switched" "$(release) $(resolve default.t)" "1.0.0 1.0.0 v1_0_0.default.t"
check "ops: abort the stopped upgrade" "$FERRY" upgrade abort
same "ops: old set untouched after the abort" "$(hashes 1.0.0)" "$ops_before"
same "ops: no 1.2.0 index left" "$($FERRY index list 'v1_2_0.*' --json | jq length)" 0
run "$FERRY" upgrade run --to 1.2.0 --skip-bad --quiet
same "ops: --skip-bad run: exit 0" "$rc" 0
same "ops: active 1.2.0" "$(release)" "1.2.0 1.2.0"
same "ops: aliases" "$(aliases | sort | tr '\n' ' ')" \
  "default.fresh=v1_2_0.default.fresh default.renamed=v1_2_0.default.renamed default.t=v1_2_0.default.t "
same "ops: d1 through every op" "$($FERRY doc get t d1)" \
  '{"id":"d1","a":{"e":2},"tgt":"O","x":5,"w":0,"n":42,"f":7.0,"flt":7.0,"b":true,"s":"12.50","nul":null,"c":{"d":1},"meta":{"v":"1.1","list":[1,{"k":2.50}]},"y":{"k":[1]},"c2":{"d":1},"lua":2,"obj":{},"tags":[]}'
same "ops: d5 through every op" "$($FERRY doc get t d5)" \
  '{"id":"d5","n":1,"b":true,"s":"str","f":2.5,"a":{},"c":{"d":{"deep":[1,2]}},"meta":{"v":"1.1","list":[1,{"k":2.50}]},"x":5,"y":{"k":[1]},"w":9,"c2":{"d":{"deep":[1,2]}},"lua":2,"obj":{},"tags":[]}'
run "$FERRY" doc get t d2
same "ops: Lua returning nil dropped d2" "$rc" 3
same "ops: t has d1 and d5" "$($FERRY export t --quiet | jq -r .id | tr '\n' ' ')" "d1 d5 "
same "ops: renamed index copied unchanged" "$($FERRY export renamed --quiet)" '{"id":"o1","v":1}'
same "ops: created index is empty" "$($FERRY index list --json | jq '.[] | select(.alias == "default.fresh") | .docs')" 0
same "ops: dropped index not carried over" "$($FERRY index list 'v1_2_0.*gone*' --json | jq length)" 0
run "$FERRY" export v1_2_0.default._failed --quiet
same "ops: _failed holds d3 and d4" "$(jq -r .id <<<"$out" | tr '\n' ' ')" "d3 d4 "
same "ops: _failed record of d3" "$(jq -c 'select(.id == "d3") | [.index, (.error | test("op 13 \\(convert\\)")), .source]' <<<"$out")" \
  '["v1_0_0.default.t",true,{"id":"d3","n":"4.5"}]'
has "ops: _failed record of d4 says why" "$(jq -r 'select(.id == "d4") | .error' <<<"$out")" "'meta' is a string, not an object"
same "ops: old set still there, untouched" "$(hashes 1.0.0)" "$ops_before"
same "ops: status counts the failed docs" \
  "$($FERRY upgrade status --json | jq '[.items[] | select(.src == "v1_0_0.default.t") | .failed, .copied] | join(" ")' -r)" "2 2"
export FERRY_MIGRATIONS=$MIG

# ------------------------------------------------------------ minor upgrade
fresh minor
run $T "$FERRY" upgrade run --to 0.7.1.5 --quiet
same "minor 0.7.1 -> 0.7.1.5: exit 0" "$rc" 0
same "minor: release recorded, same data version" "$(release)" "0.7.1.5 0.7.1"
same "minor: no data work (same indices and content)" "$(hashes 0.7.1)" "$(cat "$TMP/base.hashes")"
same "minor: no other index" "$($FERRY index list --json | jq length)" 6
same "minor: no upgrade job" "$($FERRY upgrade status --json)" "{}"
has "minor: release in the version history" "$($FERRY versions --json | jq -c '.[] | select(.data_version == "0.7.1") | .history')" "0.7.1.5"
run $T "$FERRY" upgrade run --to 0.7.1.5 --quiet
same "minor again: exit 0, no change" "$rc $(release)" "0 0.7.1.5 0.7.1"
run "$FERRY" upgrade plan --to 0.7.1.2
same "0.7.1.5 -> 0.7.1.2 is a downgrade: exit 1" "$rc" 1
printf '{"id":"n1","t":7.0}\n{"id":"n2","s":"a\\u00e9"}\n' >"$TMP/notes.ndjson"
check "minor: an index only acme has (notes)" "$FERRY" import acme.notes "$TMP/notes.ndjson" --quiet
notes_sha=$($FERRY export acme.notes --quiet | sha256sum)
run "$FERRY" upgrade plan --to 0.8.1 --json
same "plan: an index no hop names is copied" \
  "$(jq -r '.indices[] | select(.source == "v0_7_1.acme.notes") | "\(.target) \(.action)"' <<<"$out")" "v0_8_1.acme.notes copy"
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "major from release 0.7.1.5 works" "$rc $(release)" "0 0.8.1 0.8.1"
same "an index no hop names: carried over (same JSON)" \
  "$(resolve acme.notes) $($FERRY export acme.notes --quiet | jq -c -S . | sha256sum)" \
  "v0_8_1.acme.notes $(jq -c -S . "$TMP/notes.ndjson" | sha256sum)"
# DESIGN.md: "Indices not named are copied unchanged" - byte for byte
same "an index no hop names: copied byte for byte (escapes kept)" "$($FERRY export acme.notes --quiet | sha256sum)" "$notes_sha"
same "an index no hop names: only for its tenant" "$($FERRY index list '*.default.notes' --json | jq length)" 0

# a run with such a migration says so too (not only the plan): with a
# typo the profiles would silently miss the last hop's ops
fresh typo
run $T "$FERRY" upgrade run --to 0.8.1 --migrations "$TMP/mig-typo"
same "an index no tenant has: run exit 0" "$rc" 0
has "an index no tenant has: run warns, naming it" "$err" "profil"
rm -rf "$TMP/typo"

# ------------------------------------------------------------ one run 0.7.1 -> 0.8.1
fresh one
run $T "$FERRY" upgrade run --to 0.8.1
same "run 0.8.1: exit 0" "$rc" 0
has "run: says the active release" "$out" "active: release 0.8.1 (data version 0.8.1)"
has "run: shows the steps" "$err" "== copy"
has "run: shows the verify step" "$err" "== verify"
same "run: active 0.8.1" "$(release)" "0.8.1 0.8.1"
same "run: versions" "$(vstate 0.7.1) $(vstate 0.8.1)" "retired active"
same "run: upgrade status done" "$(ustate)" "done"
run "$FERRY" upgrade status
has "status after: text names the versions and state" "$out" "upgrade 0.7.1 -> 0.8.1 (release 0.8.1): done"
has "status after: per item" "$out" "v0_7_1.acme.profile"
same "status --json: no lease after the run" "$($FERRY upgrade status --json | jq -c .lease)" null
same "status --json: every item done" "$($FERRY upgrade status --json | jq '[.items[].phase == "done"] | all')" true
same "aliases after the switch" "$(aliases | sort | tr '\n' ' ')" \
  "acme.consent=v0_8_1.acme.consent acme.events=v0_8_1.acme.events acme.profile=v0_8_1.acme.profile default.consent=v0_8_1.default.consent default.events=v0_8_1.default.events default.profile=v0_8_1.default.profile "
same "old set kept, unchanged, without aliases" "$(hashes 0.7.1)" "$(cat "$TMP/base.hashes")"
hashes 0.8.1 >"$TMP/ref.hashes"
same "new set: 6 indices" "$(awk '{print $1, $2}' "$TMP/ref.hashes" | tr '\n' ' ')" \
  "v0_8_1.acme.consent 0 v0_8_1.acme.events $NP v0_8_1.acme.profile $NP v0_8_1.default.consent 0 v0_8_1.default.events $NP v0_8_1.default.profile $NP "
ref_list=$(listing)

# the documents have the 0.8.1 shape, field by field against their source
$FERRY export v0_7_1.acme.profile --quiet >"$TMP/src.p"
$FERRY export acme.profile --quiet >"$TMP/dst.p"
same "profiles: same ids in the same order" "$(jq -r .id "$TMP/src.p" | sha256sum)" "$(jq -r .id "$TMP/dst.p" | sha256sum)"
paste -d '\n' "$TMP/src.p" "$TMP/dst.p" | jq -c -n '
  def want(s): {
    first: s.pii.name, last: s.pii.surname, bday: s.pii.birthdate,
    email: s.pii.email, phone: s.pii.telephone,
    age: (if s.age == null then null elif (s.age | type) == "string" then (s.age | tonumber) else s.age end),
    visits: (s.stats.visits // 0), views: (s.stats.views // 0),
    segments: (s.segments // []), traits: s.traits, consents: s.consents };
  def got(d): {
    first: d.data.pii.firstname, last: d.data.pii.lastname, bday: d.data.pii.birthday,
    email: d.data.contact.email, phone: d.data.contact.phone, age: d.age,
    visits: d.stats.visits, views: d.stats.views, segments: d.segments,
    traits: d.traits, consents: d.consents };
  [inputs] as $a | range(0; $a | length; 2) as $i | $a[$i] as $s | $a[$i + 1] as $d |
  select(want($s) != got($d) or $d.pii != null or $d.metadata.schema != "0.8.1"
         or ($d.age != null and ($d.age | type) != "number")
         or ($d.data.metrics.tier | IN("new", "casual", "engaged") | not)
         or ($d.data.metrics.engagement | type) != "number"
         or $d.metadata.time != $s.metadata.time) | $s.id' >"$TMP/mismatch"
same "profiles: every document transformed as the hops say" "$(wc -l <"$TMP/mismatch")" 0
grep -c '"engagement":[0-9]*\.' "$TMP/dst.p" >"$TMP/n"
same "profiles: engagement is always written as a float" "$(cat "$TMP/n")" "$NP"
$FERRY export v0_7_1.default.event --quiet >"$TMP/src.e"
$FERRY export default.events --quiet >"$TMP/dst.e"
paste -d '\n' "$TMP/src.e" "$TMP/dst.e" | jq -c -n '[inputs] as $a | range(0; $a | length; 2) as $i |
  $a[$i] as $s | $a[$i + 1] as $d |
  select($d.id != $s.id or $d.time != null or $d.metadata.time.insert != $s.time.insert
         or $d.type != $s.type or $d.properties != $s.properties) | $s.id' >"$TMP/mismatch"
same "events: every document transformed" "$(wc -l <"$TMP/mismatch")" 0
# untouched numbers keep their lexemes (743.70, 7.0)
same "events: number lexemes kept" \
  "$(grep -o '"value":[0-9.]*' "$TMP/src.e" | sha256sum)" "$(grep -o '"value":[0-9.]*' "$TMP/dst.e" | sha256sum)"
run "$FERRY" doc get acme.session x
same "session alias is gone" "$rc" 3
run "$FERRY" doc get acme.event x
same "event alias is gone (renamed to events)" "$rc" 3

# running a finished upgrade again is a no-op
st1=$($FERRY upgrade status --json | jq -c 'del(.lease)')
run $T "$FERRY" upgrade run --to 0.8.1
same "run again: exit 0" "$rc" 0
same "run again: same documents" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "run again: same indices" "$(listing)" "$ref_list"
same "run again: the job is untouched" "$($FERRY upgrade status --json | jq -c 'del(.lease)')" "$st1"
run "$FERRY" upgrade resume
same "resume of a finished upgrade: nothing to resume (3)" "$rc" 3
same "resume of a finished upgrade: no change" "$(listing)" "$ref_list"
run "$FERRY" upgrade abort
same "abort after the switch: refused (1)" "$rc" 1
has "abort after the switch: points at rollback" "$err" "rollback"
same "abort after the switch: no change" "$(listing) $(release)" "$ref_list 0.8.1 0.8.1"
run "$FERRY" upgrade plan --to 0.7.2
same "downgrade 0.8.1 -> 0.7.2 refused" "$rc" 1
run "$FERRY" upgrade plan --to 0.8.1 --json
same "plan after the upgrade: kind same" "$(jq -r .kind <<<"$out")" same
# the old set is read-only after the switch (DESIGN.md "The upgrade")
run "$FERRY" doc put v0_7_1.acme.profile ro-1 --body '{"id":"ro-1"}'
if [ "$rc" -ne 0 ]; then ok "old set is read-only after the switch"
else bad "old set is read-only after the switch" "doc put into v0_7_1.acme.profile was accepted"
  $FERRY doc delete v0_7_1.acme.profile ro-1 >/dev/null 2>&1; fi

# ------------------------------------------------------------ three runs
fresh seq
check "seq: run 0.7.2" $T "$FERRY" upgrade run --to 0.7.2 --quiet
same "seq: active 0.7.2" "$(release)" "0.7.2 0.7.2"
same "seq: 0.7.2 has profile, event, session" \
  "$($FERRY index list 'v0_7_2.*' --json | jq -r '[.[].name] | unique | join(",")')" "event,profile,session"
check "seq: run 0.8.0" $T "$FERRY" upgrade run --to 0.8.0 --quiet
same "seq: active 0.8.0" "$(release)" "0.8.0 0.8.0"
# budget: 6 (0.7.1) + 6 (0.7.2) + 6 (0.8.0) + 6 new = 24
run "$FERRY" upgrade plan --to 0.8.1 --index-budget 20
same "seq: budget crossed: exit 1" "$rc" 1
has "seq: budget message lists 0.7.1" "$err" "0.7.1 (6 indices)"
has "seq: budget message lists 0.7.2" "$err" "0.7.2 (6 indices)"
case "$err" in *"0.8.0 ("*) bad "seq: budget message does not list the active version" "$err" ;;
  *) ok "seq: budget message does not list the active version" ;; esac

# a hop file changed after it was applied
cp -r "$MIG" "$TMP/mig-chg"
sed -i 's/"description": "Tracardi-style/"description": "Edited. Tracardi-style/' "$TMP/mig-chg/0.7.2_to_0.8.0.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-chg"
if [ "$rc" -ne 0 ]; then ok "changed hop file: refused"; else bad "changed hop file: refused" "exit 0"; fi
codes="$codes changed-file:$rc"
has "changed hop file: names it" "$err" "0.7.2_to_0.8.0.json changed after it was applied"
has "changed hop file: offers --accept-changed" "$err" "--accept-changed"
run "$FERRY" upgrade run --to 0.8.1 --migrations "$TMP/mig-chg"
if [ "$rc" -ne 0 ]; then ok "changed hop file: run refused too"; else bad "changed hop file: run refused too" "exit 0"; fi
same "changed hop file: nothing started" "$(release) $(ustate)" "0.8.0 0.8.0 done"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-chg" --accept-changed --json
same "changed hop file + --accept-changed: exit 0" "$rc" 0
has "changed hop file + --accept-changed: warning" "$(jq -c .warnings <<<"$out")" "0.7.2_to_0.8.0.json changed after it was applied"
cp -r "$MIG" "$TMP/mig-ws"
sed -i 's/$/\r/' "$TMP/mig-ws/0.7.2_to_0.8.0.json"
printf '\n \n\t\n' >>"$TMP/mig-ws/0.7.2_to_0.8.0.json"
run "$FERRY" upgrade plan --to 0.8.1 --migrations "$TMP/mig-ws"
same "trailing blanks and CRLF are not a change" "$rc" 0

check "seq: delete 0.7.1" $T "$FERRY" indices delete --version 0.7.1 --force
check "seq: delete 0.7.2" $T "$FERRY" indices delete --version 0.7.2 --force
run "$FERRY" upgrade plan --to 0.8.1 --index-budget 20
same "seq: budget met after deleting old versions" "$rc" 0
check "seq: run 0.8.1" $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "three runs give the same target documents as one" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "three runs: same aliases" "$(aliases | sort)" "$(use one; aliases | sort)"

# a Lua script changed after it was applied (needs a further hop)
cp -r "$MIG" "$TMP/mig-next"
echo '{"from":"0.8.1","to":"0.9.0","indices":{"profile":{"ops":[{"set":{"field":"metadata.schema","value":"0.9.0"}}]}}}' \
  >"$TMP/mig-next/0.8.1_to_0.9.0.json"
run "$FERRY" upgrade plan --to 0.9.0 --migrations "$TMP/mig-next"
same "further hop with unchanged files: exit 0" "$rc" 0
echo "-- edited" >>"$TMP/mig-next/0.8.1/profile.lua"
run "$FERRY" upgrade plan --to 0.9.0 --migrations "$TMP/mig-next"
if [ "$rc" -ne 0 ]; then ok "changed Lua script of an applied hop: refused"
else bad "changed Lua script of an applied hop: refused" "exit 0"; fi
has "changed Lua script: names the hop file" "$err" "0.8.0_to_0.8.1.json changed after it was applied"
run "$FERRY" upgrade plan --to 0.9.0 --migrations "$TMP/mig-next" --accept-changed
same "changed Lua script + --accept-changed: exit 0" "$rc" 0

# ------------------------------------------------------------ a document a transform refuses
fresh badd
check "bad doc: put a profile with age abc" "$FERRY" doc put acme.profile bad-age \
  --body '{"id":"bad-age","age":"abc","pii":{"name":"Bad"},"stats":{"visits":1,"views":1}}'
bad_before=$(hashes 0.7.1)
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
if [ "$rc" -ne 0 ]; then ok "bad doc: upgrade stops"; else bad "bad doc: upgrade stops" "exit 0"; fi
codes="$codes transform-failure-cdp:$rc"
has "bad doc: message names the id" "$err" "document 'bad-age' of v0_7_1.acme.profile"
has "bad doc: message names the op" "$err" "0.7.1_to_0.7.2.json:10:9: index 'profile' op 3 (convert)"
has "bad doc: message gives the reason" "$err" "cannot convert 'age' = \"abc\" to integer"
same "bad doc: nothing switched (release)" "$(release)" "0.7.1 0.7.1"
same "bad doc: nothing switched (aliases)" "$(resolve acme.profile) $(resolve acme.event) $(resolve acme.session)" \
  "v0_7_1.acme.profile v0_7_1.acme.event v0_7_1.acme.session"
same "bad doc: old set untouched" "$(hashes 0.7.1)" "$bad_before"
run "$FERRY" upgrade status --json
has "bad doc: status shows the stop reason" "$(jq -r .error <<<"$out")" "bad-age"
same "bad doc: status is not done" "$(jq -r '.state != "done"' <<<"$out")" true
run "$FERRY" upgrade status
same "bad doc: status text exit 0" "$rc" 0
cp -a "$TMP/badd" "$TMP/badd2"
# --skip-bad given when running the stopped upgrade again
run $T "$FERRY" upgrade run --to 0.8.1 --skip-bad --quiet
same "bad doc: run --skip-bad finishes the stopped upgrade" "$rc" 0
if [ "$rc" -ne 0 ]; then
  run "$FERRY" upgrade abort
  same "bad doc: abort the stopped upgrade" "$rc" 0
  same "bad doc: abort leaves the old set untouched" "$(hashes 0.7.1)" "$bad_before"
  run $T "$FERRY" upgrade run --to 0.8.1 --skip-bad --quiet
  same "bad doc: after abort, run --skip-bad: exit 0" "$rc" 0
fi
same "bad doc: --skip-bad: active 0.8.1" "$(release)" "0.8.1 0.8.1"
run "$FERRY" export v0_8_1.acme._failed --quiet
same "bad doc: in v0_8_1.acme._failed" "$(jq -r .id <<<"$out")" bad-age
same "bad doc: _failed record" "$(jq -c '[.index, .source.age, (.error | test("convert"))]' <<<"$out")" \
  '["v0_7_1.acme.profile","abc",true]'
run "$FERRY" doc get acme.profile bad-age
same "bad doc: not in the new profile index" "$rc" 3
same "bad doc: acme.profile has the others" \
  "$($FERRY index list --json | jq '.[] | select(.alias == "acme.profile") | .docs')" "$NP"
same "bad doc: no _failed index for default" "$($FERRY index list 'v0_8_1.default._failed' --json | jq length)" 0
same "bad doc: status counts it" \
  "$($FERRY upgrade status --json | jq '.items[] | select(.src == "v0_7_1.acme.profile") | .failed')" 1
same "bad doc: other indices as in the clean run" \
  "$(hashes 0.8.1 | grep -v -e acme.profile -e _failed)" "$(grep -v acme.profile "$TMP/ref.hashes")"
# fix the document and resume instead
use badd2
run "$FERRY" upgrade resume --quiet --migrations "$TMP/mig-chg"
if [ "$rc" -ne 0 ]; then ok "resume with a hop file changed since the start: refused"
else bad "resume with a hop file changed since the start: refused" "exit 0"; fi
has "resume with a changed hop file: names it" "$err" "0.7.2_to_0.8.0.json changed"
check "bad doc (fix): put a good version" "$FERRY" doc put acme.profile bad-age \
  --body '{"id":"bad-age","age":"42","pii":{"name":"Bad"},"stats":{"visits":1,"views":1}}'
run $T "$FERRY" upgrade resume --quiet
same "bad doc (fix): resume: exit 0" "$rc" 0
same "bad doc (fix): active 0.8.1" "$(release)" "0.8.1 0.8.1"
same "bad doc (fix): transformed" "$($FERRY doc get acme.profile bad-age | jq -c '[.age, .data.pii.firstname, .metadata.schema]')" \
  '[42,"Bad","0.8.1"]'
same "bad doc (fix): no _failed index" "$($FERRY index list '*._failed' --json | jq length)" 0
same "bad doc (fix): counts" "$($FERRY index list --json | jq '.[] | select(.alias == "acme.profile") | .docs')" $((NP + 1))

# ------------------------------------------------------------ rollback
use one
check "rollback: write 1 (put acme.profile)" "$FERRY" doc put acme.profile rb-1 --body '{"id":"rb-1"}'
check "rollback: write 2 (put acme.profile)" "$FERRY" doc put acme.profile rb-2 --body '{"id":"rb-2"}'
check "rollback: write 3 (update acme.profile)" "$FERRY" doc put acme.profile rb-1 --body '{"id":"rb-1","v":2}'
first=$($FERRY export default.profile --quiet | head -1 | jq -r .id)
check "rollback: write 4 (delete from default.profile)" "$FERRY" doc delete default.profile "$first"
check "rollback: write 5 (put acme.consent)" "$FERRY" doc put acme.consent c-1 --body '{"type":"x"}'
after_writes=$(listing)
run "$FERRY" rollback
same "rollback without --yes: exit 0" "$rc" 0
has "rollback without --yes: says how many writes it would drop" "$out" "would drop 5 writes"
has "rollback without --yes: says how to do it" "$out" "--yes"
same "rollback without --yes: changes nothing" "$(listing) $(release)" "$after_writes 0.8.1 0.8.1"
run "$FERRY" rollback --json
same "rollback --json" "$out" '{"rolled_back":false,"writes_dropped":5}'
run $T "$FERRY" rollback --yes
same "rollback --yes: exit 0" "$rc" 0
has "rollback --yes: says what it dropped" "$out" "5 writes"
same "rollback: release back to 0.7.1" "$(release)" "0.7.1 0.7.1"
same "rollback: versions" "$(vstate 0.7.1) $(vstate 0.8.1)" "active rolled-back"
same "rollback: aliases point at the old physical indices" "$(aliases | sort | tr '\n' ' ')" \
  "acme.event=v0_7_1.acme.event acme.profile=v0_7_1.acme.profile acme.session=v0_7_1.acme.session default.event=v0_7_1.default.event default.profile=v0_7_1.default.profile default.session=v0_7_1.default.session "
same "rollback: data as before the upgrade" "$(hashes 0.7.1)" "$(cat "$TMP/base.hashes")"
same "rollback: reads through the alias see the old shape" \
  "$($FERRY export acme.profile --quiet | head -1 | jq -r '.metadata.schema // "none"')" none
same "rollback: upgrade status" "$(ustate)" rolledback
run "$FERRY" rollback --yes
same "rollback twice: refused (1)" "$rc" 1
same "rollback twice: no change" "$(release)" "0.7.1 0.7.1"
cp -a "$TMP/one" "$TMP/one-rb"
use one-rb
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "upgrade again after rollback, over the rolled-back set: exit 0" "$rc" 0
same "upgrade again after rollback, over the rolled-back set: rebuilt" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
use one
rm -rf "$TMP/one-rb"
run "$FERRY" indices delete --version 0.8.1 --force
same "delete the rolled-back version: exit 0" "$rc" 0
same "delete the rolled-back version: only 0.7.1 left" "$($FERRY index list --json | jq -r '[.[].version] | unique | join(",")')" 0.7.1
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "upgrade again after rollback: exit 0" "$rc" 0
same "upgrade again after rollback: rebuilt from scratch" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "upgrade again after rollback: versions" "$(vstate 0.7.1) $(vstate 0.8.1)" "retired active"

# ------------------------------------------------------------ delete old versions
list1=$(listing)
run "$FERRY" indices delete --version 0.8.1
same "delete the active version: refused (1)" "$rc" 1
has "delete the active version: says why" "$err" "active version"
same "delete the active version: nothing deleted" "$(listing)" "$list1"
run "$FERRY" indices delete --version 0.9.0
same "delete a version with no indices: 3" "$rc" 3
has "  names the versions that have some" "$err" "version 0.9.0 has no indices; versions with indices: 0.7.1, 0.8.1"
run "$FERRY" indices delete --version banana
same "delete a bad version: refused (1)" "$rc" 1
has "  says what a version looks like" "$err" "bad version 'banana'"
same "  nothing deleted" "$(listing)" "$list1"
run "$FERRY" indices delete --version 0.7.1 --dry-run
same "delete --dry-run: exit 0" "$rc" 0
has "delete --dry-run: says would" "$out" "would delete 6 indices of version 0.7.1"
has "delete --dry-run: lists the indices" "$out" "v0_7_1.acme.session"
same "delete --dry-run: nothing deleted" "$(listing)" "$list1"
run "$FERRY" indices delete --version 0.7.1 --dry-run --json
same "delete --dry-run --json" "$(jq -c '[.dry_run, (.indices | length), .docs]' <<<"$out")" "[true,6,$TOTAL]"
same "delete --dry-run: still nothing deleted" "$(listing)" "$list1"
run "$FERRY" indices delete --version 0.7.1
same "delete 0.7.1 that no snapshot holds: refused (1)" "$rc" 1
has "delete without a snapshot: says how" "$err" "ferry snapshot create REPO --indices 'v0_7_1.*'"
same "delete without a snapshot: nothing deleted" "$(listing)" "$list1"
run $T "$FERRY" indices delete --version 0.7.1 --force
same "delete 0.7.1: exit 0" "$rc" 0
has "delete 0.7.1: says what" "$out" "deleted 6 indices of version 0.7.1"
same "delete 0.7.1: index list no longer shows it" "$($FERRY index list --json | jq '[.[] | select(.version == "0.7.1")] | length')" 0
run "$FERRY" index list
case "$out" in *v0_7_1*) bad "delete 0.7.1: text list no longer shows it" "$out" ;;
  *) ok "delete 0.7.1: text list no longer shows it" ;; esac
same "delete 0.7.1: new set untouched" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "delete 0.7.1: status counts" "$($FERRY status --json | jq -c '[.indices, .docs]')" "[6,$((4 * NP))]"
same "delete 0.7.1: version state" "$(vstate 0.7.1)" deleted
run "$FERRY" rollback --yes
same "rollback after deleting the old set: refused (3)" "$rc" 3
has "rollback after deleting the old set: says why" "$err" "no longer exists"
same "rollback after deleting the old set: no change" "$(release) $(hashes 0.8.1)" "0.8.1 0.8.1 $(cat "$TMP/ref.hashes")"
run "$FERRY" indices delete --version 0.7.1
same "delete 0.7.1 again: not found (3)" "$rc" 3
run "$FERRY" indices delete --version 9.9.9
same "delete an unknown version: not found (3)" "$rc" 3

# ------------------------------------------------------------ data_parts 2
use dp2
export FERRY_MIGRATIONS=$TMP/ops
check "data_parts 2: init 1.0.3" "$FERRY" init --version 1.0.3 --data-parts 2
check "data_parts 2: import" "$FERRY" import t "$TMP/ops.ndjson" --quiet
check "data_parts 2: import gone" "$FERRY" import gone "$TMP/g.ndjson" --quiet
check "data_parts 2: import old" "$FERRY" import old "$TMP/o.ndjson" --quiet
run "$FERRY" upgrade plan --to 1.0.9 --json
same "data_parts 2: 1.0.3 -> 1.0.9 is minor" "$(jq -r .kind <<<"$out")" minor
check "data_parts 2: run the minor upgrade" "$FERRY" upgrade run --to 1.0.9 --quiet
same "data_parts 2: release recorded" "$(release)" "1.0.9 1.0"
run "$FERRY" upgrade plan --to 1.1.2 --json
same "data_parts 2: 1.0.9 -> 1.1.2 is major, hop 1.0.0 -> 1.1.0" \
  "$(jq -r '"\(.kind) \(.to.data_version) \([.hops[] | "\(.from)>\(.to)"] | join(","))"' <<<"$out")" "major 1.1 1.0.0>1.1.0"
check "data_parts 2: run it" "$FERRY" upgrade run --to 1.1.2 --skip-bad --quiet
same "data_parts 2: active" "$(release) $(resolve default.t)" "1.1.2 1.1 v1_1.default.t"
export FERRY_MIGRATIONS=$MIG

# ------------------------------------------------------------ exit codes
# a refusal or failure that is not a usage error exits 1 (docs/cli.md)
wrong=$(tr ' ' '\n' <<<"$codes" | grep -v -e '^$' -e ':1$' | tr '\n' ' ')
same "failures that are not usage errors exit 1" "$wrong" ""

finish
