#!/usr/bin/env bash
# test_tenants.sh - tenant isolation over real HTTP: tenant A's key can
# never read, write, list, search or administer tenant B's indices, under
# any name form (logical, alias, physical, pattern, _all, bulk _index);
# a key scoped to several tenants picks one by the Host name's first
# label; the admin key reaches all; unknown and revoked keys get 401.
# POST /tenants over the index budget is refused (400 validation_exception
# in ES's envelope, with the numbers) and creates nothing; so is a tenant
# a tenant manager lists to a MULTI_TENANT=yes ferryd: logged once, tried
# again at every refresh, added once the budget allows. PUT /{index} over
# the budget is refused the same way (400 validation_exception) and creates
# nothing.
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.7.1
TMS_PID=""
trap 'kill -9 $SRV_PID $TMS_PID 2>/dev/null' EXIT

"$FERRY" init --version 0.7.1 >/dev/null
"$FERRY" index create profile >/dev/null
check "tenant acme" "$FERRY" tenant add acme
check "tenant beta" "$FERRY" tenant add beta
"$FERRY" index list | grep -q "acme.profile" && ok "a new tenant gets the index set" ||
  "$FERRY" index create acme.profile >/dev/null
"$FERRY" index list | grep -q "beta.profile" || "$FERRY" index create beta.profile >/dev/null
KA=$("$FERRY" tenant key create acme --json | jq -r .key)
KB=$("$FERRY" tenant key create beta --json | jq -r .key)
KM=$("$FERRY" tenant key create acme beta --json | jq -r .key)
[[ $KA == fk_* && $KB == fk_* && $KM == fk_* ]] && ok "keys issued" || bad "keys issued" "$KA $KB $KM"
grep -aq "$KA" "$FERRY_DATA"/data.mdb && bad "keys are stored hashed" || ok "keys are stored hashed"

srv_start || { bad "ferryd starts"; finish; exit 1; }
A=(-H "Authorization: Bearer $KA")
Bk=(-H "Authorization: Bearer $KB")

# --- writes land in the key's own tenant -------------------------------
req PUT /profile/_doc/x '{"who":"acme"}' "${A[@]}"
same "acme key: PUT /profile/_doc/x -> 201" "$code" 201
same "  into acme's index" "$(jget "$body" ._index)" v0_7_1.acme.profile
req PUT /profile/_doc/x '{"who":"beta"}' "${Bk[@]}"
same "beta key: the same path -> beta's index" "$(jget "$body" ._index)" v0_7_1.beta.profile
areq GET /acme.profile/_doc/x
same "admin sees acme's document" "$(jget "$body" ._source.who)" acme
areq GET /beta.profile/_doc/x
same "admin sees beta's document" "$(jget "$body" ._source.who)" beta

# --- every name form of another tenant is refused ----------------------
for path in /beta.profile/_doc/x /v0_7_1.beta.profile/_doc/x /default.profile/_doc/x; do
  req GET "$path" "" "${A[@]}"
  same "acme key: GET $path -> 403" "$code" 403
done
req PUT /beta.profile/_doc/y '{"who":"intruder"}' "${A[@]}"
same "acme key: PUT into beta -> 403" "$code" 403
req DELETE /v0_7_1.beta.profile/_doc/x "" "${A[@]}"
same "acme key: DELETE beta's doc -> 403" "$code" 403
areq GET /beta.profile/_doc/y
same "  nothing written to beta" "$code" 404
areq GET /beta.profile/_doc/x
same "  beta's doc still there" "$code" 200
req GET /beta.profile "" "${A[@]}"
same "acme key: GET beta's index -> 403" "$code" 403
req PUT /beta.newidx '{}' "${A[@]}"
same "acme key: create an index in beta -> 403" "$code" 403

# --- bulk ---------------------------------------------------------------
bulk=$'{"index":{"_index":"profile","_id":"b1"}}\n{"k":1}\n{"index":{"_index":"beta.profile","_id":"b2"}}\n{"k":2}\n'
bulk+=$'{"index":{"_index":"v0_7_1.beta.profile","_id":"b3"}}\n{"k":3}\n{"delete":{"_index":"beta.profile","_id":"x"}}\n'
req POST /_bulk "$bulk" "${A[@]}"
same "acme key bulk: own item ok, beta items 403" \
  "$(jget "$body" '[.items[] | to_entries[0].value.status] | map(tostring) | join(",")')" "201,403,403,403"
