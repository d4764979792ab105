#!/usr/bin/env bash
# test_docs.sh - the document API of a real ferryd over real HTTP:
# indices, documents, bulk, aliases, _cat; bad input (malformed JSON,
# oversized bodies, unknown routes, wrong methods, bad paths); the auth
# matrix; start-up with FERRY_RELEASE; SIGTERM in the middle of a bulk
# request and kill -9 between bulks (nothing acknowledged is lost).
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.7.1
AUTH=(-H "Authorization: Bearer $FERRY_ADMIN_KEY")
count() { jget "$(curl -s "$URL/_cat/indices?format=json")" \
  "map(select(.alias==\"default.$1\"))[0][\"docs.count\"]"; }

srv_start || { bad "ferryd starts"; finish; exit 1; }
ok "ferryd starts on a fresh data dir and initialises it at 0.7.1"
has "start-up log says it initialised" "$(cat "$TMP/ferryd.log")" "initialised"
# a worker waits out its request's group commit and holds up the other
# connections it owns, so the default pool is 8 workers a core, at least 16
cores=$(getconf _NPROCESSORS_ONLN)
want=$((cores > 2 ? 8 * cores : 16))
has "default worker pool: $want for $cores cores" "$(cat "$TMP/ferryd.log")" \
  ", $want threads,"

# --- indices ---------------------------------------------------------
req GET /_mapping
same "GET /_mapping with no index: {}" "$code $body" "200 {}"
req PUT /profile '{"mappings":{"properties":{"name":{"type":"keyword"}}}}'
same "PUT index -> 200" "$code" 200
same "PUT index names the physical index" "$(jget "$body" .index)" "v0_7_1.default.profile"
req PUT /profile '{}'
same "PUT existing index -> 400" "$code" 400
same "  ES type" "$(jget "$body" .error.type)" resource_already_exists_exception
req PUT /Bad.Name '{}'
same "PUT bad index name -> 400" "$code" 400
req GET /profile
same "GET index -> 200" "$code" 200
same "  mappings kept" "$(jget "$body" '.["v0_7_1.default.profile"].mappings.properties.name.type')" keyword
same "  alias listed" "$(jget "$body" '.["v0_7_1.default.profile"].aliases | keys[0]')" default.profile
req GET /profile/_mapping
same "GET _mapping: the mappings as created" "$(jget "$body" '.["v0_7_1.default.profile"].mappings.properties.name.type')" keyword
same "  and nothing else" "$(jget "$body" '.["v0_7_1.default.profile"] | keys | join(",")')" mappings
req GET /_mapping
same "GET /_mapping lists every index" "$(jget "$body" 'keys | join(",")')" v0_7_1.default.profile
req GET /nope/_mapping
same "GET _mapping of a missing index -> 404" "$code/$(jget "$body" .error.type)" 404/index_not_found_exception
req GET /_cluster/health
same "GET /_cluster/health" "$code $(jget "$body" '"\(.status) \(.number_of_nodes) \(.active_primary_shards)"')" "200 green 1 1"
req HEAD /profile "" -I
same "HEAD index -> 200" "$code" 200
req GET /nope
same "GET missing index -> 404" "$code" 404
same "  ES type" "$(jget "$body" .error.type)" index_not_found_exception
same "  status in body" "$(jget "$body" .status)" 404

