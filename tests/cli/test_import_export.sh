#!/usr/bin/env bash
# tests/cli/test_import_export.sh - black-box tests of `ferry import` and
# `ferry export`: NDJSON and _bulk round trips with byte-exact bodies,
# idempotent re-import, bulk create/delete actions, bad lines (line number,
# byte offset, nothing of the failing batch written), --skip-bad, CRLF,
# empty lines, stdin, export --after, and errors.
#
#   B=build bash tests/cli/test_import_export.sh      (or B=build-san)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "no $FERRY or $GEN: run make"; exit 1; }
export LC_ALL=C

# run CMD... : stdout in $out, stderr in $err, exit code in $rc
run() {
  out=$("$@" 2>"$TMP/.err"); rc=$?
  err=$(cat "$TMP/.err")
}
jqis() { same "$1" "$(printf '%s' "$2" | jq -r "$3" 2>&1)" "$4"; }
count() { "$FERRY" index list --json | jq -r --arg n "$1" \
  'map(select(.index == $n or .alias == $n)) | .[0].docs // "none"'; }
# sort_by_id FILE: the NDJSON lines of FILE sorted by their "id" (bytes kept)
sort_by_id() { jq -r .id "$1" | paste - "$1" | sort -s -t $'\t' -k1,1 | cut -f2-; }
# same_file NAME A B : files byte-identical
same_file() {
  if cmp -s "$2" "$3"; then ok "$1"
  else bad "$1" "$(cmp "$2" "$3" 2>&1 | head -1); sizes $(wc -c <"$2") vs $(wc -c <"$3")"; fi
}

check "init" "$FERRY" init --version 0.7.1
N=20000
"$GEN" --type profile --count $N >"$TMP/p.ndjson"
sort_by_id "$TMP/p.ndjson" >"$TMP/p.sorted"
same "reference has $N lines" "$(wc -l <"$TMP/p.sorted")" $N
same "generated ids are unique" "$(jq -r .id "$TMP/p.ndjson" | sort -u | wc -l)" $N

# ------------------------------------------------------------ NDJSON
run "$FERRY" import profile "$TMP/p.ndjson" --json --quiet
same "import exit 0" "$rc" 0
jqis "import --json written" "$out" .written $N
jqis "import --json complete" "$out" .complete true
jqis "import --json failed_ops" "$out" .failed_ops 0
jqis "import --json skipped" "$out" .skipped 0
same "count == $N" "$(count default.profile)" $N
"$FERRY" export profile --quiet >"$TMP/e1" 2>"$TMP/e1.err"
same "export exit 0" "$?" 0
same_file "export == input sorted by id (byte-exact)" "$TMP/e1" "$TMP/p.sorted"
same "export sha256 == sorted input sha256" "$(sha256sum <"$TMP/e1")" \
  "$(sha256sum <"$TMP/p.sorted")"
same "export writes nothing else to stdout" "$(wc -l <"$TMP/e1")" $N
run "$FERRY" export profile --quiet
[ -z "$err" ] && ok "export --quiet is quiet" || bad "export --quiet is quiet" "$err"
id1=$(head -1 "$TMP/p.sorted" | jq -r .id)
same "doc get of an imported id" "$("$FERRY" doc get profile "$id1")" \
  "$(head -1 "$TMP/p.sorted")"
seq1=$("$FERRY" index list --json | jq '.[] | select(.alias == "default.profile") | .seq')

run "$FERRY" import profile "$TMP/p.ndjson" --json --quiet --batch 7000
same "re-import exit 0" "$rc" 0
jqis "re-import --json written" "$out" .written $N
same "re-import: count still $N" "$(count default.profile)" $N
"$FERRY" export profile --quiet >"$TMP/e2"
same_file "re-import: export identical" "$TMP/e2" "$TMP/e1"
seq2=$("$FERRY" index list --json | jq '.[] | select(.alias == "default.profile") | .seq')
same "re-import of identical documents writes nothing (no new seqs)" "$seq2" "$seq1"
run "$FERRY" status --json
jqis "status docs" "$out" .docs $N
jqis "status bytes == body bytes" "$out" .bytes $(($(wc -c <"$TMP/p.ndjson") - N))