areq GET /beta.profile/_doc/x
same "  beta's doc survived the bulk delete" "$code" 200
areq GET "/_cat/indices/beta.profile?format=json"
same "  beta's count is still 1" "$(jget "$body" '.[0]["docs.count"]')" 1

# --- _mget: another tenant's documents are refused one by one ----------
req POST /_mget '{"docs":[{"_index":"profile","_id":"x"},{"_index":"beta.profile","_id":"x"},{"_index":"v0_7_1.beta.profile","_id":"x"}]}' "${A[@]}"
same "acme key _mget: 200" "$code" 200
same "  own doc found, beta's two refused" \
  "$(jget "$body" '[.docs[] | (.found // .error.type) | tostring] | join(",")')" "true,security_exception,security_exception"
same "  and beta's body is not in the reply" "$(jget "$body" '[.docs[]._source.who // empty] | join(",")')" acme
req POST /profile/_mget '{"ids":["x"]}' "${Bk[@]}"
same "beta key: /profile/_mget reads beta's" "$(jget "$body" '.docs[0]._source.who')" beta

# --- search, count, listings --------------------------------------------
req POST /_search '{"query":{"match_all":{}}}' "${A[@]}"
same "acme key: /_search sees only acme" "$(jget "$body" '[.hits.hits[]._index] | unique | join(",")')" v0_7_1.acme.profile
req GET /_all/_count "" "${A[@]}"
same "acme key: /_all/_count = acme's docs" "$(jget "$body" .count)" 2
req GET '/*/_count' "" "${A[@]}"
same "acme key: /*/_count = acme's docs" "$(jget "$body" .count)" 2
req POST /beta.profile/_search '{}' "${A[@]}"
same "acme key: search beta -> 403" "$code" 403
req POST '/profile,beta.profile/_search' '{}' "${A[@]}"
same "acme key: a list naming beta -> 403" "$code" 403
req POST '/*.profile/_search' '{}' "${A[@]}"
same "acme key: a pattern over tenants -> 403" "$code" 403
req GET '/_cat/indices?format=json' "" "${A[@]}"
same "acme key: _cat/indices lists only acme" "$(jget "$body" '[.[].index] | map(select(contains(".acme.") | not)) | length')" 0
[ "$(jget "$body" 'length')" -ge 1 ] && ok "  and does list acme's" || bad "  acme listed" "$body"
req GET /_aliases "" "${A[@]}"
same "acme key: _aliases lists only acme" "$(jget "$body" '[keys[] | select(contains(".acme.") | not)] | length')" 0
req GET /_mapping "" "${A[@]}"
same "acme key: /_mapping lists only acme" "$(jget "$body" '[keys[] | select(contains(".acme.") | not)] | length')" 0
req GET /beta.profile/_mapping "" "${A[@]}"
same "acme key: beta's _mapping -> 403" "$code" 403
areq GET '/_cat/indices?format=json'
[ "$(jget "$body" 'length')" -ge 3 ] && ok "admin lists every tenant's indices" || bad "admin list" "$body"

# --- admin routes -------------------------------------------------------
for r in "GET /info/version" "GET /_snapshot" "GET /indices" "GET /tenants"; do
  req ${r% *} "${r#* }" "" "${A[@]}"
  same "acme key: $r -> 403" "$code" 403
done
req DELETE /acme.profile "" "${A[@]}"
same "acme key: DELETE its own index -> 403 (admin only)" "$code" 403
req POST /_aliases '{"actions":[{"add":{"index":"v0_7_1.beta.profile","alias":"acme.stolen"}}]}' "${A[@]}"
same "acme key: POST /_aliases -> 403" "$code" 403