# --- documents -------------------------------------------------------
req PUT /profile/_doc/p1 '{"name":"Ann","n":1}'
same "PUT doc -> 201 created" "$code/$(jget "$body" .result)" 201/created
seq1=$(jget "$body" ._seq_no)
req PUT /profile/_doc/p1 '{"name":"Ann","n":2}'
same "PUT again -> 200 updated" "$code/$(jget "$body" .result)" 200/updated
[ "$(jget "$body" ._seq_no)" -gt "$seq1" ] && ok "  _seq_no grows" || bad "  _seq_no grows" "$body"
req PUT /profile/_doc/p1 '{"name":"Ann","n":2}'
same "identical PUT -> noop" "$(jget "$body" .result)" noop
req PUT "/profile/_doc/p1?op_type=create" '{"name":"X"}'
same "op_type=create on existing id -> 409" "$code" 409
same "  ES type" "$(jget "$body" .error.type)" version_conflict_engine_exception
req PUT /profile/_create/p1 '{"name":"X"}'
same "_create on existing id -> 409" "$code" 409
req PUT /profile/_create/p2 '{"name":"Bo"}'
same "_create on new id -> 201" "$code" 201
req POST /profile/_doc '{"name":"Gen"}'
same "POST _doc -> 201" "$code" 201
gid=$(jget "$body" ._id)
[ ${#gid} -eq 20 ] && ok "  generated id has 20 characters" || bad "  generated id" "$gid"
req GET "/profile/_doc/$gid"
same "  generated doc reads back" "$(jget "$body" ._source.name)" Gen
req GET /profile/_doc/p1
same "GET doc found" "$(jget "$body" .found)/$(jget "$body" ._source.n)" true/2
same "  _index is physical" "$(jget "$body" ._index)" v0_7_1.default.profile
req GET /v0_7_1.default.profile/_doc/p1
same "GET doc by physical name" "$(jget "$body" ._source.name)" Ann
compact=$body
req GET "/profile/_doc/p1?pretty"
same "GET ?pretty -> 200" "$code" 200
has "  ?pretty indents, ES-style" "$body" $'{\n  "_index" : "v0_7_1.default.profile",\n'
has "  ?pretty nests" "$body" $'  "_source" : {\n    "name" : "Ann",\n    "n" : 2\n  }\n}'
same "  ?pretty is the same document" "$(jq -cS . <<<"$body")" "$(jq -cS . <<<"$compact")"
req GET "/profile/_doc/p1?pretty=false"
same "  ?pretty=false stays compact" "$body" "$compact"
req GET "/nope/_doc/p1?pretty"
has "  ?pretty on an error" "$body" $'  "status" : 404\n}'
req GET "/_cat/indices?pretty"
case "$body" in *'" : '*) bad "  _cat (text) is not re-indented" "$body" ;; *) ok "  _cat (text) is not re-indented" ;; esac
# _mget: one entry per id, in order; per-document errors fail only that one
req POST /profile/_mget '{"ids":["p1","missing","p1"]}'
same "_mget ids -> 200" "$code" 200
same "  found, not found, found again, in order" \
  "$(jget "$body" '[.docs[] | "\(._id)=\(.found)"] | join(",")')" "p1=true,missing=false,p1=true"
same "  found has GET's shape" "$(jget "$body" '.docs[0] | "\(._index) \(._source.name) \(._seq_no == ._version)"')" \
  "v0_7_1.default.profile Ann true"
req POST /_mget '{"docs":[{"_index":"profile","_id":"p1","_source":false},{"_index":"nope","_id":"p1"},{"_index":"Bad","_id":"p1"},{"_index":"profile","_id":"p1"}]}'
same "_mget docs -> 200 with per-doc errors" "$code" 200
same "  _source:false leaves the body out" "$(jget "$body" '.docs[0] | "\(.found) \(has("_source"))"')" "true false"
same "  a missing index is that doc's error" "$(jget "$body" '.docs[1] | "\(._index) \(.error.type)"')" "nope index_not_found_exception"
has "  a bad name says why" "$(jget "$body" '.docs[2].error.reason')" "uppercase"
same "  the others still come" "$(jget "$body" '.docs[3]._source.name')" Ann
req GET "/profile/_mget?_source=false" '{"ids":["p1"]}'
same "_mget ?_source=false" "$(jget "$body" '.docs[0] | has("_source")')" false
req POST /_mget '{"ids":["p1"]}'
same "_mget ids without an index -> 400" "$code/$(jget "$body" .error.type)" 400/action_request_validation_exception
has "  says which doc" "$(jget "$body" .error.reason)" "index is missing for doc 0"
for b in '{}' '{"docs":[]}' '{"ids":[""]}' '{"ids":[{}]}' '{"docs":[{"_id":"p1","routing":"r"}]}' '{"idz":[]}' '[1]' '{"ids":"p1"}'; do
  req POST /profile/_mget "$b"
  same "_mget $b -> 400" "$code" 400
