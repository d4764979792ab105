#!/usr/bin/env bash
# tests/server/test_maint.sh - the maintenance API of a real ferryd, with
# real curl, on CDP demo data (examples/cdp migrations, build/cdp-gen):
# the auth matrix of every maintenance route; versions, migrations, plans;
# tenants; a real upgrade through POST /migration polled to 100 % with the
# new aliases serving; 409 on a second start; rollback without and with
# yes; deleting a version (refused when active or not in a snapshot,
# dry_run, force); an upgrade the CLI holds the lease of; SIGTERM during
# an upgrade; `kill -9` of ferryd during an upgrade, a restart and POST
# /migration again ending with exactly the documents of an uninterrupted
# run; the curl examples of docs/rest-api.md "Maintenance" verbatim.
#
#   B=build bash tests/server/test_maint.sh        (or B=build-san)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRYD" ] && [ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "run make first"; exit 1; }
export LC_ALL=C
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
export FERRY_SYNC=off
unset FERRY_RELEASE FERRY_AUTO_UPGRADE FERRY_UPGRADE_THROTTLE
T="timeout 120"
. "$ROOT/tests/cli/upgrade_lib.sh"
KEY=$FERRY_ADMIN_KEY
NP=${MAINT_DOCS:-3000} # profiles and events per tenant; sessions: half
COPIED=$((4 * NP))     # documents an upgrade to 0.8.1 copies (sessions go)

# wait_job [SECONDS]: polls GET /migration/status until the job is not
# running; $st is the last status, $seen the percents seen while running.
wait_job() {
  local i
  seen=""
  for ((i = 0; i < ${1:-60} * 20; i++)); do
    areq GET /migration/status; st=$body
    [ "$code" = 200 ] || return 1
    [ "$(jget "$st" .running)" = false ] && return 0
    seen="$seen $(jget "$st" .percent)"
    sleep 0.05
  done
  return 1
}
# start NAME: srv_start as a test (not in a subshell: it sets $URL)
start() { if srv_start; then ok "$1"; else bad "$1" "$(tail -3 "$TMP/ferryd.log")"; fi; }
# non_decreasing LIST: the numbers never go down
non_decreasing() { local p=-1 x; for x in $1; do [ "$x" -ge "$p" ] || return 1; p=$x; done; }

# ------------------------------------------------------------ demo data
use base
$T "$FERRY" init --version 0.7.1 >/dev/null
$T "$FERRY" tenant add acme >/dev/null
for t in default acme; do
  "$GEN" --type profile --count "$NP" --tenant "$t" | $T "$FERRY" import "$t.profile" - --quiet
  "$GEN" --type event --count "$NP" --profiles $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.event" - --quiet
  "$GEN" --type session --count $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.session" - --quiet
done
PID1=$("$GEN" --type profile --count 1 --tenant acme | jq -r .id)
same "base: 6 indices of 0.7.1" "$(hashes 0.7.1 | wc -l)" 6

# ------------------------------------------------------------ auth matrix
ROUTES=("GET /info/version" "GET /migrations" "GET /migration/0.7.1"
  "POST /migration" "GET /migration/status" "POST /migration/rollback"
  "GET /indices" "DELETE /indices/version/0.7.1" "GET /tenants" "POST /tenants")
fresh auth
start "ferryd starts"
for r in "${ROUTES[@]}"; do
  set -- $r
  req "$1" "$2" '{}'
  same "no key: $r -> 401" "$code" 401
  req "$1" "$2" '{}' -H "Authorization: Bearer wrong-key-0123456789abcdef"
  same "wrong key: $r -> 401" "$code/$(jget "$body" .error.type)" 401/security_exception
  if [ "$1" = GET ]; then
    areq GET "$2"
    same "admin key: $r -> 200" "$code" 200
  fi
done
srv_stop
FERRY_ADMIN_KEY= srv_start
for r in "${ROUTES[@]}"; do
  set -- $r
  req "$1" "$2" '{}' -H "Authorization: Bearer $KEY"
  same "FERRY_ADMIN_KEY unset: $r -> 403" "$code" 403
done
has "403 says maintenance is disabled" "$(jget "$body" .error.reason)" "maintenance routes are disabled"
srv_stop