# --- a key for several tenants picks one by Host ------------------------
req GET /profile/_doc/x "" -H "Authorization: Bearer $KM" -H "Host: acme.example.com"
same "multi key + Host acme -> acme's doc" "$(jget "$body" ._source.who)" acme
req GET /profile/_doc/x "" -H "Authorization: Bearer $KM" -H "Host: beta.example.com:9200"
same "multi key + Host beta -> beta's doc" "$(jget "$body" ._source.who)" beta
req GET /profile/_doc/x "" -H "Authorization: Bearer $KM" -H "Host: gamma.example.com"
same "multi key + Host gamma (not in scope) -> 403" "$code" 403
req GET /profile/_doc/x "" -H "Authorization: Bearer $KM"
same "multi key without a tenant in Host -> 403" "$code" 403
has "  says how to choose" "$(jget "$body" .error.reason)" "Host"
req GET /profile/_doc/x "" -H "Authorization: Bearer $KA" -H "Host: beta.example.com"
same "single-tenant key ignores Host: still acme" "$(jget "$body" ._source.who)" acme

# --- unknown and revoked keys --------------------------------------------
req GET /profile/_doc/x "" -H "Authorization: Bearer fk_0000000000000000000000000000000000000000"
same "unknown key -> 401" "$code" 401
sha=$("$FERRY" tenant key list --json | jq -r --arg k "$KB" '.[] | select(.tenants == ["beta"]) | .sha256' | head -1)
check "revoke beta's key" "$FERRY" tenant key revoke "$sha"
req GET /profile/_doc/x "" "${Bk[@]}"
same "revoked key -> 401" "$code" 401
check "remove tenant acme (with its data)" "$FERRY" tenant remove acme --force
check "create a new tenant acme" "$FERRY" tenant add acme
req GET /profile/_doc/x "" "${A[@]}"
same "the old acme key does not open the new acme -> 401" "$code" 401

# --- POST /tenants and the index budget ---------------------------------
n=$("$FERRY" status --json | jq .indices)
check "budget: one index more than exist ($((n + 1)))" "$FERRY" indices budget $((n + 1))
areq POST /tenants '{"name":"fits"}'
same "POST /tenants that fits the budget exactly -> 201" "$code" 201
listing() { "$FERRY" index list --json | jq -c '[.[] | [.index, .alias]]'; }
before=$(listing)
keys_before=$("$FERRY" tenant key list --json | jq length)
areq POST /tenants '{"name":"over","key":true}'
same "POST /tenants over the budget -> 400" "$code" 400
same "  ES's envelope: validation_exception, status 400" "$(jget "$body" '"\(.error.type) \(.status)"')" \
  "validation_exception 400"
has "  the reason gives the numbers" "$(jget "$body" .error.reason)" \
  "tenant 'over' was not added: it needs 1 new index (1 in 0.7.1 (active)), which would make $((n + 2)) indices, over the index budget of $((n + 1)) ($((n + 1)) now)"
has "  and how to make room" "$(jget "$body" .error.reason)" "raise the budget (\`ferry indices budget $((n + 2))\`)"
same "  no index created" "$(listing)" "$before"
areq GET /tenants
same "  no tenant" "$(jget "$body" '[.tenants[].name] | index("over")')" null
same "  no key" "$("$FERRY" tenant key list --json | jq length)" "$keys_before"
check "raise the budget with the CLI while ferryd runs" "$FERRY" indices budget $((n + 2))
areq GET /indices
same "GET /indices shows the new budget" "$(jget "$body" .budget)" $((n + 2))
areq POST /tenants '{"name":"over"}'
same "POST /tenants after raising it -> 201" "$code" 201

# --- PUT /{index} and the index budget ----------------------------------
n=$("$FERRY" status --json | jq .indices)
check "budget: exactly the indices that exist ($n)" "$FERRY" indices budget "$n"
before=$(listing)
areq PUT /extra '{"mappings":{}}'
same "PUT /{index} over the budget -> 400" "$code" 400
same "  ES's envelope: validation_exception, status 400" "$(jget "$body" '"\(.error.type) \(.status)"')" \
  "validation_exception 400"
has "  the reason gives the numbers" "$(jget "$body" .error.reason)" \
  "index 'extra' was not created: it needs 1 new index (1 in 0.7.1 (active)), which would make $((n + 1)) indices, over the index budget of $n ($n now)"
has "  and how to make room" "$(jget "$body" .error.reason)" "raise the budget (\`ferry indices budget $((n + 1))\`)"
same "  no index created" "$(listing)" "$before"
areq GET /extra
same "  GET /extra -> 404" "$code" 404
check "raise the budget by one" "$FERRY" indices budget $((n + 1))
areq PUT /extra '{"mappings":{}}'
same "PUT /{index} after raising it -> 200" "$code" 200
same "  one index more" "$("$FERRY" status --json | jq .indices)" $((n + 1))
areq DELETE /v0_7_1.default.extra # so a new tenant's set is profile alone again
same "  deleted again" "$code" 200
srv_stop