done
big=$(jq -nc '{ids: [range(10001) | tostring]}')
req POST /profile/_mget "$big"
same "_mget of 10001 ids -> 400" "$code" 400
has "  names the limit" "$(jget "$body" .error.reason)" "at most 10000"
req GET /profile/_source/p1
same "GET _source returns the body only" "$(jget "$body" .name)" Ann
req GET /profile/_doc/missing
same "GET missing doc -> 404 found:false" "$code/$(jget "$body" .found)" 404/false
req GET /nope/_doc/p1
same "GET doc of missing index -> 404 index_not_found" "$code/$(jget "$body" .error.type)" 404/index_not_found_exception
req PUT /profile/_doc/a%2Fb%20c '{"slash":true}'
same "id with an encoded slash and space -> 201" "$code" 201
req GET /profile/_doc/a%2Fb%20c
same "  reads back under the decoded id" "$(jget "$body" ._id)" "a/b c"
req PUT /profile/_doc/%C3%A9t%C3%A9 '{"u":1}'
req GET /profile/_doc/%C3%A9t%C3%A9
same "UTF-8 id round trip" "$(jget "$body" ._id)" "été"
req PUT /profile/_doc/bad '{"name": "x",}'
same "malformed JSON body -> 400" "$code" 400
same "  parse_exception" "$(jget "$body" .error.type)" parse_exception
has "  reason names the byte" "$(jget "$body" .error.reason)" "byte 13"
req GET /profile/_doc/bad
same "  nothing was written" "$code" 404
req PUT /profile/_doc/empty ''
same "PUT without a body -> 400" "$code" 400
req PUT /profile/_doc/arr '[1,2]'
same "a body that is not an object -> 400" "$code" 400
req DELETE /profile/_doc/p2
same "DELETE doc -> 200 deleted" "$code/$(jget "$body" .result)" 200/deleted
req DELETE /profile/_doc/p2
same "DELETE again -> 404 not_found" "$code/$(jget "$body" .result)" 404/not_found

# --- bulk ------------------------------------------------------------
before=$(count profile)
bulk=$'{"index":{"_index":"profile","_id":"b1"}}\n{"k":1}\n{"create":{"_index":"profile","_id":"p1"}}\n{"k":1}\n'
bulk+=$'{"delete":{"_index":"profile","_id":"zz"}}\n{"index":{"_index":"nope","_id":"x"}}\n{"k":2}\n'
bulk+=$'{"update":{"_index":"profile","_id":"b1"}}\n{"doc":{}}\n{"index":{"_index":"profile","_id":"b2"}}\n{bad\n'
bulk+=$'{"create":{"_id":"b3","_index":"profile"}}\n{"k":3}\n{"delete":{"_index":"profile","_id":"b1"}}\n'
req POST /_bulk "$bulk" -H 'Content-Type: application/x-ndjson'
same "bulk -> 200" "$code" 200
same "  errors:true" "$(jget "$body" .errors)" true
same "  per-item statuses" "$(jget "$body" '[.items[] | to_entries[0].value.status] | map(tostring) | join(",")')" "201,409,404,404,200,400,201,200"
same "  an empty update of b1 (written just before) is a noop" "$(jget "$body" '.items[4].update.result')" noop
same "  per-item actions" "$(jget "$body" '[.items[] | keys[0]] | join(",")')" "index,create,delete,index,update,index,create,delete"
same "  ids echoed" "$(jget "$body" '[.items[] | to_entries[0].value._id] | join(",")')" "b1,p1,zz,x,b1,b2,b3,b1"
same "  409 is a version conflict" "$(jget "$body" '.items[1].create.error.type')" version_conflict_engine_exception
same "  delete of a missing id is not_found, not an error" "$(jget "$body" '.items[2].delete | has("error")')" false
same "  the bad source line is a per-item parse error" "$(jget "$body" '.items[5].index.error.type')" mapper_parsing_exception
same "  docs: +b3 only (b1 written then deleted in the same bulk)" "$(count profile)" "$((before + 1))"
req POST /profile/_bulk $'{"index":{"_id":"d1"}}\n{"k":1}\n{"index":{}}\n{"k":2}\n'
same "/{index}/_bulk uses the URL's index" "$(jget "$body" '[.items[].index.status] | map(tostring) | join(",")')" "201,201"
before=$(count profile)
req POST /_bulk $'{"index":{"_index":"profile","_id":"m1"}}\n{"k":1}\n"just a string"\n{"k":1}\n'
same "malformed action line -> 400 for the whole request" "$code" 400
has "  names the line" "$(jget "$body" .error.reason)" "line [3]"
same "  nothing written" "$(count profile)" "$before"
req POST /_bulk $'{"index":{"_index":"profile","_id":"m2"}}\n'
same "action without its source line -> 400" "$code" 400
same "  nothing written" "$(count profile)" "$before"
req POST /_bulk $'{"frobnicate":{"_index":"profile"}}\n{}\n'
same "unknown action -> 400" "$code/$(jget "$body" .error.type)" 400/illegal_argument_exception
req POST /_bulk ''
same "empty bulk -> 400" "$code" 400