# ------------------------------------------------------------ _bulk format
"$FERRY" export profile --format bulk --quiet >"$TMP/b.bulk"
same "bulk export has 2 lines a doc" "$(wc -l <"$TMP/b.bulk")" $((2 * N))
same "bulk action ids == body ids" \
  "$(sed -n '1~2p' "$TMP/b.bulk" | jq -r .index._id | sha256sum)" \
  "$(sed -n '2~2p' "$TMP/b.bulk" | jq -r .id | sha256sum)"
sed -n '2~2p' "$TMP/b.bulk" >"$TMP/b.bodies"
same_file "bulk export bodies == ndjson export" "$TMP/b.bodies" "$TMP/e1"
run "$FERRY" import copy "$TMP/b.bulk" --format bulk --json --quiet
same "bulk import exit 0" "$rc" 0
jqis "bulk import written" "$out" .written $N
same "bulk import count" "$(count default.copy)" $N
"$FERRY" export copy --quiet >"$TMP/e3"
same_file "bulk round trip: exports equal" "$TMP/e3" "$TMP/e1"

# cdp-gen's _bulk output names the physical index in each action
"$GEN" --type profile --count 3000 --format bulk --index v0_7_1.default.gb >"$TMP/g.bulk"
check "index create gb" "$FERRY" index create gb
run "$FERRY" import gb "$TMP/g.bulk" --format bulk --quiet
same "cdp-gen bulk import exit 0" "$rc" 0
same "cdp-gen bulk import count" "$(count default.gb)" 3000
"$FERRY" export gb --quiet >"$TMP/e4"
head -3000 "$TMP/p.ndjson" >"$TMP/p3k"
sort_by_id "$TMP/p3k" >"$TMP/p3k.sorted"
same_file "cdp-gen bulk import == first 3000 profiles" "$TMP/e4" "$TMP/p3k.sorted"

cat >"$TMP/ops.bulk" <<'EOF'
{"index":{"_id":"a"}}
{"v":1}
{"index":{"_id":"b"}}
{"v":2}
{"index":{"_id":"c"}}
{"v":3}
EOF
check "bulk seed" "$FERRY" import ops "$TMP/ops.bulk" --format bulk --quiet
cat >"$TMP/ops2.bulk" <<'EOF'
{"index":{"_id":"a"}}
{"v":10}
{"create":{"_id":"b"}}
{"v":20}
{"create":{"_id":"n"}}
{"v":30}
{"delete":{"_id":"c"}}
{"delete":{"_id":"missing"}}
{"index":{"_index":"copy","_id":"other-index"}}
{"v":40}
{"index":{"_id":"d"}}
{"v":50}
{"delete":{"_id":"d"}}
{"create":{"_id":"e"}}
{"v":60}
{"index":{"_id":"e"}}
{"v":61}
EOF
run "$FERRY" import ops "$TMP/ops2.bulk" --format bulk --json --quiet
same "bulk actions exit 0" "$rc" 0
jqis "bulk actions written" "$out" .written 8
jqis "bulk actions failed_ops (create b, delete missing)" "$out" .failed_ops 2
has "refused ops reported" "$err" "2 operations were refused"
same "bulk: index replaced a" "$("$FERRY" doc get ops a)" '{"v":10}'
same "bulk: create on existing b refused" "$("$FERRY" doc get ops b)" '{"v":2}'
same "bulk: create n" "$("$FERRY" doc get ops n)" '{"v":30}'
expect_fail 3 "bulk: delete c" "$FERRY" doc get ops c
same "bulk: _index in the action wins" "$("$FERRY" doc get copy other-index)" '{"v":40}'
expect_fail 3 "bulk: index then delete d (in order)" "$FERRY" doc get ops d
same "bulk: create then index e (in order)" "$("$FERRY" doc get ops e)" '{"v":61}'
same "bulk: count" "$(count default.ops)" 4