# ------------------------------------------------------------ read-only routes
fresh main
export FERRY_RELEASE=0.8.1 FERRY_UPGRADE_THROTTLE=$COPIED # about 1 s of copy
start "ferryd deployed as 0.8.1 on 0.7.1 data"
areq GET /info/version
same "info: 200" "$code" 200
same "info: name, version, releases" \
  "$(jget "$body" '[.name, .version, .release, .data_version, .deployed_release, .pending_upgrade] | join(" ")')" \
  "ferry $("$FERRY" --version | awk '{print $2}') 0.7.1 0.7.1 0.8.1 0.8.1"
same "info: budget, indices, tenants, running" \
  "$(jget "$body" '[.index_budget, .indices, (.tenants | join(",")), .upgrade_running] | map(tostring) | join(" ")')" \
  "1000 6 acme,default false"
same "info: versions" "$(jget "$body" '.versions | map("\(.data_version) \(.state) \(.release) \(.indices)") | join(",")')" \
  "0.7.1 active 0.7.1 6"

areq GET /migrations
same "migrations: active and targets" "$(jget "$body" '"\(.active) \(.targets | join(","))"')" "0.7.1 0.7.2,0.8.0,0.8.1"
same "migrations: hops" "$(jget "$body" '.hops | map("\(.from)>\(.to) \(.file)") | join(",")')" \
  "0.7.1>0.7.2 0.7.1_to_0.7.2.json,0.7.2>0.8.0 0.7.2_to_0.8.0.json,0.8.0>0.8.1 0.8.0_to_0.8.1.json"
has "migrations: description" "$(jget "$body" '.hops[1].description')" "Tracardi-style 0.8.0 layout"
same "migrations: breaking changes" "$(jget "$body" '.hops[1].breaking | length > 0')" true

areq GET /migration/0.7.1
same "plan without ?to: the pending release" "$(jget "$body" '"\(.kind) \(.to.release) \(.hops | length) \(.docs)"')" \
  "major 0.8.1 3 $((5 * NP))"
same "plan: an item per tenant and index" "$(jget "$body" '.indices | map(select(.tenant == "acme")) | map("\(.source)>\(.target) \(.action)") | join(",")')" \
  "v0_7_1.acme.event>v0_8_1.acme.events transform,v0_7_1.acme.profile>v0_8_1.acme.profile transform,v0_7_1.acme.session> drop,>v0_8_1.acme.consent create"
areq GET '/migration/0.7.1?to=0.7.2'
same "plan ?to=0.7.2: one hop" "$(jget "$body" '"\(.kind) \(.to.data_version) \(.hops | length)"')" "major 0.7.2 1"
areq GET /migration/0.7.0
same "plan from a version that is not active: 409" "$code" 409
has "409 names both versions" "$(jget "$body" .error.reason)" "active data version is 0.7.1, not 0.7.0"
areq GET '/migration/0.7.1?to=0.9.0'
same "plan to a version no hop reaches: 404" "$code/$(jget "$body" .error.type)" 404/resource_not_found_exception
has "404 names the gap" "$(jget "$body" .error.reason)" "no migration from 0.8.1 to 0.9.0"
areq GET '/migration/0.7.1?to=0.7.0'
same "plan of a downgrade: 400" "$code" 400
has "400 says downgrade" "$(jget "$body" .error.reason)" "downgrades are refused"
areq GET '/migration/0.7.1?to=0.8.1-dev'
same "plan to a dev release without allow_dev: 400" "$code" 400
has "400 names the flag" "$(jget "$body" .error.reason)" "development build"
areq GET /migration/status
same "status before any upgrade" "$(jget "$body" '"\(.running) \(.result) \(.percent) \(.unfinished) \(.upgrade)"')" "false null 0 false {}"

areq GET /indices
same "indices: budget, count, one version" "$(jget "$body" '"\(.budget) \(.count) \(.versions | map(.data_version) | join(","))"')" "1000 6 0.7.1"
same "indices: acme.profile" "$(jget "$body" '.versions[0].indices[] | select(.name == "v0_7_1.acme.profile") | "\(.alias) \(.active_alias) \(.tenant) \(.index) \(.docs) \(.bytes > 0)"')" \
  "acme.profile true acme profile $NP true"

