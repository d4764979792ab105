#!/usr/bin/env bash
# test_delete_by_query.sh - POST /{index}/_delete_by_query on a real ferryd
# over real HTTP, on generated CDP profiles loaded through /_bulk. What is
# deleted is checked against jq over the same NDJSON: exactly the matching
# ids go, every other id stays. Then max_docs, q=, the error replies, a
# tenant key, and kill -9 in the middle of a run: nothing that does not
# match is ever lost, and running it again finishes the job.
#
#   B=build bash tests/server/test_delete_by_query.sh      (or B=build-san)
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
export FERRY_RELEASE=0.8.1
N=${DBQ_DOCS:-20000}
P=$TMP/p.ndjson
Q='{"range":{"stats.visits":{"lt":30}}}'
JQ='.stats.visits < 30'

srv_start || { bad "ferryd starts"; finish; exit 1; }

# ids of the NDJSON that satisfy / do not satisfy the jq condition
ids_where() { jq -r "select($1) | .id" "$P" | LC_ALL=C sort; }
ids_left() { "$FERRY" export "$1" 2>/dev/null | jq -r .id | LC_ALL=C sort; }
load() { # load INDEX: N profiles through /_bulk
  req PUT "/$1" '{}'
  "$GEN" --type profile --count "$N" --format bulk --index "$1" >"$TMP/p.bulk"
  req POST /_bulk "@$TMP/p.bulk" -H 'Content-Type: application/x-ndjson'
  same "bulk load $N profiles into $1" "$code/$(jget "$body" .errors)" 200/false
}

# --- exactly the matches go ---------------------------------------------
"$GEN" --type profile --count "$N" >"$P"
ids_where "$JQ" >"$TMP/match"
ids_where "($JQ) | not" >"$TMP/keep"
M=$(wc -l <"$TMP/match")
[ "$M" -gt 0 ] && [ "$M" -lt "$N" ] && ok "the query matches some ($M of $N)" ||
  bad "the query matches some" "$M of $N"
load profile
req POST /profile/_delete_by_query "{\"query\":$Q}"
same "_delete_by_query -> 200" "$code" 200
same "  total and deleted = jq's matches" "$(jget "$body" '"\(.total) \(.deleted) \(.failures | length)"')" "$M $M 0"
same "  in batches of 1000" "$(jget "$body" .batches)" $(((M + 999) / 1000))
req GET /profile/_count
same "  count after" "$(jget "$body" .count)" $((N - M))
ids_left profile >"$TMP/left"
if cmp -s "$TMP/left" "$TMP/keep"; then ok "  every id that does not match is still there, and only those"
else bad "  the ids left are jq's non-matches" "$(diff "$TMP/left" "$TMP/keep" | head -5)"; fi
req POST /profile/_delete_by_query "{\"query\":$Q}"
same "again: nothing left to delete" "$code $(jget "$body" '"\(.total) \(.deleted)"')" "200 0 0"

# --- max_docs, q= ---------------------------------------------------------
req POST /profile/_delete_by_query '{"query":{"match_all":{}},"max_docs":7,"conflicts":"proceed"}'
same "max_docs 7 deletes 7" "$(jget "$body" '"\(.total) \(.deleted)"')" "7 7"
req GET /profile/_count
same "  count after" "$(jget "$body" .count)" $((N - M - 7))
req GET "/profile/_count?q=traits.public.plan:free"
free=$(jget "$body" .count)
req POST "/profile/_delete_by_query?q=traits.public.plan:free"
same "q= deletes what _count?q= counted" "$code $(jget "$body" .deleted)" "200 $free"
req GET "/profile/_count?q=traits.public.plan:free"
same "  none left" "$(jget "$body" .count)" 0

# --- errors: nothing deleted ----------------------------------------------
req GET /profile/_count
before=$(jget "$body" .count)
for b in '' '{}' '{"max_docs":5}' '{"query":{"match_all":{}},"max_docs":0}' \
         '{"query":{"match_all":{}},"slice":{"id":0,"max":2}}' '{"query":{"bogus":{}}}' \
         '[1]' '{"query":{"match_all":{}}'; do
  req POST /profile/_delete_by_query "$b"
  same "bad body '$b' -> 400" "$code" 400