printf '{"index":{"_id":"x"}}\n{"v":1}\n{"index":{"_id":"y"}}\n' >"$TMP/trunc.bulk"
run "$FERRY" import ops "$TMP/trunc.bulk" --format bulk --quiet
[ "$rc" -ne 0 ] && ok "bulk: action without document fails" || bad "bulk: action without document fails" "rc 0"
has "bulk: missing document line named" "$err" "line 3"
printf '{"index":{"_id":"x"}}\n{"v":1}\n{"upsert":{"_id":"y"}}\n{"v":2}\n' >"$TMP/act.bulk"
run "$FERRY" import ops "$TMP/act.bulk" --format bulk --quiet
[ "$rc" -ne 0 ] && ok "bulk: unknown action fails" || bad "bulk: unknown action fails" "rc 0"
has "bulk: unknown action line named" "$err" "line 3"
expect_fail 3 "bulk: nothing of the failing batch written" "$FERRY" doc get ops x
printf '{"delete":{}}\n' >"$TMP/del.bulk"
run "$FERRY" import ops "$TMP/del.bulk" --format bulk --quiet
[ "$rc" -ne 0 ] && ok "bulk: delete without _id fails" || bad "bulk: delete without _id fails" "rc 0"
has "bulk: delete without _id message" "$err" "_id"

# ------------------------------------------------------------ bad lines
# Line 2500 loses the ':' after "stats": with --batch 1000 the batches of
# lines 1-1000 and 1001-2000 are written, the one holding line 2500 is not.
L=2500
awk -v L=$L 'NR == L { sub(/"stats":/, "\"stats\"") } { print }' "$TMP/p.ndjson" >"$TMP/bad.ndjson"
off=$(sed -n "${L}p" "$TMP/bad.ndjson" | grep -bo '"stats"' | head -1 | cut -d: -f1)
off=$((off + 7)) # 0-based offset of the byte after "stats"
run "$FERRY" import bad "$TMP/bad.ndjson" --batch 1000 --quiet
same "bad line: exit 1" "$rc" 1
has "bad line: message says line $L" "$err" "line $L:"
has "bad line: message has the byte offset" "$err" "byte $off"
has "bad line: message names the file" "$err" "$TMP/bad.ndjson"
has "bad line: message says what was written" "$err" "2000 documents"
same "bad line: only the full batches before it" "$(count default.bad)" 2000
"$FERRY" export bad --quiet >"$TMP/e5"
head -2000 "$TMP/p.ndjson" >"$TMP/p2k"
sort_by_id "$TMP/p2k" >"$TMP/p2k.sorted"
same_file "bad line: the written docs are lines 1-2000" "$TMP/e5" "$TMP/p2k.sorted"
id2001=$(sed -n 2001p "$TMP/p.ndjson" | jq -r .id)
expect_fail 3 "bad line: first doc of the failing batch absent" "$FERRY" doc get bad "$id2001"
run "$FERRY" import bad "$TMP/bad.ndjson" --batch 1000 --quiet --json
jqis "bad line: --json complete false" "$out" .complete false

run "$FERRY" import bad1 "$TMP/bad.ndjson" --batch 5000 --quiet
same "bad line in the first batch: exit 1" "$rc" 1
same "bad line in the first batch: nothing written" "$(count default.bad1)" 0

# Without --batch a batch is cut at 24 MiB of input as well as at 50 000
# documents, and the first two batches are 1/4 and 1/2 of that: 70 lines of
# 1 MiB each (newline not counted), the 70th invalid. Lines 1..66 fill
# batches of 6, 12, 24 and 24 MiB (written), the failing batch holds 67..70
# (not written).
pad=$(head -c 1048553 /dev/zero | tr '\0' x)
for i in $(seq -w 1 70); do
  printf '{"id":"big%s","pad":"%s"%s}\n' "$i" "$pad" "$([ "$i" = 70 ] && echo ,)"
done >"$TMP/big.ndjson"
same "big input: 70 lines of about 1 MiB" "$(wc -l <"$TMP/big.ndjson")" 70
run "$FERRY" import big "$TMP/big.ndjson" --quiet
same "24 MiB batches: exit 1 at the bad line" "$rc" 1
has "24 MiB batches: message says line 70" "$err" "line 70:"
has "24 MiB batches: the first 66 documents were written" "$err" "66 documents"
same "24 MiB batches: index holds the first four batches" "$(count default.big)" 66
rm -f "$TMP/big.ndjson"

