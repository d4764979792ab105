#!/usr/bin/env bash
# tests/cli/test_concurrent.sh - several processes on one data dir: two
# imports into two indices at once while a third process reads (exports
# and counts) in a loop; two writers into one index; concurrent generated
# ids. Everything must succeed with exact counts, and what a reader sees
# must be consistent: counts only grow, by whole batches, and a scan
# returns sorted, distinct, real documents.
#
#   B=build bash tests/cli/test_concurrent.sh      (or B=build-san)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "no $FERRY or $GEN: run make"; exit 1; }
export LC_ALL=C

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
T="timeout 300"

run() { out=$("$@" 2>"$TMP/.err"); rc=$?; err=$(cat "$TMP/.err"); }
count() { $T "$FERRY" index list --json | jq -r --arg n "$1" \
  'map(select(.index == $n or .alias == $n)) | .[0].docs // 0'; }
running() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

NP=${CONC_DOCS:-80000} # profiles into index pa
NE=${CONC_DOCS:-80000} # events into index ev
NS=5000                 # a static index the reader exports again and again
BATCH=2000

check "init" "$FERRY" init --version 0.7.1
"$GEN" --type profile --count "$NP" >"$TMP/p.ndjson"
"$GEN" --type event --count "$NE" --profiles 1000 >"$TMP/e.ndjson"
"$GEN" --type session --count "$NS" >"$TMP/s.ndjson"
sort -S 25% "$TMP/p.ndjson" >"$TMP/p.lines"
check "import the static index" "$FERRY" import st "$TMP/s.ndjson" --quiet
"$FERRY" export st --quiet >"$TMP/st.ref"
st_sha=$(sha256sum <"$TMP/st.ref")
same "static index count" "$(count default.st)" "$NS"
check "create pa" "$FERRY" index create pa
check "create ev" "$FERRY" index create ev

# ------------------------------------------------------------ 2 writers + reader
"$FERRY" import pa "$TMP/p.ndjson" --batch $BATCH --quiet --json >"$TMP/pa.out" 2>"$TMP/pa.err" &
pa=$!; pids+=("$pa")
"$FERRY" import ev "$TMP/e.ndjson" --batch $BATCH --quiet --json >"$TMP/ev.out" 2>"$TMP/ev.err" &
ev=$!; pids+=("$ev")

