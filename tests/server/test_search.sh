#!/usr/bin/env bash
# test_search.sh - _search and _count of a real ferryd over real HTTP, on
# 3000 generated CDP profiles (loaded through /_bulk) and a few
# hand-written documents. Counts are checked against jq over the same
# NDJSON, so every query type is compared with an independent evaluation;
# then sort + search_after paging (every matching id exactly once),
# from/size and track_total_hits, _source, URL parameters, aliases,
# physical names and index lists, and the error replies (status, ES type,
# reason) of bad requests; then URI search (q=): every syntax counted
# against jq, URL encoding (a bad %-escape in any parameter is a 400), q
# with the other URL parameters, its errors, and a tenant key's q search
# confined to its tenant.
#
#   B=build bash tests/server/test_search.sh      (or B=build-san)
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
export FERRY_RELEASE=0.8.1
N=3000
P=$TMP/p.ndjson

srv_start || { bad "ferryd starts"; finish; exit 1; }

# --- data ------------------------------------------------------------
"$GEN" --type profile --count "$N" >"$P"
"$GEN" --type profile --count "$N" --format bulk --index profile >"$TMP/p.bulk"
req PUT /profile '{}'
same "create profile" "$code" 200
req POST /_bulk "@$TMP/p.bulk" -H 'Content-Type: application/x-ndjson'
same "bulk load $N profiles" "$code/$(jget "$body" .errors)" 200/false
req PUT /small '{}'
for d in 'a1 {"name":"Ann","age":30,"tags":["red","blue"],"at":"2024-01-05T10:00:00Z","vip":true}' \
         'a2 {"name":"bob","age":25,"tags":["green"],"at":"2024-02-01T00:00:00Z","vip":false}' \
         'a3 {"name":"Cid","age":41.5,"tags":"red","vip":"true"}' \
         'a4 {"name":"Dee"}'; do
  req PUT "/small/_doc/${d%% *}" "${d#* }"
done
same "small docs written" "$code" 201

# jq over the NDJSON: how many profiles satisfy a jq condition
want() { jq -c "select($1)" "$P" | wc -l | tr -d ' '; }
# _count of a query on profile
cnt() { req POST /profile/_count "{\"query\":$1}"; jget "$body" .count; }
# both, compared
agree() { same "$1" "$(cnt "$2")" "$(want "$3")"; }

# --- every query type against jq --------------------------------------
# (ages are numbers or numeric strings in this data: both compare as
# numbers, as a numeric field coerces them in Elasticsearch)
req GET /profile/_search
same "GET _search -> 200" "$code" 200
same "  total is exact below 10000" "$(jget "$body" '.hits.total|"\(.value) \(.relation)"')" "$N eq"
same "  10 hits by default" "$(jget "$body" '.hits.hits|length')" 10
same "  _index is the physical name" "$(jget "$body" '.hits.hits[0]._index')" v0_8_1.default.profile
same "  score 1.0" "$(jget "$body" '.hits.max_score')" 1
same "  ES envelope" "$(jget "$body" '[.timed_out, ._shards.total, ._shards.failed]|@csv')" "false,1,0"
first=$(jget "$body" '.hits.hits[0]._id')
same "  hits in id order" "$first" "$(jq -r .id "$P" | LC_ALL=C sort | head -1)"
same "  _source is the document" "$(jget "$body" '.hits.hits[0]._source.id')" "$first"