# ------------------------------------------------------------ the upgrade
areq POST /migration '{"to":"0.9.0"}'
same "start to an unreachable version: 404, nothing starts" "$code $(jget "$body" .error.type)" "404 resource_not_found_exception"
areq POST /migration '{"to":"0.8.1","allow_dev":"yes"}'
same "allow_dev must be a boolean" "$code" 400
areq POST /migration '{"to":"0.8.1","skip-bad":true}'
same "a misspelt option: 400" "$code" 400
has "it names the known ones" "$(jget "$body" .error.reason)" '"skip_bad"'
areq POST /migration '{}'
same "start: 202" "$code $body" '202 {"acknowledged":true,"to":"0.8.1","kind":"major","status":"/migration/status"}'
areq POST /migration '{}'
same "second start: 409" "$code/$(jget "$body" .error.type)" 409/illegal_state_exception
has "409 says one is running" "$(jget "$body" .error.reason)" "an upgrade is running in this server"
areq POST /migration/rollback '{"yes":true}'
same "rollback while upgrading: 409" "$code" 409
areq GET /info/version
same "info: upgrade_running" "$(jget "$body" .upgrade_running)" true
if wait_job 60; then ok "upgrade finished"; else bad "upgrade finished" "$st"; fi
same "status: done" "$(jget "$st" '"\(.result) \(.step) \(.percent) \(.error) \(.eta_s)"')" "ok done 100 null 0"
same "status: docs" "$(jget "$st" '"\(.docs_done) \(.docs_total)"')" "$COPIED $COPIED"
same "status: 8 items, every one done" "$(jget "$st" '"\(.items | length) \([.items[] | select(.done != .total)] | length)"')" "8 0"
same "status: the upgrade record" "$(jget "$st" '"\(.upgrade.state) \(.upgrade.to_release)"')" "done 0.8.1"
if [ -n "$seen" ] && [ "$(printf '%s\n' $seen | sort -n | head -1)" -lt 100 ]; then ok "progress was seen below 100 %"
else bad "progress was seen below 100 %" "percents: '$seen'"; fi
if non_decreasing "$seen 100"; then ok "percent never went down"; else bad "percent never went down" "$seen"; fi
same "a rate was measured" "$(jget "$st" '.rate > 0')" true

areq GET /info/version
same "info after: 0.8.1 active, nothing pending" "$(jget "$body" '"\(.release) \(.data_version) \(.pending_upgrade) \(.upgrade_running)"')" "0.8.1 0.8.1 null false"
same "info after: versions" "$(jget "$body" '.versions | map("\(.data_version) \(.state)") | join(",")')" "0.7.1 retired,0.8.1 active"
areq GET /indices
same "indices after: two versions, newest first" "$(jget "$body" '"\(.count) \(.versions | map(.data_version) | join(","))"')" "12 0.8.1,0.7.1"
same "indices after: the aliases are on the new set" \
  "$(jget "$body" '[.versions[] | [.indices[] | select(.active_alias)] | length] | map(tostring) | join(" ")')" "6 0"
req GET "/acme.profile/_doc/$PID1"
same "the new alias serves the migrated profile" "$code $(jget "$body" '"\(._index) \(._source.metadata.schema) \(._source.data.metrics != null)"')" \
  "200 v0_8_1.acme.profile 0.8.1 true"
same "acme.events points at the new set" "$(resolve acme.events)" v0_8_1.acme.events
hashes 0.8.1 >"$TMP/ref.hashes"
ref_list=$(listing)
same "reference: 6 new indices (sessions dropped, consents created)" "$(wc -l <"$TMP/ref.hashes")" 6

areq POST /migration '{}'
same "start again when done: nothing to do" "$code $(jget "$body" .kind)" "200 same"
areq POST /migration '{"to":"0.8.1.2"}'
same "a minor release is recorded at once" "$code $body" '200 {"acknowledged":true,"kind":"minor","to":"0.8.1.2"}'
areq GET /info/version
same "info: release 0.8.1.2" "$(jget "$body" '"\(.release) \(.data_version)"')" "0.8.1.2 0.8.1"