samples=0 last_pa=0 last_ev=0 last_total=0
mono=1 whole=1 static_ok=1 scan_ok=1 reader_ok=1 bounds_ok=1 scans=0
while :; do
  samples=$((samples + 1))
  # counts: only ever grow, and by whole batches
  if ! list=$($T "$FERRY" index list --json 2>"$TMP/r.err"); then
    reader_ok=0; bad "reader: index list failed" "$(cat "$TMP/r.err")"; break
  fi
  c_pa=$(printf '%s' "$list" | jq '.[] | select(.alias == "default.pa") | .docs')
  c_ev=$(printf '%s' "$list" | jq '.[] | select(.alias == "default.ev") | .docs')
  if [ "$c_pa" -lt "$last_pa" ] || [ "$c_ev" -lt "$last_ev" ]; then
    mono=0; bad "reader: counts only grow" "pa $last_pa -> $c_pa, ev $last_ev -> $c_ev"
  fi
  for c in "$c_pa:$NP" "$c_ev:$NE"; do
    n=${c%%:*} max=${c##*:}
    if [ $((n % BATCH)) -ne 0 ] && [ "$n" -ne "$max" ]; then
      whole=0; bad "reader: counts are whole batches" "saw $n"
    fi
  done
  last_pa=$c_pa last_ev=$c_ev
  tot=$($T "$FERRY" status --json | jq .docs)
  if [ "$tot" -lt "$last_total" ]; then
    mono=0; bad "reader: status docs only grow" "$last_total -> $tot"
  fi
  last_total=$tot
  # the static index reads the same every time
  if [ $((samples % 4)) -eq 1 ] && [ "$($T "$FERRY" export st --quiet | sha256sum)" != "$st_sha" ]; then
    static_ok=0; bad "reader: static index export unchanged" "sample $samples"
  fi
  # a scan of the index being written: sorted distinct ids, real documents,
  # and at least what was there before the scan, at most what is after
  if [ $((samples % 4)) -eq 1 ]; then
    scans=$((scans + 1))
    before=$(count default.pa)
    $T "$FERRY" export pa --format bulk --quiet >"$TMP/scan" || { scan_ok=0; bad "reader: export pa failed"; }
    after=$(count default.pa)
    sed -n '1~2p' "$TMP/scan" | cut -d'"' -f6 >"$TMP/scan.ids" # {"index":{"_id":"<uuid>"}}
    sed -n '2~2p' "$TMP/scan" >"$TMP/scan.docs"
    n=$(wc -l <"$TMP/scan.docs")
    if ! sort -c -u "$TMP/scan.ids" 2>/dev/null; then
      scan_ok=0; bad "reader: scan ids strictly ascending" "sample $samples"
    fi
    if [ "$n" -lt "$before" ] || [ "$n" -gt "$after" ]; then
      bounds_ok=0; bad "reader: scan size between the counts before and after" \
        "$before <= $n <= $after"
    fi
    sort -S 25% "$TMP/scan.docs" | comm -23 - "$TMP/p.lines" >"$TMP/extra"
    if [ -s "$TMP/extra" ]; then
      scan_ok=0; bad "reader: scanned documents are input documents" "$(wc -l <"$TMP/extra") not"
    fi
  fi
  running "$pa" "$ev" || break
done
wait "$pa"; rc_pa=$?
wait "$ev"; rc_ev=$?
pids=()
echo "#    reader took $samples samples ($scans scans of the growing index)"
same "import pa (concurrent) exit 0" "$rc_pa" 0
same "import ev (concurrent) exit 0" "$rc_ev" 0
same "import pa reports all written" "$(jq .written "$TMP/pa.out")" "$NP"
same "import ev reports all written" "$(jq .written "$TMP/ev.out")" "$NE"
[ "$reader_ok" = 1 ] && ok "reader: every read succeeded"
[ "$mono" = 1 ] && ok "reader: counts only grew"
[ "$whole" = 1 ] && ok "reader: counts were whole batches"
[ "$static_ok" = 1 ] && ok "reader: static index read the same each time"
[ "$scan_ok" = 1 ] && ok "reader: scans of the growing index were consistent"
[ "$bounds_ok" = 1 ] && ok "reader: scan sizes within the counts"
same "pa count exact" "$(count default.pa)" "$NP"
same "ev count exact" "$(count default.ev)" "$NE"
same "st count unchanged" "$(count default.st)" "$NS"
run "$FERRY" status --json
same "status docs == sum" "$(printf '%s' "$out" | jq .docs)" $((NP + NE + NS))
"$FERRY" export pa --quiet | sort -S 25% >"$TMP/pa.lines"
if cmp -s "$TMP/pa.lines" "$TMP/p.lines"; then ok "pa holds exactly the input"
else bad "pa holds exactly the input" "$(comm -3 "$TMP/pa.lines" "$TMP/p.lines" | wc -l) lines differ"; fi
"$FERRY" export ev --quiet | sort -S 25% >"$TMP/ev.lines"
sort -S 25% "$TMP/e.ndjson" >"$TMP/e.lines"
if cmp -s "$TMP/ev.lines" "$TMP/e.lines"; then ok "ev holds exactly the input"
else bad "ev holds exactly the input" "$(comm -3 "$TMP/ev.lines" "$TMP/e.lines" | wc -l) lines differ"; fi

# ------------------------------------------------------------ 2 writers, 1 index
# two imports of disjoint halves into the same index, plus a third that
# rewrites the first half, all at once
half=$((NP / 2))
head -n $half "$TMP/p.ndjson" >"$TMP/h1"
tail -n +$((half + 1)) "$TMP/p.ndjson" >"$TMP/h2"
"$FERRY" import same "$TMP/h1" --batch 1000 --quiet >"$TMP/s1.out" 2>&1 & a=$!
"$FERRY" import same "$TMP/h2" --batch 1000 --quiet >"$TMP/s2.out" 2>&1 & b=$!
"$FERRY" import same "$TMP/h1" --batch 3000 --quiet >"$TMP/s3.out" 2>&1 & c=$!
pids=("$a" "$b" "$c")
wait "$a"; ra=$?; wait "$b"; rb=$?; wait "$c"; rc3=$?
pids=()
# the index is made by whichever import comes first; the others must not
# fail because it appeared in between
same "same index: import 1 exit 0" "$ra" 0
same "same index: import 2 exit 0" "$rb" 0
same "same index: import 3 exit 0" "$rc3" 0
[ "$ra$rb$rc3" = 000 ] || cat "$TMP/s1.out" "$TMP/s2.out" "$TMP/s3.out" | sed 's/^/#    /' | head -5
same "same index: count exact" "$(count default.same)" "$NP"
"$FERRY" export same --quiet | sort -S 25% >"$TMP/same.lines"
if cmp -s "$TMP/same.lines" "$TMP/p.lines"; then ok "same index: exactly the input"
else bad "same index: exactly the input" "$(comm -3 "$TMP/same.lines" "$TMP/p.lines" | wc -l) lines differ"; fi

# ------------------------------------------------------------ racing creates
# `ferry import` creates a missing index; six imports racing to create the
# same new index must all succeed (a race, so many rounds of it)
echo '{"id":"only"}' >"$TMP/one.ndjson"
: >"$TMP/race.log"
R=150; case $B in *san*) R=40 ;; esac # ASan start-up is slow
for i in $(seq 1 $R); do
  for _ in 1 2 3 4 5 6; do
    { "$FERRY" import "race$i" "$TMP/one.ndjson" --quiet 2>&1; echo "rc=$?"; } >>"$TMP/race.log" &
  done
  wait
done
same "racing imports into a new index: all exit 0" \
  "$(grep -c '^rc=0$' "$TMP/race.log")" $((6 * R))
grep -v '^rc=0$' "$TMP/race.log" | sort | uniq -c | head -3 | sed 's/^/#    /'
same "racing imports: every index has its doc" \
  "$("$FERRY" index list 'default.race*' --json | jq 'map(select(.docs == 1)) | length')" $R

# ------------------------------------------------------------ generated ids
# four processes each put 25 documents without id into one index
check "create gen" "$FERRY" index create gen
for w in 1 2 3 4; do
  ( for i in $(seq 1 25); do
      "$FERRY" doc put gen --body "{\"w\":$w,\"i\":$i}" || exit 1
    done >"$TMP/gen$w" ) &
  pids+=($!)
done
gen_ok=1
for p in "${pids[@]}"; do wait "$p" || gen_ok=0; done
pids=()
same "generated ids: every put succeeded" "$gen_ok" 1
cat "$TMP"/gen[1-4] | jq -r ._id >"$TMP/gen.ids"
same "generated ids: 100 distinct" "$(sort -u "$TMP/gen.ids" | wc -l)" 100
same "generated ids: count" "$(count default.gen)" 100
for w in 1 2 3 4; do
  jq -r ._id "$TMP/gen$w" >"$TMP/genw"
  if sort -c "$TMP/genw" 2>/dev/null; then ok "generated ids of writer $w ascend"
  else bad "generated ids of writer $w ascend"; fi
done

finish