run "$FERRY" import skip "$TMP/bad.ndjson" --batch 1000 --skip-bad --json --quiet
same "--skip-bad: exit 0" "$rc" 0
jqis "--skip-bad: written" "$out" .written $((N - 1))
jqis "--skip-bad: skipped" "$out" .skipped 1
jqis "--skip-bad: no refused ops" "$out" .failed_ops 0
has "--skip-bad: lists the skipped line" "$err" "line $L"
has "--skip-bad: reports the skipped count" "$err" "1 invalid lines were skipped"
same "--skip-bad: count" "$(count default.skip)" $((N - 1))
"$FERRY" export skip --quiet >"$TMP/e6"
sed "${L}d" "$TMP/p.ndjson" >"$TMP/p-L.ndjson"
sort_by_id "$TMP/p-L.ndjson" >"$TMP/p-L.sorted"
same_file "--skip-bad: everything but line $L" "$TMP/e6" "$TMP/p-L.sorted"

# several kinds of bad lines, skipped
{ head -5 "$TMP/p.ndjson"; echo '[1,2]'; echo '{"id":"x",}'; echo 'null'
  printf '{"id":"%s"}\n' "$(printf 'i%.0s' $(seq 513))"; sed -n 6,10p "$TMP/p.ndjson"; } >"$TMP/kinds.ndjson"
run "$FERRY" import kinds "$TMP/kinds.ndjson" --skip-bad --json --quiet
jqis "--skip-bad kinds: written" "$out" .written 10
jqis "--skip-bad kinds: skipped" "$out" .skipped 4
same "--skip-bad kinds: count" "$(count default.kinds)" 10
run "$FERRY" import kinds2 "$TMP/kinds.ndjson" --quiet
[ "$rc" -ne 0 ] && ok "non-object line stops the import" || bad "non-object line stops the import" "rc 0"
has "non-object line: line 6" "$err" "line 6"

# ------------------------------------------------------------ line endings
head -1000 "$TMP/p.ndjson" >"$TMP/p1k"
sort_by_id "$TMP/p1k" >"$TMP/p1k.sorted"
sed 's/$/\r/' "$TMP/p1k" >"$TMP/crlf.ndjson"
run "$FERRY" import crlf "$TMP/crlf.ndjson" --quiet
same "CRLF: exit 0" "$rc" 0
same "CRLF: count" "$(count default.crlf)" 1000
"$FERRY" export crlf --quiet >"$TMP/e7"
same_file "CRLF: bodies without the CR" "$TMP/e7" "$TMP/p1k.sorted"

awk '{ print; if (NR % 100 == 0) { print ""; print "" } } END { print "" }' "$TMP/p1k" >"$TMP/blank.ndjson"
printf '\r\n' >>"$TMP/blank.ndjson"
run "$FERRY" import blank "$TMP/blank.ndjson" --batch 64 --quiet --json
same "empty lines: exit 0" "$rc" 0
jqis "empty lines: written" "$out" .written 1000
same "empty lines: count" "$(count default.blank)" 1000
"$FERRY" export blank --quiet >"$TMP/e8"
same_file "empty lines: skipped" "$TMP/e8" "$TMP/p1k.sorted"

head -c -1 "$TMP/p1k" >"$TMP/nonl.ndjson" # no final newline
run "$FERRY" import nonl "$TMP/nonl.ndjson" --quiet
same "last line without newline: count" "$(count default.nonl)" 1000
"$FERRY" export nonl --quiet >"$TMP/e9"
same_file "last line without newline: same docs" "$TMP/e9" "$TMP/p1k.sorted"

: >"$TMP/empty.ndjson"
run "$FERRY" import emptyfile "$TMP/empty.ndjson" --quiet --json
same "empty file: exit 0" "$rc" 0
jqis "empty file: written 0" "$out" .written 0

# ------------------------------------------------------------ ids
printf '%s\n' '{"id":"s1","v":1}' '{"id":42,"v":2}' '{"v":3}' '{"id":"s1","v":4}' \
  '{"id":"esc\u00e9\"q","v":5}' '{"key":"k1","v":6}' >"$TMP/ids.ndjson"