# ------------------------------------------------------------ tenants
areq GET /tenants
same "tenants" "$(jget "$body" '.tenants | map(.name) | join(",")')" "acme,default"
areq POST /tenants '{"name":"beta"}'
same "tenant add: 201" "$code $body" '201 {"acknowledged":true,"name":"beta"}'
areq GET /tenants
same "tenants after add" "$(jget "$body" '.tenants | map(.name) | join(",")')" "acme,beta,default"
areq POST /tenants '{"name":"beta"}'
same "tenant add twice: 400 exists" "$code/$(jget "$body" .error.type)" 400/resource_already_exists_exception
areq POST /tenants '{"name":"Acme Corp"}'
same "bad tenant name: 400" "$code" 400
has "the reason states the rule" "$(jget "$body" .error.reason)" "uppercase"
areq POST /tenants '{"tenant":"x"}'
same "unknown field: 400" "$code" 400
has "it names the field" "$(jget "$body" .error.reason)" 'unknown field "tenant"'
areq POST /tenants ''
same "no body: 400" "$code/$(jget "$body" .error.type)" 400/parse_exception

# ------------------------------------------------------------ rollback
areq POST /migration/rollback '{}'
same "rollback without yes: nothing dropped" "$code $(jget "$body" '"\(.rolled_back) \(.writes_dropped)"')" "200 false 0"
$T "$FERRY" doc put acme.profile new-1 --body '{"n":1}' >/dev/null
areq POST /migration/rollback
same "rollback without yes counts the write since the switch" "$(jget "$body" '"\(.rolled_back) \(.writes_dropped)"')" "false 1"
same "and changes nothing" "$(resolve acme.profile)" v0_8_1.acme.profile
areq POST /migration/rollback '{"yes":true,"really":true}'
same "rollback: unknown field 400" "$code" 400
areq POST /migration/rollback '{"yes":true}'
same "rollback with yes" "$code $body" '200 {"rolled_back":true,"writes_dropped":1,"active":"0.7.1","release":"0.7.1"}'
same "the alias is back on the old set" "$(resolve acme.profile)" v0_7_1.acme.profile
areq GET /info/version
same "info after rollback: 0.8.1 is pending again" "$(jget "$body" '"\(.data_version) \(.pending_upgrade)"')" "0.7.1 0.8.1"
areq POST /migration/rollback '{"yes":true}'
same "rollback twice: 409" "$code/$(jget "$body" .error.type)" 409/illegal_state_exception

# ------------------------------------------------------------ delete a version
areq DELETE /indices/version/0.7.1
same "delete the active version: 403" "$code/$(jget "$body" .error.type)" 403/security_exception
has "403 says why" "$(jget "$body" .error.reason)" "0.7.1 is the active version"
areq DELETE /indices/version/0.8.1
same "delete a version no snapshot holds: 409" "$code/$(jget "$body" .error.type)" 409/illegal_state_exception
has "409 says how: force=true" "$(jget "$body" .error.reason)" "add force=true"
has "409 says how: a snapshot" "$(jget "$body" .error.reason)" "take a snapshot first"
n81=$(hashes 0.8.1 | wc -l) # 6, plus any the tenant added since has there
areq DELETE '/indices/version/0.8.1?dry_run=true'
same "dry_run lists what would go" "$code $(jget "$body" '"\(.dry_run) \(.indices | length) \(.docs)"')" "200 true $n81 $((COPIED + 1))"
has "dry_run names the indices" "$(jget "$body" '.indices | join(",")')" "v0_8_1.acme.consent,v0_8_1.acme.events,v0_8_1.acme.profile,"
same "dry_run deleted nothing" "$(hashes 0.8.1 | wc -l)" "$n81"
areq DELETE '/indices/version/0.8.1?force=true'
same "force deletes" "$code $(jget "$body" '"\(.dry_run) \(.indices | length)"')" "200 false $n81"
same "no index of 0.8.1 is left" "$(hashes 0.8.1 | wc -l)" 0
areq GET /indices
# 9: default's, acme's and beta's 0.7.1 sets (beta, added after the
# switch, got one for the rollback, which moved its aliases there)
same "GET /indices after the delete" "$(jget "$body" '"\(.count) \([.versions[] | select(.data_version == "0.8.1") | .indices | length])"')" "9 [0]"
areq DELETE /indices/version/0.6.0
same "a version with no indices: 404" "$code" 404
has "  404 names the versions with indices" "$(jget "$body" .error.reason)" "versions with indices: 0.7.1"
areq DELETE /indices/version/banana
same "a bad version: 400" "$code/$(jget "$body" .error.type)" 400/illegal_argument_exception
srv_stop
same "ferryd stopped cleanly" "$SRV_RC" 0