# --- a tenant manager's tenants and the budget --------------------------
TKEY=tms-api-key-0123456789abcdef
tms_boot() {
  local p t try
  for try in $(seq 1 20); do
    p=$(free_port)
    FERRY_DATA=$TMP/tms FERRY_ADMIN_KEY=$TKEY FERRY_LISTEN=127.0.0.1:$p \
      "$FERRYD" --tms >/dev/null 2>>"$TMP/tms.log" &
    TMS_PID=$! TMS=http://127.0.0.1:$p
    for t in $(seq 1 100); do
      curl -s -o /dev/null "$TMS/" && return 0
      kill -0 "$TMS_PID" 2>/dev/null || break
      sleep 0.05
    done
    wait "$TMS_PID" 2>/dev/null
    grep -q "cannot listen" "$TMP/tms.log" || return 1
  done
  return 1
}
treq() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TKEY" \
  -H 'Content-Type: application/json' --data-binary "$2" "$TMS$1"; }
until_ok() { local i; for i in $(seq 1 $(($1 * 5))); do "${@:2}" && return 0; sleep 0.2; done; return 1; }
has_tenant() { "$FERRY" tenant list | grep -qx "$1"; }
tm() { areq GET /info/version; jget "$body" ".tenant_manager.$1"; }
tms_boot || { bad "ferryd --tms starts"; finish; exit 1; }
same "TMS: tenant m1" "$(treq /tenants '{"name":"m1"}')" 201
same "TMS: tenant m2" "$(treq /tenants '{"name":"m2"}')" 201
n=$("$FERRY" status --json | jq .indices)
check "budget: room for one more tenant ($((n + 1)))" "$FERRY" indices budget $((n + 1))
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=$TMS MULTI_TENANT_MANAGER_API_KEY=$TKEY FERRY_TMS_REFRESH=1 \
  srv_start || { bad "the MULTI_TENANT ferryd starts"; finish; exit 1; }
if until_ok 8 has_tenant m1; then ok "the manager's first tenant is added"; else bad "m1 added" "$(tail -3 "$TMP/ferryd.log")"; fi
sleep 2.5 # a few more refreshes
has_tenant m2 && bad "m2 over the budget is not added" || ok "m2 over the budget is not added"
same "  nothing beyond the budget was created" "$("$FERRY" status --json | jq .indices)" $((n + 1))
refusals=$(grep -c "tenant m2, listed by the tenant manager, cannot be added here" "$TMP/ferryd.log")
same "  the refusal is logged once over several refreshes" "$refusals" 1
has "  with the numbers" "$(grep "tenant m2, listed" "$TMP/ferryd.log")" "over the index budget of $((n + 1))"
has "  saying it is tried again" "$(grep "tenant m2, listed" "$TMP/ferryd.log")" "tries again at every refresh"
grep -q "serving the last known" "$TMP/ferryd.log" && bad "  it is not logged as an outage" || ok "  it is not logged as an outage"
same "/info/version: ok:false" "$(tm ok)" false
has "  error names the refused tenant" "$(tm error)" "tenant m2 was not added here"
same "  listed counts the manager's tenants" "$(tm listed)" 3
req GET /
same "ferryd keeps serving" "$code" 200
check "raise the budget" "$FERRY" indices budget $((n + 2))
if until_ok 8 has_tenant m2; then ok "m2 is added at a later refresh"; else bad "m2 added later" "$(tail -3 "$TMP/ferryd.log")"; fi
has "  the log says so" "$(cat "$TMP/ferryd.log")" "added tenant m2"
tm_ok() { [ "$(tm ok)" = true ]; }
until_ok 5 tm_ok; same "/info/version: ok:true again" "$(tm ok)" true
srv_stop
kill "$TMS_PID"; wait "$TMS_PID"; same "the TMS stops cleanly" "$?" 0
TMS_PID=""

# --- MULTI_TENANT=yes needs a key for data ------------------------------
if "$FERRYD" --help 2>&1 | grep -q -- --tms; then
  ok "ferryd knows --tms (test_tms.sh covers MULTI_TENANT with a TMS)"
fi
finish