agree "match_all" '{"match_all":{}}' 'true'
agree "match_none" '{"match_none":{}}' 'false'
agree "term on a nested field" '{"term":{"metadata.aux.geo.country":"US"}}' '.metadata.aux.geo.country=="US"'
agree "term, object form" '{"term":{"traits.public.plan":{"value":"pro"}}}' '.traits.public.plan=="pro"'
agree "term on an array field" '{"term":{"segments":"vip"}}' '(.segments // []) | index("vip") != null'
agree "term on a boolean" '{"term":{"consents.analytics.granted":true}}' '.consents.analytics.granted==true'
agree "term on a number" '{"term":{"stats.visits":3}}' '.stats.visits==3'
agree "terms" '{"terms":{"traits.public.plan":["pro","team","nope"]}}' '.traits.public.plan=="pro" or .traits.public.plan=="team"'
agree "range gte/lt on numbers" '{"range":{"stats.visits":{"gte":2,"lt":10}}}' '.stats.visits>=2 and .stats.visits<10'
agree "range on ISO dates" '{"range":{"metadata.time.insert":{"gte":"2025-06-01","lt":"2025-07-01T00:00:00Z"}}}' '.metadata.time.insert>="2025-06-01" and .metadata.time.insert<"2025-07-01T00:00:00Z"'
agree "exists" '{"exists":{"field":"pii.telephone"}}' '.pii.telephone != null'
agree "exists on an object" '{"exists":{"field":"metadata.aux"}}' '(.metadata.aux // {}) | [.. | scalars] | length > 0'
agree "prefix" '{"prefix":{"pii.email":"j"}}' '(.pii.email // "") | startswith("j")'
agree "bool must + must_not" '{"bool":{"must":{"exists":{"field":"age"}},"must_not":{"range":{"age":{"lt":40}}}}}' '.age != null and (.age|tonumber) >= 40'
agree "bool should (one needed)" '{"bool":{"should":[{"term":{"traits.public.plan":"pro"}},{"term":{"segments":"vip"}}]}}' '.traits.public.plan=="pro" or ((.segments // []) | index("vip") != null)'
agree "bool filter + minimum_should_match 2" '{"bool":{"filter":{"exists":{"field":"age"}},"should":[{"range":{"age":{"gte":50}}},{"term":{"segments":"b2b"}},{"range":{"stats.visits":{"gt":1}}}],"minimum_should_match":2}}' '.age != null and ([((.age|tonumber) >= 50), ((.segments // []) | index("b2b") != null), (.stats.visits > 1)] | map(select(.)) | length) >= 2'
id7=$(jq -r .id "$P" | sed -n 7p); id9=$(jq -r .id "$P" | sed -n 9p)
same "ids" "$(cnt "{\"ids\":{\"values\":[\"$id7\",\"$id9\",\"nope\"]}}")" 2
agree "term on _id" "{\"term\":{\"_id\":\"$id7\"}}" ".id==\"$id7\""
agree "prefix on _id" '{"prefix":{"_id":"a"}}' '.id | startswith("a")'
agree "range on _id" '{"range":{"_id":{"gte":"b","lt":"c"}}}' '.id >= "b" and .id < "c"'

# --- sort and search_after -------------------------------------------
Q='{"range":{"stats.visits":{"gte":2}}}'
req POST /profile/_search "{\"query\":$Q,\"sort\":[{\"stats.visits\":\"desc\"}],\"size\":5}"
same "sorted search -> 200" "$code" 200
same "  highest visits first" "$(jget "$body" '.hits.hits[0].sort[0]')" "$(jq -s 'map(.stats.visits)|max' "$P")"
same "  sorted hits have _score null" "$(jget "$body" '[.hits.hits[]._score]|unique|@csv')" ""
same "  max_score null" "$(jget "$body" .hits.max_score)" null
same "  sort values: key and _id tie-break" "$(jget "$body" '.hits.hits[0].sort|length')" 2
vals=$(jget "$body" '[.hits.hits[].sort[0]]|@csv')
same "  descending" "$vals" "$(jget "$body" '[.hits.hits[].sort[0]]|sort|reverse|@csv')"

# page through every match with search_after, 97 at a time
page_all() {  # QUERY SORT -> prints ids, one per line
  local after="" n=0 b
  while :; do
    b="{\"query\":$1,\"sort\":$2,\"size\":97${after:+,\"search_after\":$after}}"
    req POST /profile/_search "$b"
    [ "$code" = 200 ] || { echo "page failed: $code $body" >&2; return 1; }
    [ "$(jget "$body" '.hits.hits|length')" = 0 ] && break
    jget "$body" '.hits.hits[]._id'
    after=$(jget "$body" '.hits.hits[-1].sort|tojson')
    n=$((n + 1)); [ $n -gt 200 ] && return 1
  done
}
page_all "$Q" '[{"stats.visits":"desc"},{"metadata.time.insert":"asc"}]' >"$TMP/paged"
same "search_after: every match once (sorted by visits, insert)" \
  "$(wc -l <"$TMP/paged" | tr -d ' ')/$(sort -u "$TMP/paged" | wc -l | tr -d ' ')" \
  "$(want '.stats.visits>=2')/$(want '.stats.visits>=2')"