run "$FERRY" import ids "$TMP/ids.ndjson" --quiet --json
jqis "ids: written" "$out" .written 6
same "ids: count (s1 twice)" "$(count default.ids)" 5
same "ids: last write of s1 wins" "$("$FERRY" doc get ids s1)" '{"id":"s1","v":4}'
same "ids: numeric id" "$("$FERRY" doc get ids 42)" '{"id":42,"v":2}'
same "ids: escaped id is unescaped" "$("$FERRY" doc get ids 'escé"q')" '{"id":"esc\u00e9\"q","v":5}'
gid=$("$FERRY" export ids --format bulk --quiet | jq -r 'select(.index) | .index._id' |
  grep -E '^[-0-9A-Za-z_]{20}$' | head -1)
[ -n "$gid" ] && ok "ids: a doc without id gets a generated one" || bad "ids: generated id" "none"
run "$FERRY" import ids2 "$TMP/ids.ndjson" --id-field key --quiet
same "--id-field key" "$("$FERRY" doc get ids2 k1)" '{"key":"k1","v":6}'
same "--id-field: others generated" "$(count default.ids2)" 6

# long and empty ids in the data: 512 bytes is the limit (FERRY_ID_MAX)
rep() { printf "%${2}s" "" | tr ' ' "$1"; }
for n in 500 512; do
  printf '{"id":"a1"}\n{"id":"%s"}\n{"id":"a2"}\n' "$(rep i $n)" >"$TMP/long.ndjson"
  run "$FERRY" import long$n "$TMP/long.ndjson" --quiet --json
  same "id of $n bytes in the data: exit 0" "$rc" 0
  same "id of $n bytes in the data: count" "$(count default.long$n)" 3
done
for n in 513 600 0; do
  printf '{"id":"a1"}\n{"id":"%s"}\n{"id":"a2"}\n' "$(rep i $n)" >"$TMP/long.ndjson"
  run "$FERRY" import bad$n "$TMP/long.ndjson" --quiet --json
  [ "$rc" -ne 0 ] && ok "id of $n bytes in the data refused" ||
    bad "id of $n bytes in the data refused" "exit 0, $(count default.bad$n) docs written"
  has "id of $n bytes: line 2 named" "$err" "line 2"
  run "$FERRY" import skip$n "$TMP/long.ndjson" --quiet --json --skip-bad
  jqis "id of $n bytes with --skip-bad: skipped" "$out" .skipped 1
  same "id of $n bytes with --skip-bad: count" "$(count default.skip$n)" 2
done

# ------------------------------------------------------------ stdin, errors
run sh -c "cat '$TMP/p1k' | '$FERRY' import stdin - --quiet --json"
same "stdin: exit 0" "$rc" 0
jqis "stdin: written" "$out" .written 1000
"$FERRY" export stdin --quiet >"$TMP/e10"
same_file "stdin: same docs" "$TMP/e10" "$TMP/p1k.sorted"
run "$FERRY" import stdin2 - --quiet <"$TMP/p1k"
same "stdin redirect: count" "$(count default.stdin2)" 1000

run "$FERRY" import missing "$TMP/no-such.ndjson" --quiet
same "missing file: exit 1" "$rc" 1
has "missing file: named" "$err" "$TMP/no-such.ndjson"
has "missing file: reason" "$err" "No such file"
same "missing file: no index created" "$(count default.missing)" none
run "$FERRY" import dir "$TMP" --quiet
[ "$rc" -ne 0 ] && ok "directory as file fails" || bad "directory as file fails" "rc 0"
expect_fail 2 "import --batch 0 -> 2" "$FERRY" import x "$TMP/p1k" --batch 0
expect_fail 2 "import --batch x -> 2" "$FERRY" import x "$TMP/p1k" --batch x
expect_fail 2 "import --format csv -> 2" "$FERRY" import x "$TMP/p1k" --format csv
expect_fail 2 "import unknown option -> 2" "$FERRY" import x "$TMP/p1k" --bogus
expect_fail 3 "import into an unknown tenant -> 3" "$FERRY" import nobody.x "$TMP/p1k"