# ------------------------------------------------------------ the CLI holds the lease
fresh lease
"$FERRY" upgrade run --to 0.8.1 --throttle $((NP / 2)) --batch 500 --quiet 2>/dev/null &
cli=$!
for i in $(seq 1 200); do
  [ "$("$FERRY" upgrade status --json 2>/dev/null | jq -r '.lease.alive // false')" = true ] && break
  sleep 0.05
done
start "ferryd next to a running CLI upgrade"
areq POST /migration '{}'
same "start while the CLI upgrades: 409" "$code/$(jget "$body" .error.type)" 409/illegal_state_exception
has "409 names the lease owner" "$(jget "$body" .error.reason)" "another process holds the upgrade lease: pid $cli"
areq GET /migration/status
same "status shows the other runner" "$(jget "$body" '"\(.running) \(.elsewhere) \(.unfinished) \(.upgrade.lease.pid) \(.upgrade.lease.alive)"')" \
  "false true false $cli true"
areq GET /info/version
same "info: upgrade_elsewhere" "$(jget "$body" '"\(.upgrade_running) \(.upgrade_elsewhere)"')" "false true"
areq POST /migration/rollback '{"yes":true}'
same "rollback while the CLI upgrades: 409" "$code" 409
kill -9 "$cli"; wait "$cli" 2>/dev/null
areq GET /migration/status
same "the dead CLI's upgrade is unfinished" "$(jget "$body" '"\(.elsewhere) \(.unfinished) \(.upgrade.state)"')" "false true copy"
areq POST /migration '{}'
same "POST /migration resumes it" "$code $(jget "$body" .kind)" "202 resume"
if wait_job 60; then ok "resumed upgrade finished"; else bad "resumed upgrade finished" "$st"; fi
same "resumed: ok at 100 %" "$(jget "$st" '"\(.result) \(.percent)"')" "ok 100"
same "resumed: the same documents as an uninterrupted run" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
srv_stop

# ------------------------------------------------------------ SIGTERM, kill -9
fresh crash
export FERRY_UPGRADE_THROTTLE=$NP # about 4 s of copy
start "ferryd (throttled upgrades)"
areq POST /migration '{}'
same "start: 202" "$code" 202
# poll until at least one item is copied, then kill -9 in the middle
for i in $(seq 1 400); do
  areq GET /migration/status
  [ "$(jget "$body" '.step == "copy" and .docs_done >= '"$NP")" = true ] && break
  sleep 0.02
done
same "mid-copy when killed" "$(jget "$body" '"\(.running) \(.step) \(.docs_done < '"$COPIED"')"')" "true copy true"
srv_stop KILL
same "killed: still 0.7.1" "$(release)" "0.7.1 0.7.1"
same "killed: the upgrade is unfinished" "$("$FERRY" upgrade status --json | jq -r .state)" copy
start "restart"
areq GET /migration/status
same "after the restart: unfinished, not running" "$(jget "$body" '"\(.running) \(.unfinished) \(.result)"')" "false true null"
areq POST /migration '{}'
same "POST /migration resumes" "$code $(jget "$body" .kind)" "202 resume"
sleep 0.5
t0=$(date +%s%N)
srv_stop TERM
same "SIGTERM during the upgrade: clean exit" "$SRV_RC" 0
if [ $(($(date +%s%N) - t0)) -lt 10000000000 ]; then ok "it stopped the job within 10 s"; else bad "it stopped the job within 10 s"; fi
has "the log says it is resumable" "$(cat "$TMP/ferryd.log")" "it is resumable"
same "stopped: still 0.7.1" "$(release)" "0.7.1 0.7.1"
unset FERRY_UPGRADE_THROTTLE
start "restart again"
areq POST /migration '{}'
same "POST /migration resumes again" "$code $(jget "$body" .kind)" "202 resume"
if wait_job 60; then ok "the resumed upgrade finished"; else bad "the resumed upgrade finished" "$st"; fi
same "resumed: ok at 100 %, the record done" "$(jget "$st" '"\(.result) \(.percent) \(.unfinished) \(.upgrade.state) \(.upgrade.error)"')" "ok 100 false done "
same "no loss, no doubles: the same documents as an uninterrupted run" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "the same indices, aliases and counts" "$(listing)" "$ref_list"
srv_stop

