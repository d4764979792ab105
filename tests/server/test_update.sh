#!/usr/bin/env bash
# test_update.sh - partial updates over real HTTP: POST /{index}/_update/{id}
# (merge into an existing document, noop, detect_noop, missing id,
# doc_as_upsert, upsert, refused scripts, malformed and unknown bodies,
# missing index, wrong methods), the `update` action of _bulk mixed with
# other actions and per-item errors, tenant scoping of both, and parallel
# clients merging distinct keys of one document without losing any.
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.7.1

"$FERRY" init --version 0.7.1 >/dev/null
"$FERRY" index create profile >/dev/null
check "tenant acme" "$FERRY" tenant add acme
"$FERRY" index list | grep -q "acme.profile" || "$FERRY" index create acme.profile >/dev/null
KA=$("$FERRY" tenant key create acme --json | jq -r .key)
A=(-H "Authorization: Bearer $KA")
srv_start || { bad "ferryd starts"; finish; exit 1; }
src() { req GET "/$1/_doc/$2" "" "${@:3}"; jget "$body" '._source | tojson'; }

# --- _update on an existing document -----------------------------------
req PUT /profile/_doc/p1 '{"name":"Ann","stats":{"visits":1,"tags":["a"]},"n":1}'
seq0=$(jget "$body" ._seq_no)
req POST /profile/_update/p1 '{"doc":{"stats":{"visits":2,"tags":["b","c"]},"vip":true}}'
same "_update existing -> 200 updated" "$code/$(jget "$body" .result)" 200/updated
same "  _index is physical, _id echoed" "$(jget "$body" '._index + " " + ._id')" "v0_7_1.default.profile p1"
seq1=$(jget "$body" ._seq_no)
[ "$seq1" -gt "$seq0" ] && ok "  _seq_no grows" || bad "  _seq_no grows" "$seq0 -> $seq1"
same "  _version is the seq" "$(jget "$body" ._version)" "$seq1"
same "  merged: objects key by key, arrays replaced, new keys appended" "$(src profile p1)" \
  '{"name":"Ann","stats":{"visits":2,"tags":["b","c"]},"n":1,"vip":true}'
req POST /profile/_update/p1 '{"doc":{"stats":{"tags":["b","c"]},"n":1}}'
same "an update that changes nothing -> 200 noop" "$code/$(jget "$body" .result)" 200/noop
same "  keeps the _seq_no" "$(jget "$body" ._seq_no)" "$seq1"
req POST /profile/_update/p1 '{"doc":{"n":1},"detect_noop":false}'
same "detect_noop:false writes anyway -> updated" "$(jget "$body" .result)" updated
[ "$(jget "$body" ._seq_no)" -gt "$seq1" ] && ok "  with a new _seq_no" || bad "  new _seq_no" "$body"
req POST /profile/_update/p1 '{"doc":{"stats":null,"name":null}}'
same "null replaces (objects too) and keeps the key" "$(src profile p1)" \
  '{"name":null,"stats":null,"n":1,"vip":true}'
req POST "/profile/_update/p1?refresh=true" '{"doc":{"name":"Ann"}}'
same "?refresh is accepted" "$code/$(jget "$body" .result)" 200/updated
req POST /v0_7_1.default.profile/_update/p1 '{"doc":{"via":"physical"}}'
same "_update through the physical name" "$code" 200
req POST /profile/_update/a%2Fb '{"doc":{"x":1},"doc_as_upsert":true}'
same "an id with an encoded slash" "$code/$(jget "$body" ._id)" "201/a/b"

# --- missing ids and upserts ---------------------------------------------
req POST /profile/_update/nobody '{"doc":{"a":1}}'
same "_update missing id -> 404" "$code" 404
same "  document_missing_exception" "$(jget "$body" .error.type)" document_missing_exception
same "  reason as in ES" "$(jget "$body" .error.reason)" "[nobody]: document missing"
req GET /profile/_doc/nobody
same "  nothing created" "$code" 404
req POST /profile/_update/u1 '{"doc":{"a":1,"o":{"b":2}},"doc_as_upsert":true}'
same "doc_as_upsert on a missing id -> 201 created" "$code/$(jget "$body" .result)" 201/created
same "  the doc is the document" "$(src profile u1)" '{"a":1,"o":{"b":2}}'
req POST /profile/_update/u1 '{"doc":{"o":{"c":3}},"doc_as_upsert":true}'
same "doc_as_upsert on an existing id merges -> 200" "$code/$(src profile u1)" '200/{"a":1,"o":{"b":2,"c":3}}'
req POST /profile/_update/u2 '{"doc":{"n":2},"upsert":{"n":1,"first":true}}'
same "upsert on a missing id -> 201, the upsert body" "$code/$(src profile u2)" '201/{"n":1,"first":true}'
req POST /profile/_update/u2 '{"doc":{"n":2},"upsert":{"n":1,"first":true}}'
same "  the same again merges doc -> 200" "$code/$(src profile u2)" '200/{"n":2,"first":true}'
req POST /profile/_update/u3 '{"upsert":{"only":1}}'
same "upsert without doc inserts" "$code/$(jget "$body" .result)" 201/created
req POST /profile/_update/u3 '{"upsert":{"only":2}}'
same "  and leaves an existing document alone (noop)" "$code/$(jget "$body" .result)/$(src profile u3)" '200/noop/{"only":1}'