page_all '{"match_all":{}}' '[{"traits.public.plan":{"order":"asc","missing":"_first"}}]' >"$TMP/paged"
same "search_after over ties and missing values: every doc once" \
  "$(sort -u "$TMP/paged" | wc -l | tr -d ' ')/$(wc -l <"$TMP/paged" | tr -d ' ')" "$N/$N"
page_all '{"match_all":{}}' '["_id"]' >"$TMP/paged"
same "search_after on _id: all ids in byte order" "$(cat "$TMP/paged")" "$(jq -r .id "$P" | LC_ALL=C sort)"

req POST /small/_search '{"sort":[{"age":"asc"}]}'
same "missing values sort last" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a2","a1","a3","a4"'
same "missing sort value is null" "$(jget "$body" '.hits.hits[3].sort[0]')" null
req POST /small/_search '{"sort":[{"tags":"desc"}]}'
same "arrays sort by max when desc" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a1","a3","a2","a4"'

# --- from / size / track_total_hits -----------------------------------
req POST /profile/_search '{"from":2995,"size":10,"_source":false}'
same "from near the end" "$(jget "$body" '.hits.hits|length')" 5
same "  _source false drops it" "$(jget "$body" '.hits.hits[0]|has("_source")')" false
req POST /profile/_search '{"size":0}'
same "size 0: no hits, total" "$(jget "$body" '"\(.hits.hits|length) \(.hits.total.value)"')" "0 $N"
req POST /profile/_search '{"size":10001}'
same "size 10001 -> 400" "$code" 400
same "  illegal_argument_exception" "$(jget "$body" .error.type)" illegal_argument_exception
has "  ES's message" "$(jget "$body" .error.reason)" "Result window is too large, from + size must be less than or equal to: [10000] but was [10001]"
req POST /profile/_search '{"track_total_hits":100,"size":1}'
same "track_total_hits 100" "$(jget "$body" '.hits.total|"\(.value) \(.relation)"')" "100 gte"
req POST /profile/_search '{"track_total_hits":false,"size":1}'
same "track_total_hits false: no total" "$(jget "$body" '.hits|has("total")')" false
req POST /profile/_search "{\"query\":$Q,\"track_total_hits\":true,\"size\":1}"
same "track_total_hits true" "$(jget "$body" '.hits.total|"\(.value) \(.relation)"')" "$(want '.stats.visits>=2') eq"

# --- _source, URL parameters, GET with a body ---------------------------
req POST /profile/_search '{"query":{"exists":{"field":"pii.email"}},"size":1,"_source":["pii.email","stats.*"]}'
same "_source includes" "$(jget "$body" '.hits.hits[0]._source|keys|@csv')" '"pii","stats"'
same "  only the named field of pii" "$(jget "$body" '.hits.hits[0]._source.pii|keys|@csv')" '"email"'
req POST /profile/_search '{"size":1,"_source":{"excludes":["pii","metadata"]}}'
same "_source excludes" "$(jget "$body" '.hits.hits[0]._source|has("pii") or has("metadata")')" false
req GET '/profile/_search?size=3&from=1&sort=stats.visits:desc&_source=id&track_total_hits=false'
same "URL parameters" "$(jget "$body" '"\(.hits.hits|length) \(.hits|has("total")) \(.hits.hits[0]._source|keys|@csv)"')" '3 false "id"'
req GET /profile/_search '{"query":{"term":{"segments":"vip"}},"size":0}'
same "GET with a body" "$(jget "$body" .hits.total.value)" "$(want '(.segments // []) | index("vip") != null')"
req POST '/small/_search?seq_no_primary_term=true' '{"query":{"ids":{"values":["a1"]}}}'
same "seq_no_primary_term" "$(jget "$body" '.hits.hits[0]|"\(._seq_no > 0) \(._primary_term)"')" "true 1"