# ------------------------------------------------------------ FERRY_AUTO_UPGRADE=yes
fresh auto
FERRY_AUTO_UPGRADE=yes start "ferryd with FERRY_AUTO_UPGRADE=yes"
if wait_job 60; then ok "the automatic upgrade finished"; else bad "the automatic upgrade finished" "$st"; fi
same "automatic: ok at 100 %, nothing pending" "$(jget "$st" '"\(.result) \(.percent) \(.to)"')" "ok 100 0.8.1"
areq GET /info/version
same "automatic: 0.8.1 active" "$(jget "$body" '"\(.release) \(.pending_upgrade)"')" "0.8.1 null"
same "automatic: the same documents" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
srv_stop

# ------------------------------------------------------------ the examples of the docs
# docs/rest-api.md "Maintenance": every curl command there, verbatim, in order.
fresh docs
start "ferryd for the doc examples"
out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/info/version")
same "doc: info/version" "$(jget "$out" '"\(.release) \(.pending_upgrade)"')" "0.7.1 0.8.1"
out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/migrations")
same "doc: migrations" "$(jget "$out" '.targets | join(",")')" "0.7.2,0.8.0,0.8.1"
out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/migration/0.7.1?to=0.8.1")
same "doc: plan" "$(jget "$out" .kind)" major
out=$(curl -s -X POST -H "Authorization: Bearer $FERRY_ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"to":"0.8.1"}' "$URL/migration")
same "doc: start" "$out" '{"acknowledged":true,"to":"0.8.1","kind":"major","status":"/migration/status"}'
for i in $(seq 1 1200); do
  out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/migration/status")
  [ "$(jget "$out" .running)" = false ] && break
  sleep 0.05
done
same "doc: status" "$(jget "$out" '"\(.result) \(.percent)"')" "ok 100"
out=$(curl -s -X POST -H "Authorization: Bearer $FERRY_ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{}' "$URL/migration/rollback")
same "doc: rollback without yes" "$(jget "$out" .rolled_back)" false
out=$(curl -s -X POST -H "Authorization: Bearer $FERRY_ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"yes":true}' "$URL/migration/rollback")
same "doc: rollback with yes" "$(jget "$out" '"\(.rolled_back) \(.active)"')" "true 0.7.1"
out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/indices")
same "doc: indices" "$(jget "$out" '"\(.count) \(.versions[0].data_version) \(.versions[0].state)"')" "12 0.8.1 rolled-back"
out=$(curl -s -X DELETE -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/indices/version/0.8.1?dry_run=true")
same "doc: delete dry_run" "$(jget "$out" '"\(.dry_run) \(.indices | length)"')" "true 6"
out=$(curl -s -X DELETE -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/indices/version/0.8.1?force=true")
same "doc: delete force" "$(jget "$out" '"\(.dry_run) \(.indices | length)"')" "false 6"
out=$(curl -s -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$URL/tenants")
same "doc: tenants" "$out" '{"tenants":[{"name":"acme"},{"name":"default"}]}'
out=$(curl -s -X POST -H "Authorization: Bearer $FERRY_ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"shop"}' "$URL/tenants")
same "doc: tenant add" "$out" '{"acknowledged":true,"name":"shop"}'
srv_stop

# ------------------------------------------------------------ a migrations dir that is missing
FERRY_MIGRATIONS=$TMP/no-such-dir srv_start
areq GET /migrations
same "missing migrations dir: 404" "$code" 404
has "it names the directory" "$(jget "$body" .error.reason)" "$TMP/no-such-dir"
srv_stop

# under B=build-san, a leak or an error report would be in the log
if grep -q "Sanitizer\|runtime error" "$TMP/ferryd.log"; then
  bad "no sanitizer report" "$(grep -m3 -A5 "Sanitizer\|runtime error" "$TMP/ferryd.log")"
else ok "no sanitizer report"; fi
finish