# ------------------------------------------------------------ data file full
# A commit that fails (map full) stops the import; what it reports as
# written is what is in the index, whole batches, and a later run with
# room completes it.
FULL=$TMP/full
FERRY_DATA=$FULL check "init a small data dir" "$FERRY" init --version 0.7.1
FERRY_DATA=$FULL FERRY_MAP_SIZE=4M run "$FERRY" import p "$TMP/p.ndjson" --batch 1000 --json --quiet
[ "$rc" -ne 0 ] && ok "map full: import fails" || bad "map full: import fails" "rc 0"
has "map full: message says how to fix it" "$err" "FERRY_MAP_SIZE"
fc=$(FERRY_DATA=$FULL count default.p)
[ $((fc % 1000)) -eq 0 ] && [ "$fc" -gt 0 ] && ok "map full: whole batches written ($fc)" ||
  bad "map full: whole batches written" "$fc"
jqis "map full: reported written == count" "$out" .written "$fc"
has "map full: message says what was written" "$err" "$fc documents before"
FERRY_DATA=$FULL run "$FERRY" import p "$TMP/p.ndjson" --batch 1000 --json --quiet
same "map full: re-run with room: exit 0" "$rc" 0
same "map full: re-run with room: count" "$(FERRY_DATA=$FULL count default.p)" $N

# ------------------------------------------------------------ export --after
K=1234
after=$(sed -n "${K}p" "$TMP/p.sorted" | jq -r .id)
"$FERRY" export profile --after "$after" --quiet >"$TMP/e11"
tail -n +$((K + 1)) "$TMP/p.sorted" >"$TMP/tail"
same_file "export --after resumes exactly after the id" "$TMP/e11" "$TMP/tail"
# resuming with a prefix of an id (not an id itself) starts at that id
pre=${after%?}
"$FERRY" export profile --after "$pre" --quiet >"$TMP/e12"
tail -n +$K "$TMP/p.sorted" >"$TMP/tail2"
same_file "export --after a non-id starts at the next id" "$TMP/e12" "$TMP/tail2"
last=$(tail -1 "$TMP/p.sorted" | jq -r .id)
run "$FERRY" export profile --after "$last" --quiet
same "export --after the last id: empty" "$out" ""
# paging through with --after gives the whole index
: >"$TMP/paged"; cur=""
for _ in 1 2 3 4 5; do
  if [ -z "$cur" ]; then "$FERRY" export profile --quiet | head -5000 >"$TMP/page"
  else "$FERRY" export profile --after "$cur" --quiet | head -5000 >"$TMP/page"; fi
  [ -s "$TMP/page" ] || break
  cat "$TMP/page" >>"$TMP/paged"
  cur=$(tail -1 "$TMP/page" | jq -r .id)
done
same_file "export paged with --after == full export" "$TMP/paged" "$TMP/e1"
"$FERRY" export profile --format bulk --after "$after" --quiet | sed -n '2~2p' >"$TMP/e13"
same_file "export --format bulk --after" "$TMP/e13" "$TMP/tail"

expect_fail 3 "export of a missing index -> 3" "$FERRY" export nosuch
has "export missing index named" "$err" "nosuch"
expect_fail 3 "export of a missing physical index -> 3" "$FERRY" export v0_7_1.default.nosuch
check "export of an empty index" "$FERRY" export emptyfile --quiet
same "empty index exports nothing" "$("$FERRY" export emptyfile --quiet)" ""

# ------------------------------------------------------------ first batch
# The first default batch is 1/4 of the size (12 500 documents) so that the
# committer starts early: with 13 000 lines read and the input still open,
# the first 12 500 are committed and visible (a full first batch would wait
# for 50 000 lines or the end of the input).
mkfifo "$TMP/fifo"
"$FERRY" import early - --quiet --json <"$TMP/fifo" >"$TMP/early.out" 2>&1 &
imp=$!
exec 3>"$TMP/fifo"
head -n 13000 "$TMP/p.ndjson" >&3
c=none
for _ in $(seq 1 200); do
  c=$(count default.early)
  [ "$c" = 12500 ] && break
  sleep 0.1
done
same "default import: the first 12500 committed while the input is open" "$c" 12500
tail -n +13001 "$TMP/p.ndjson" >&3
exec 3>&-
wait "$imp"
same "default import from a pipe: exit 0" "$?" 0
same "default import from a pipe: count $N" "$(count default.early)" $N
jqis "default import from a pipe: written" "$(cat "$TMP/early.out")" .written $N

finish