# --- names, lists, _count ---------------------------------------------
req GET /default.profile/_count
same "_count through the alias" "$(jget "$body" .count)" "$N"
req GET /v0_8_1.default.profile/_count
same "_count through the physical name" "$(jget "$body" .count)" "$N"
req GET /profile,small/_count
same "_count over a list" "$(jget "$body" '"\(.count) \(._shards.total)"')" "$((N + 4)) 2"
req GET '/v0_8_1.default.*/_search' '{"size":0}'
same "_search over a glob" "$(jget "$body" .hits.total.value)" "$((N + 4))"
req GET /_search '{"query":{"term":{"name":"Ann"}}}'
same "_search with no index: all" "$(jget "$body" '.hits.hits[0]._index')" v0_8_1.default.small
req GET /_count
same "_count with no index: all" "$(jget "$body" .count)" "$((N + 4))"
req POST /small/_count '{"query":{"range":{"at":{"gte":"2024-01-01"}}}}'
same "_count POST with a query" "$(jget "$body" .count)" 2

# --- errors -----------------------------------------------------------
err_is() {  # NAME STATUS TYPE REASON-PART
  same "$1 -> $2" "$code" "$2"
  same "  type" "$(jget "$body" .error.type)" "$3"
  has "  reason" "$(jget "$body" .error.reason)" "$4"
  same "  status in body" "$(jget "$body" .status)" "$2"
}
req POST /profile/_search '{"query":{"match":{"name":"x"}}}'
err_is "unknown query" 400 parsing_exception "unknown query [match]"
req POST /profile/_search '{"query":{"bool":{"must":[{"term":{"a":1,"b":2}}]}}}'
err_is "term with two fields" 400 parsing_exception "[term] query doesn't support multiple fields"
has "  says where" "$(jget "$body" .error.reason)" "query.bool.must[0].term"
req POST /profile/_search '{"query":{"range":{"age":{"gte":[1]}}}}'
err_is "range bound of the wrong type" 400 parsing_exception "[gte] must be a number or a string"
req POST /profile/_search '{"query":'
err_is "invalid JSON" 400 parse_exception "not valid JSON"
req POST /profile/_search '{"aggs":{"x":{}}}'
err_is "aggregations" 400 illegal_argument_exception "[aggs] is not supported"
req POST /profile/_search '{"sort":["_id"],"search_after":[1,2,3]}'
err_is "search_after of the wrong length" 400 illegal_argument_exception "search_after has 3 value(s) but sort has 1"
req POST /nope/_search '{}'
err_is "missing index" 404 index_not_found_exception "no such index [nope]"
req POST /profile/_count '{"size":1}'
err_is "_count with size" 400 parsing_exception "request does not support [size]"
req PUT /profile/_search '{}'
same "PUT _search -> 405" "$code" 405
req POST /profile/_search '{}' -H 'Authorization: Bearer wrong-key-0123456789'
same "a wrong key -> 401" "$code" 401
areq POST /profile/_search '{"size":0}'
same "the admin key -> 200" "$code" 200