done
req POST /profile/_delete_by_query '{"query":{"match_all":{}},"slice":{}}'
has "  an unknown member is named" "$(jget "$body" .error.reason)" "does not support [slice]"
req POST /profile/_delete_by_query ''
has "  no query says how" "$(jget "$body" .error.reason)" "match_all deletes every document"
req POST "/profile/_delete_by_query?q=a:b" '{"query":{"match_all":{}}}'
same "q= and a body query -> 400" "$code" 400
req POST /nope/_delete_by_query '{"query":{"match_all":{}}}'
same "missing index -> 404" "$code/$(jget "$body" .error.type)" 404/index_not_found_exception
req POST '/prof*/_delete_by_query' '{"query":{"match_all":{}}}'
same "a pattern -> 400" "$code" 400
req GET /profile/_delete_by_query
same "GET -> 405" "$code" 405
req GET /profile/_count
same "nothing was deleted by the refused requests" "$(jget "$body" .count)" "$before"

# --- a tenant key deletes only in its tenant ------------------------------
"$FERRY" tenant add acme >/dev/null
KA=$("$FERRY" tenant key create acme --json | jq -r .key)
req POST /profile/_delete_by_query '{"query":{"match_all":{}}}' -H "Authorization: Bearer $KA"
same "acme key: /profile is acme's own (empty) index" "$code $(jget "$body" .deleted)" "200 0"
req POST /default.profile/_delete_by_query '{"query":{"match_all":{}}}' -H "Authorization: Bearer $KA"
same "acme key: default's index -> 403" "$code" 403
req GET /profile/_count
same "  default's documents untouched" "$(jget "$body" .count)" "$before"

# --- kill -9 in the middle, then again --------------------------------------
# Whenever the kill lands, what does not match stays; a second run deletes
# the rest. The data is larger so that the run takes a while.
N=${DBQ_KILL_DOCS:-150000}
"$GEN" --type profile --count "$N" >"$P"
ids_where "($JQ) | not" >"$TMP/keep"
M=$(( N - $(wc -l <"$TMP/keep") ))
load big
curl -s -X POST -H 'Content-Type: application/json' --data-binary "{\"query\":$Q}" \
  "$URL/big/_delete_by_query" >"$TMP/dbq.out" 2>&1 &
cpid=$!
sleep "${DBQ_KILL_AFTER:-0.3}"
srv_stop KILL
wait "$cpid" 2>/dev/null
srv_start || { bad "ferryd restarts after kill -9"; finish; exit 1; }
req GET "/big/_count"
after=$(jget "$body" .count)
echo "#    killed after ${DBQ_KILL_AFTER:-0.3}s: $((N - after)) of $M matches were deleted"
[ "$after" -ge $((N - M)) ] && [ "$after" -le "$N" ] &&
  ok "after kill -9: between all and none of the matches deleted" ||
  bad "after kill -9: count in range" "$after not in $((N - M))..$N"
ids_left big >"$TMP/left"
if comm -13 "$TMP/left" "$TMP/keep" | grep -q .; then
  bad "after kill -9: no non-matching id lost" "$(comm -13 "$TMP/left" "$TMP/keep" | head -3)"
else ok "after kill -9: no non-matching id lost"; fi
req POST /big/_delete_by_query "{\"query\":$Q}"
same "run again after the kill: the rest" "$code $(jget "$body" .deleted)" "200 $((after - (N - M)))"
ids_left big >"$TMP/left"
if cmp -s "$TMP/left" "$TMP/keep"; then ok "  now exactly the non-matching ids are left"
else bad "  exactly the non-matching ids are left" "$(diff "$TMP/left" "$TMP/keep" | head -5)"; fi

srv_stop
same "ferryd stops cleanly" "$SRV_RC" 0
finish