# --- refused requests ------------------------------------------------------
req POST /profile/_update/p1 '{"script":{"source":"ctx._source.n += 1"}}'
same "script -> 400" "$code/$(jget "$body" .error.type)" 400/illegal_argument_exception
has "  says scripts are not supported" "$(jget "$body" .error.reason)" "scripts are not supported"
has "  and to send doc" "$(jget "$body" .error.reason)" '{"doc":{'
req POST /profile/_update/p1 '{"doc":{"n":5,}}'
same "malformed body -> 400 parse_exception" "$code/$(jget "$body" .error.type)" 400/parse_exception
has "  names the byte" "$(jget "$body" .error.reason)" "byte 14"
req POST /profile/_update/p1 '{"doc":{"n":5},"retry":3}'
same "unknown field -> 400" "$code" 400
has "  names it" "$(jget "$body" .error.reason)" "unknown field [retry]"
req POST /profile/_update/p1 '{"doc":"n=5"}'
same "doc that is not an object -> 400" "$code" 400
has "  says so" "$(jget "$body" .error.reason)" '"doc" must be a JSON object, not a string'
req POST /profile/_update/p1 '{"detect_noop":"yes","doc":{}}'
same "detect_noop not a boolean -> 400" "$code" 400
req POST /profile/_update/p1 '{"doc_as_upsert":true}'
same "doc_as_upsert without doc -> 400" "$code" 400
req POST /profile/_update/p1 '[1]'
same "a body that is not an object -> 400" "$code" 400
req POST /profile/_update/p1 ''
same "empty body -> 400" "$code" 400
has "  says what to send" "$(jget "$body" .error.reason)" '{"doc":{...}}'
same "  p1 unchanged by all of that" "$(src profile p1)" '{"name":"Ann","stats":null,"n":1,"vip":true,"via":"physical"}'
req POST /nope/_update/p1 '{"doc":{}}'
same "_update on a missing index -> 404 index_not_found" "$code/$(jget "$body" .error.type)" 404/index_not_found_exception
req PUT /profile/_update/p1 '{"doc":{}}'
same "PUT _update -> 405" "$code" 405
req GET /profile/_update/p1
same "GET _update -> 405" "$code" 405
req POST "/profile/_update/*" '{"doc":{}}'
same "an id '*' is just an id (missing)" "$code" 404
req POST "/pro*/_update/p1" '{"doc":{}}'
same "an index pattern -> 400" "$code" 400

# --- bulk ------------------------------------------------------------------
bulk=$'{"update":{"_index":"profile","_id":"p1"}}\n{"doc":{"n":10}}\n'
bulk+=$'{"update":{"_index":"profile","_id":"ghost"}}\n{"doc":{"n":1}}\n'
bulk+=$'{"update":{"_index":"profile","_id":"b1"}}\n{"doc":{"k":1},"doc_as_upsert":true}\n'
bulk+=$'{"update":{"_index":"profile"}}\n{"doc":{"k":1}}\n'
bulk+=$'{"update":{"_index":"profile","_id":"p1"}}\n{"script":"ctx._source.n++"}\n'
bulk+=$'{"update":{"_index":"profile","_id":"p1"}}\n{"doc":{"n":\n'
bulk+=$'{"index":{"_index":"profile","_id":"b2"}}\n{"k":2}\n'
bulk+=$'{"update":{"_index":"profile","_id":"b2"}}\n{"doc":{"j":3}}\n'
bulk+=$'{"update":{"_index":"profile","_id":"b2"}}\n{"doc":{"j":3}}\n'
bulk+=$'{"update":{"_index":"nope","_id":"b2"}}\n{"doc":{"j":3}}\n'
bulk+=$'{"delete":{"_index":"profile","_id":"b1"}}\n'
bulk+=$'{"update":{"_index":"profile","_id":"b1"}}\n{"upsert":{"again":true}}\n'
req POST /_bulk "$bulk" -H 'Content-Type: application/x-ndjson'
same "bulk with update items -> 200" "$code" 200
same "  errors:true" "$(jget "$body" .errors)" true
same "  per-item statuses" "$(jget "$body" '[.items[] | to_entries[0].value.status] | map(tostring) | join(",")')" \
  "200,404,201,400,400,400,201,200,200,404,200,201"
same "  per-item actions" "$(jget "$body" '[.items[] | keys[0]] | join(",")')" \
  "update,update,update,update,update,update,index,update,update,update,delete,update"