# --- URI search: q= ------------------------------------------------------
# qcnt Q [PARAMS]: _count of profile for query string Q (curl encodes it)
qcnt() {
  req GET /profile/_count "" -G --data-urlencode "q=$1" ${2:+--data "$2"}
  [ "$code" = 200 ] || { echo "q=$1 -> $code $body" >&2; echo "HTTP $code"; return; }
  jget "$body" .count
}
# qagree NAME Q JQ [PARAMS]: the q count equals jq's
qagree() { same "q: $1" "$(qcnt "$2" "${4:-}")" "$(want "$3")"; }
vip='((.segments // []) | index("vip") != null)'
pro='.traits.public.plan=="pro"'
qagree "field:value on a nested field" 'metadata.aux.geo.country:US' '.metadata.aux.geo.country=="US"'
qagree "quoted value" 'traits.public.plan:"pro"' "$pro"
qagree "quoted value with a space" 'pii.name:"Zoë"' '.pii.name=="Zoë"'
qagree "array field" 'segments:vip' "$vip"
qagree "number" 'stats.visits:3' '.stats.visits==3'
qagree "number matches numeric strings too" 'age:30' '.age != null and (.age|tonumber) == 30'
qagree "range [a TO b}" 'stats.visits:[2 TO 10}' '.stats.visits>=2 and .stats.visits<10'
qagree "range {a TO *]" 'stats.visits:{50 TO *]' '.stats.visits>50'
qagree "comparison >=" 'age:>=40' '.age != null and (.age|tonumber) >= 40'
qagree "comparison <" 'stats.visits:<2' '.stats.visits<2'
qagree "date range with times" 'metadata.time.insert:[2025-06-01 TO 2025-07-01T00:00:00Z}' '.metadata.time.insert>="2025-06-01" and .metadata.time.insert<"2025-07-01T00:00:00Z"'
qagree "date comparison with a time" 'metadata.time.insert:>=2025-06-15T12:00:00Z' '.metadata.time.insert>="2025-06-15T12:00:00Z"'
qagree "_exists_" '_exists_:pii.telephone' '.pii.telephone != null'
qagree "field:*" 'pii.telephone:*' '.pii.telephone != null'
qagree "prefix" 'pii.email:j*' '(.pii.email // "") | startswith("j")'
qagree "OR" 'traits.public.plan:pro OR segments:vip' "$pro or $vip"
qagree "juxtaposition is OR" 'traits.public.plan:pro segments:vip' "$pro or $vip"
qagree "AND" 'traits.public.plan:pro AND segments:vip' "$pro and $vip"
qagree "&& and ||" 'traits.public.plan:pro && (segments:vip || segments:b2b)' "$pro and ($vip or ((.segments // []) | index(\"b2b\") != null))"
qagree "AND NOT" 'traits.public.plan:pro AND NOT segments:vip' "$pro and ($vip | not)"
qagree "+ and -" '+traits.public.plan:pro -segments:vip' "$pro and ($vip | not)"
qagree "NOT alone" 'NOT segments:vip' "$vip | not"
qagree "a OR b AND c is +b +c (Lucene)" 'traits.public.plan:team OR traits.public.plan:pro AND segments:vip' "$pro and $vip"
qagree "parentheses regroup it" 'traits.public.plan:team OR (traits.public.plan:pro AND segments:vip)' ".traits.public.plan==\"team\" or ($pro and $vip)"
qagree "field group" 'traits.public.plan:(pro OR team)' '.traits.public.plan=="pro" or .traits.public.plan=="team"'
qagree "default_operator=AND" 'traits.public.plan:pro segments:vip' "$pro and $vip" default_operator=AND
qagree "default_operator=OR" 'traits.public.plan:pro segments:vip' "$pro or $vip" default_operator=OR
qagree "df for bare values" 'pro OR team' '.traits.public.plan=="pro" or .traits.public.plan=="team"' df=traits.public.plan
qagree "_id" "_id:$id7" ".id==\"$id7\""
qagree "_id prefix" '_id:a*' '.id | startswith("a")'
qagree "*:*" '*:*' 'true'
qagree "*" '*' 'true'
same "q: the counts are not trivial" "$(( $(want "$pro") > 0 && $(want "$pro") < N && $(want "$pro and $vip") > 0 ))" 1

# URL encoding: one decoding, %XX and '+' as a space; a '+' operator is %2B
req GET '/profile/_count?q=traits.public.plan%3Apro%20AND%20segments%3Avip'
same "q %-encoded (%3A, %20)" "$(jget "$body" .count)" "$(want "$pro and $vip")"
req GET '/profile/_count?q=traits.public.plan:pro+AND+segments:vip'
same "q with + as spaces" "$(jget "$body" .count)" "$(want "$pro and $vip")"
req GET '/profile/_count?q=%2Btraits.public.plan:pro+-segments:vip'
same "q with %2B as the + operator" "$(jget "$body" .count)" "$(want "$pro and ($vip | not)")"
req GET '/profile/_count?q=pii.name:%22Zo%C3%AB%22'
same "q with %-encoded quotes and UTF-8" "$(jget "$body" .count)" "$(want '.pii.name=="Zoë"')"
req GET '/profile/_count?q=pii.name%3AZo%25'
same "q with %25 decoded once (no match for 'Zo%')" "$code/$(jget "$body" .count)" 200/0