# --- aliases, _cat, refresh -----------------------------------------
req PUT /v0_7_1.default.events '{}'
req POST /_aliases '{"actions":[{"add":{"index":"v0_7_1.default.events","alias":"default.ev2"}}]}'
same "POST /_aliases without the admin key -> 401" "$code" 401
areq POST /_aliases '{"actions":[{"add":{"index":"v0_7_1.default.events","alias":"default.ev2"}}]}'
same "POST /_aliases add -> 200" "$code/$(jget "$body" .acknowledged)" 200/true
req PUT /ev2/_doc/e1 '{"t":1}'
same "  writes through the new alias" "$code" 201
areq POST /_aliases '{"actions":[{"remove":{"index":"v0_7_1.default.events","alias":"default.ev2"}},{"add":{"index":"nope","alias":"default.x"}}]}'
[ "$code" -ge 400 ] && ok "  a failing action fails the whole call ($code)" || bad "  failing action" "$body"
req GET /ev2/_doc/e1
same "  ... and the remove in it did not apply" "$code" 200
areq POST /_aliases '{"actions":[{"move":{}}]}'
same "unknown alias action -> 400" "$code" 400
req GET /_aliases
same "GET /_aliases lists aliases" "$(jget "$body" '.["v0_7_1.default.profile"].aliases | keys[0]')" default.profile
req GET "/_cat/indices?format=json"
same "_cat/indices json lists both indices" "$(jget "$body" 'length')" 2
req GET "/_cat/indices/*profile*?format=json"
same "_cat/indices with a pattern" "$(jget "$body" '.[0].index')" v0_7_1.default.profile
req GET "/_cat/indices/profile?format=json"
same "_cat/indices with a logical name" "$(jget "$body" '.[0].index')" v0_7_1.default.profile
req GET "/_cat/indices?v"
has "_cat/indices text has a header" "$body" "docs.count"
req POST /profile/_refresh
same "_refresh -> 200" "$code" 200

# --- routes, methods, paths, sizes ----------------------------------
req GET /a/b/c/d
same "unknown route -> 400 no handler" "$code/$(jget "$body" .error.type)" 400/illegal_argument_exception
has "  reason names the uri" "$(jget "$body" .error.reason)" "no handler found for uri [/a/b/c/d]"
allow=$(curl -s -o /dev/null -D - -X GET "$URL/_bulk" | tr -d '\r' | grep -i '^allow:')
req GET /_bulk
same "wrong method -> 405" "$code/$(jget "$body" .error.type)" 405/method_not_allowed_exception
has "  Allow header" "$allow" "POST, PUT"
req PATCH /profile
same "unsupported method -> 405" "$code" 405
areq GET /migration/rollback
same "a literal route under another method is a 405, not /migration/{from}" "$code" 405
req GET /profile/_doc/%zz
same "bad %-escape -> 400" "$code" 400
req GET /profile/_doc/%00x
same "%00 in a path -> 400" "$code" 400
code=$(curl -s -o "$TMP/trav" -w '%{http_code}' --path-as-is "$URL/ui/../../etc/passwd")
[ "$code" = 400 ] && ! grep -q root: "$TMP/trav" && ok "'..' in a path -> 400" || bad "path traversal" "$code"
code=$(curl -s -o "$TMP/trav" -w '%{http_code}' "$URL/ui/..%2F..%2Fetc%2Fpasswd")
! grep -q root: "$TMP/trav" && [ "$code" -ge 400 ] && ok "encoded traversal -> $code, no file" || bad "encoded traversal" "$code"
long=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" "$URL/profile")
[ "$code" -ge 400 ] && ok "40 KB header refused ($code)" || bad "long header" "$code"