same "  results" "$(jget "$body" '[.items[] | to_entries[0].value.result // "-"] | join(",")')" \
  "updated,-,created,-,-,-,created,updated,noop,-,deleted,created"
same "  missing id: document_missing_exception" "$(jget "$body" '.items[1].update.error.type + ": " + .items[1].update.error.reason')" \
  "document_missing_exception: [ghost]: document missing"
has "  update without _id: says it needs one" "$(jget "$body" '.items[3].update.error.reason')" '"_id"'
has "  script: refused with a reason" "$(jget "$body" '.items[4].update.error.reason')" "scripts are not supported"
same "  malformed source line: parse error" "$(jget "$body" '.items[5].update.error.type')" parse_exception
same "  missing index: index_not_found" "$(jget "$body" '.items[9].update.error.type')" index_not_found_exception
same "  p1 merged" "$(src profile p1 | jq -c .n)" 10
same "  b2: index then update in one bulk" "$(src profile b2)" '{"k":2,"j":3}'
same "  b1: upserted, deleted, upserted again" "$(src profile b1)" '{"again":true}'
req POST /profile/_bulk $'{"update":{"_id":"p1"}}\n{"doc":{"n":11}}\n'
same "/{index}/_bulk update uses the URL's index" "$(jget "$body" '.items[0].update.status')/$(src profile p1 | jq -c .n)" 200/11
req POST /_bulk $'{"update":{"_index":"profile","_id":"p1"}}\n'
same "an update without its source line -> 400 for the whole request" "$code" 400

# --- tenants -----------------------------------------------------------------
req POST /profile/_update/t1 '{"doc":{"who":"acme"},"doc_as_upsert":true}' "${A[@]}"
same "tenant key: _update on a logical name lands in its tenant" "$code/$(jget "$body" ._index)" 201/v0_7_1.acme.profile
req GET /profile/_doc/t1
same "  not in default" "$code" 404
req POST /default.profile/_update/p1 '{"doc":{"n":666}}' "${A[@]}"
same "tenant key: _update of another tenant's alias -> 403" "$code" 403
req POST /v0_7_1.default.profile/_update/p1 '{"doc":{"n":666}}' "${A[@]}"
same "tenant key: ... or physical name -> 403" "$code" 403
req POST /_bulk $'{"update":{"_index":"default.profile","_id":"p1"}}\n{"doc":{"n":666}}\n{"update":{"_index":"profile","_id":"t1"}}\n{"doc":{"n":1}}\n' "${A[@]}"
same "tenant key bulk: other tenant's item 403, own item 200" "$(jget "$body" '[.items[].update.status] | map(tostring) | join(",")')" "403,200"
same "  p1 untouched" "$(src profile p1 | jq -c .n)" 11
same "  t1 merged in acme" "$(src acme.profile t1)" '{"who":"acme","n":1}'

# --- parallel clients lose no update ------------------------------------------
# N clients each merge their own counter key into one document, M times, half
# of them through _update and half through _bulk: every last value must be
# there, and every merge was a write (N*M new sequence numbers).
N=8 M=25
req PUT /profile/_doc/shared '{"base":true}'
s0=$(jget "$body" ._seq_no)
pids=()
for c in $(seq 1 $N); do
  ( for i in $(seq 1 $M); do
      if [ $((c % 2)) -eq 0 ]; then
        out=$(curl -s -XPOST -H 'Content-Type: application/json' \
          --data-binary "{\"doc\":{\"c$c\":$i}}" "$URL/profile/_update/shared")
        [ "$(jget "$out" .result)" = updated ] || echo "c$c/$i: $out" >> "$TMP/par.err"
      else
        out=$(printf '{"update":{"_index":"profile","_id":"shared"}}\n{"doc":{"c%d":%d}}\n' "$c" "$i" |
          curl -s -XPOST -H 'Content-Type: application/x-ndjson' --data-binary @- "$URL/_bulk")
        [ "$(jget "$out" '.items[0].update.result')" = updated ] || echo "c$c/$i: $out" >> "$TMP/par.err"
      fi
    done ) &
  pids+=($!)
done
wait "${pids[@]}"
[ -s "$TMP/par.err" ] && bad "every parallel update acknowledged as updated" "$(head -3 "$TMP/par.err")" ||
  ok "$((N * M)) parallel updates all acknowledged as updated"
want='{"base":true'
for c in $(seq 1 $N); do want+=",\"c$c\":$M"; done
want+='}'
same "  no update lost: every client's last value is there" "$(src profile shared | jq -c 'to_entries | sort_by(.key) | from_entries')" \
  "$(printf '%s' "$want" | jq -c 'to_entries | sort_by(.key) | from_entries')"
req GET /profile/_doc/shared
same "  each merge was one write" "$(jget "$body" ._seq_no)" "$((s0 + N * M))"

srv_stop
same "SIGTERM -> exit 0" "$SRV_RC" 0
finish