# a bad %-escape in any URL parameter is a 400 (as ES answers a bad URI
# escape), never searched as the literal text
req GET '/small/_count?q=name:Ann'
same "q=name:Ann counts a1 (the baseline for the escapes below)" "$code/$(jget "$body" .count)" 200/1
req GET '/small/_search?q=name:%zz'
err_is "q: a bad %-escape" 400 illegal_argument_exception \
  "query parameter q [name:%zz] has a bad %-escape '%zz' at offset 5"
has "  says how to fix" "$(jget "$body" .error.reason)" "%-encode a literal '%' as %25"
req GET '/small/_count?q=name:Ann%4'
err_is "q on _count: a trailing '%4'" 400 illegal_argument_exception \
  "query parameter q [name:Ann%4] has a bad %-escape '%4' at offset 8"
req GET '/small/_search?q=name:Ann%'
err_is "q: a trailing '%'" 400 illegal_argument_exception "a bad %-escape '%' at offset 8"
req GET '/small/_search?q=name:%4g'
err_is "q: a bad second hex digit" 400 illegal_argument_exception "a bad %-escape '%4g' at offset 5"
req GET '/small/_search?q=name:A%00nn'
err_is "q: %00" 400 illegal_argument_exception "query parameter q [name:A%00nn] has %00 (a NUL byte) at offset 6"
req GET '/small/_search?q=name:Ann&sort=name%g1'
err_is "another parameter: sort=name%g1" 400 illegal_argument_exception \
  "query parameter sort [name%g1] has a bad %-escape '%g1' at offset 4"
req GET '/small/_search?df=na%zme&q=Ann'
err_is "df: a bad %-escape" 400 illegal_argument_exception "query parameter df [na%zme]"
req GET '/small/_search?q%zz=name:Ann'
err_is "a parameter name with a bad %-escape" 400 illegal_argument_exception \
  "query parameter name [q%zz] has a bad %-escape '%zz' at offset 1"
long=$(printf 'name:%0100d' 0)
req GET "/small/_search?q=$long%zz"
err_is "a long value is shown cut" 400 illegal_argument_exception "at offset 105"
has "  cut at 80 bytes" "$(jget "$body" .error.reason)" "[${long:0:80}...]"

# q with the other URL parameters, on _search
req GET '/profile/_search?q=segments:vip&size=3&from=1&sort=stats.visits:desc&_source=id'
same "q + size/from/sort/_source" "$(jget "$body" '"\(.hits.hits|length) \(.hits.total.value) \(.hits.hits[0]._source|keys|@csv)"')" "3 $(want "$vip") \"id\""
vals=$(jget "$body" '[.hits.hits[].sort[0]]|@csv')
same "  sorted descending" "$vals" "$(jget "$body" '[.hits.hits[].sort[0]]|sort|reverse|@csv')"
same "  every hit matches" "$(jget "$body" '[.hits.hits[]._id]|length')" 3
req GET '/profile/_search?q=segments:vip&_source=false&size=1'
same "q + _source=false" "$(jget "$body" '.hits.hits[0]|has("_source")')" false
req POST '/profile/_search?q=segments:vip' '{"size":2,"sort":["_id"]}'
same "q + a body without a query (its size and sort apply)" "$(jget "$body" '"\(.hits.hits|length) \(.hits.hits[0].sort|length)"')" "2 1"
req GET '/small/_search?q=name:Ann'
same "q on the small index" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a1"'
req GET '/_search?q=name:Ann+OR+name:bob'
same "/_search?q over every index" "$(jget "$body" '[.hits.hits[]._id]|sort|@csv')" '"a1","a2"'
req GET '/_all/_search?q=tags:red'
same "/_all/_search?q" "$(jget "$body" '[.hits.hits[]._id]|sort|@csv')" '"a1","a3"'
req GET '/_all/_count?q=age:>=30'
same "/_all/_count?q: numbers of both indices" "$(jget "$body" .count)" "$(( $(want '.age != null and (.age|tonumber) >= 30') + 2 ))"
req GET '/small/_search?q=vip:true'
same "q: a boolean matches true and \"true\"" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a1","a3"'
req GET '/small/_search?q=vip:false'
same "q: false" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a2"'
req GET '/small/_search?q=age:%3C=30'
same "q: <= on numbers" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"a1","a2"'
req GET '/small/_count?q=at:>=2024-01-15'
same "q: ISO date comparison" "$(jget "$body" .count)" 1