# --- auth matrix ----------------------------------------------------
req DELETE /v0_7_1.default.events
same "DELETE index without key -> 401" "$code" 401
wa=$(curl -s -o /dev/null -D - -X DELETE "$URL/v0_7_1.default.events" | tr -d '\r' | grep -i '^www-authenticate:')
has "  WWW-Authenticate: Bearer" "$wa" "Bearer"
req DELETE /v0_7_1.default.events "" -H "Authorization: Bearer wrong-key-wrong-key"
same "DELETE index with a wrong key -> 401" "$code" 401
req DELETE /v0_7_1.default.events "" -H "Authorization: Basic Zm9vOmJhcg=="
same "Basic auth -> 401 naming Bearer" "$code" 401
has "  reason" "$(jget "$body" .error.reason)" "Bearer"
req GET /profile/_doc/p1 "" -H "Authorization: Bearer wrong-key-wrong-key"
same "data route with a wrong key -> 401 (never ignored)" "$code" 401
req GET /profile/_doc/p1
same "data route without a key -> 200 (single-tenant)" "$code" 200
areq DELETE /profile
same "DELETE an index through its active alias -> 403 without force" "$code" 403
areq DELETE /v0_7_1.default.events
same "DELETE index with the admin key -> 200" "$code" 200
req GET /v0_7_1.default.events
same "  it is gone" "$code" 404
srv_stop
same "SIGTERM -> exit 0" "$SRV_RC" 0
has "  says it stopped" "$(cat "$TMP/ferryd.log")" "ferryd: stopped"

# --- limits and a server without an admin key -----------------------
FERRY_MAX_BODY=65536 FERRY_ADMIN_KEY= srv_start || bad "restart"
big=$(head -c 100000 /dev/zero | tr '\0' a)
req PUT /profile/_doc/big "{\"a\":\"$big\"}"
same "body over FERRY_MAX_BODY -> 413" "$code/$(jget "$body" .error.type)" 413/request_entity_too_large_exception
req PUT /profile/_doc/big "{\"a\":\"$big\"}" -H "Transfer-Encoding: chunked"
same "chunked body over the limit -> 413" "$code" 413
req GET /profile/_doc/big
same "  nothing written" "$code" 404
req GET /info/version
same "maintenance route without FERRY_ADMIN_KEY configured -> 403" "$code" 403
has "  says how to turn it on" "$(jget "$body" .error.reason)" "FERRY_ADMIN_KEY"
srv_stop

# --- start-up and FERRY_RELEASE --------------------------------------
FERRY_RELEASE=0.7.1.5 srv_start || bad "restart at 0.7.1.5"
srv_stop
has "minor release is recorded" "$("$FERRY" versions 2>&1)" "0.7.1.5"
FERRY_RELEASE=0.8.1 srv_start || bad "restart at 0.8.1"
has "newer data version: upgrade pending in the log" "$(cat "$TMP/ferryd.log")" "major upgrade pending"
req GET /profile/_doc/p1
same "  the old data is still served" "$code" 200
srv_stop
FERRY_LISTEN=127.0.0.1:1 FERRY_RELEASE=0.7.0 "$FERRYD" >/dev/null 2>"$TMP/down.log"
same "older data version: refuses to start" "$?" 1
has "  naming both versions" "$(cat "$TMP/down.log")" "0.7.0 is older than the data"
FERRY_DATA=$TMP/empty FERRY_RELEASE= "$FERRYD" >/dev/null 2>"$TMP/empty.log"
same "uninitialised dir without FERRY_RELEASE: refuses" "$?" 1
has "  says what to do" "$(cat "$TMP/empty.log")" "set FERRY_RELEASE"
FERRY_LISTEN=nonsense "$FERRYD" >/dev/null 2>"$TMP/listen.log"
same "bad FERRY_LISTEN -> exit 2" "$?" 2
FERRY_ADMIN_KEY=short "$FERRYD" >/dev/null 2>"$TMP/key.log"
same "an admin key under 16 characters is refused" "$?" 1
"$FERRYD" --help | grep -q FERRY_ADMIN_KEY && ok "ferryd --help lists the environment" || bad "--help"

