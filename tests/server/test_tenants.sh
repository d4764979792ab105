#!/usr/bin/env bash
# test_tenants.sh - tenant isolation over real HTTP: tenant A's key can
# never read, write, list, search or administer tenant B's indices, under
# any name form (logical, alias, physical, pattern, _all, bulk _index);
# a key scoped to several tenants picks one by the Host name's first
# label; the admin key reaches all; unknown and revoked keys get 401.
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.7.1

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
srv_stop

# --- MULTI_TENANT=yes needs a key for data ------------------------------
if "$FERRYD" --help 2>&1 | grep -q -- --tms; then
  ok "ferryd knows --tms (test_tms.sh covers MULTI_TENANT with a TMS)"
fi
finish