# q errors: 400 in ES's envelope, naming the offset and the fix
req GET '/profile/_search' "" -G --data-urlencode 'q=Ann'
err_is "q: bare value" 400 query_shard_exception "q: a field is required for 'Ann' at offset 0"
has "  says how to fix" "$(jget "$body" .error.reason)" "write field:value"
req GET '/profile/_search' "" -G --data-urlencode 'q=name:(a OR b))'
err_is "q: a stray ')'" 400 query_shard_exception "q: unexpected ')' at offset 13"
has "  shows the query" "$(jget "$body" .error.reason)" "Failed to parse query [name:(a OR b))]"
req GET '/profile/_count' "" -G --data-urlencode 'q=age:[1 TO 5'
err_is "q on _count: an open range" 400 query_shard_exception "the range opened at offset 4 is not closed"
req GET '/profile/_search' "" -G --data-urlencode 'q=name:an?'
err_is "q: a '?' wildcard" 400 query_shard_exception "the wildcard '?' at offset 7 is not supported"
req GET '/profile/_search' "" -G --data-urlencode 'q=name:"Ann'
err_is "q: an open quote" 400 query_shard_exception "the quoted value at offset 5 has no closing"
req GET '/profile/_search?q=' ''
err_is "q: empty" 400 query_shard_exception "the query is empty"
req POST '/profile/_search?q=name:Ann' '{"query":{"match_all":{}}}'
err_is "q and a body query" 400 illegal_argument_exception "use one"
req POST '/profile/_count?q=name:Ann' '{"query":{"match_all":{}}}'
err_is "q and a body query on _count" 400 illegal_argument_exception "were both given"
req GET '/profile/_search?q=name:Ann&default_operator=xor'
err_is "bad default_operator" 400 illegal_argument_exception "[default_operator] must be AND or OR, got [xor]"

# --- a tenant key's q search stays in its tenant ----------------------------
check "tenant acme" "$FERRY" tenant add acme
KA=$("$FERRY" tenant key create acme --json | jq -r .key)
AK=(-H "Authorization: Bearer $KA")
req GET /small "" "${AK[@]}"
same "a new tenant gets the index set (acme.small)" "$code" 200
req PUT /small/_doc/x1 '{"name":"Ann","tenant":"acme"}' "${AK[@]}"
same "acme writes an Ann" "$code" 201
req GET '/small/_search?q=name:Ann' "" "${AK[@]}"
same "tenant q search: its own index only" "$(jget "$body" '[.hits.hits[] | "\(._index)/\(._id)"]|@csv')" '"v0_8_1.acme.small/x1"'
req GET '/_search?q=name:Ann' "" "${AK[@]}"
same "tenant /_search?q: only its tenant" "$(jget "$body" '[.hits.hits[]._id]|@csv')" '"x1"'
req GET '/_all/_count?q=name:Ann' "" "${AK[@]}"
same "tenant /_all/_count?q" "$(jget "$body" .count)" 1
req GET '/default.small/_search?q=name:Ann' "" "${AK[@]}"
same "tenant q on another tenant's index -> refused" "$((code == 403 || code == 404))" 1
req GET '/_search?q=name:Ann'
same "no key: every tenant's index, both Anns" "$(jget "$body" '[.hits.hits[]._id]|sort|@csv')" '"a1","x1"'

srv_stop
finish