# --- SIGTERM in the middle of a bulk request -------------------------
srv_start || bad "restart"
"$GEN" --count 20000 --format bulk > "$TMP/bulk.ndjson"
before=$(count profile)
curl -s -o "$TMP/bulk.out" -w '%{http_code}' --limit-rate 2M -H 'Content-Type: application/x-ndjson' \
  --data-binary @"$TMP/bulk.ndjson" "$URL/_bulk" > "$TMP/bulk.code" &
cpid=$!
sleep 1
kill -TERM "$SRV_PID"
wait "$cpid"
srv_stop
same "  the in-flight bulk was answered 200" "$(cat "$TMP/bulk.code")" 200
same "  with no item errors" "$(jq -r .errors "$TMP/bulk.out")" false
same "  ferryd exited 0" "$SRV_RC" 0
srv_start || bad "restart"
same "SIGTERM mid-bulk: every acknowledged document is there" "$(count profile)" "$((before + 20000))"

# --- concurrent bulks share group commits, each keeps its own results --
before=$(count profile)
gp=()
for i in 1 2 3 4 5 6 7 8; do
  sed -n "$(( (i - 1) * 1000 + 1 )),$(( i * 1000 ))p" "$TMP/bulk.ndjson" |
    sed "s/\"_id\":\"/\"_id\":\"g$i-/" > "$TMP/g$i.ndjson"
  printf '{"create":{"_index":"profile","_id":"p1"}}\n{"dup":true}\n' >> "$TMP/g$i.ndjson"
done
for i in 1 2 3 4 5 6 7 8; do
  curl -s -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/g$i.ndjson" \
    "$URL/_bulk" > "$TMP/g$i.out" &
  gp+=($!)
done
wait "${gp[@]}"
res=""
for i in 1 2 3 4 5 6 7 8; do
  res+=$(jq -r '[.items[] | to_entries[0].value.status] | group_by(.) | map("\(.[0])x\(length)") | join(" ")' "$TMP/g$i.out")";"
done
same "8 concurrent bulks: each 500 created + its own 409" "$res" "$(printf '201x500 409x1;%.0s' 1 2 3 4 5 6 7 8)"
same "  and all 4000 documents are there" "$(count profile)" "$((before + 4000))"

# --- kill -9 between and during bulks --------------------------------
split -l 2000 "$TMP/bulk.ndjson" "$TMP/part."
for f in "$TMP"/part.*; do sed -i 's/"_id":"/"_id":"k9-/' "$f"; done
before=$(count profile)
( for f in "$TMP"/part.*; do
    c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
      --data-binary @"$f" "$URL/_bulk")
    [ "$c" = 200 ] && echo ok >> "$TMP/acked"
  done ) &
lpid=$!
sleep 0.$((RANDOM % 5 + 2))
srv_stop KILL
wait "$lpid" 2>/dev/null
acked=$(wc -l < "$TMP/acked" 2>/dev/null || echo 0)
srv_start || bad "restart after kill -9"
got=$(( $(count profile) - before ))
if [ "$got" -eq $((acked * 1000)) ] || [ "$got" -eq $(((acked + 1) * 1000)) ]; then
  ok "kill -9: $acked acknowledged bulks all there, no partial bulk ($got docs)"
else
  bad "kill -9 mid-bulk" "acked $acked bulks, found $got docs"
fi
srv_stop
finish
