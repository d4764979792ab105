#!/usr/bin/env bash
# tests/cli/test_upgrade_live.sh - upgrades with other processes around:
# `ferry upgrade status` while one runs; a second upgrader (run, resume,
# abort) refused while the first (slowed down with --throttle) holds the
# lease, naming the owner; deletes and rollback refused meanwhile; a live
# writer (tests/cli/live_writer.c) putting, updating and deleting
# documents through the alias acme.profile before, during and after the
# upgrade, with 0 lost writes (every acknowledged write is in the NEW
# index, transformed if it went to the old one); abort of a killed run
# and of a live one (--force); a throttled runner keeps its lease.
#
#   B=build bash tests/cli/test_upgrade_live.sh      (or B=build-san)
# Needs $B/live_writer; built here from tests/cli/live_writer.c if missing.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "no $FERRY or $GEN: run make"; exit 1; }
export LC_ALL=C

LW=$ROOT/$B/live_writer
if [ ! -x "$LW" ] || [ "$ROOT/tests/cli/live_writer.c" -nt "$LW" ] || [ "$ROOT/$B/libferry.a" -nt "$LW" ]; then
  san=""; case "$B" in *san*) san="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
  # shellcheck disable=SC2046,SC2086
  cc -O2 $san -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" "$ROOT/tests/cli/live_writer.c" \
    "$ROOT/$B/libferry.a" $(pkg-config --libs lmdb lua5.4 libcrypto) $(pkg-config --libs libzstd 2>/dev/null) -lm -pthread -o "$LW" ||
    { echo "cannot build $LW"; exit 1; }
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

T="timeout 120"
. "$(dirname "$0")/upgrade_lib.sh"
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
NP=${UPG_LIVE_DOCS:-6000} # profiles and events per tenant; sessions: half
TOTAL=$((2 * (NP + NP + NP / 2)))

ustatus() { $T "$FERRY" upgrade status --json; }
now_ms() { date +%s%3N; }
# wait_for SECONDS CONDITION...: polls until CONDITION succeeds
wait_for() {
  local end=$((SECONDS + $1)); shift
  while ! "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.05; done
}
copying() { # the run is copying and has committed a batch
  ustatus | jq -e '.state == "copy" and ([.items[].copied] | add) > 0' >/dev/null 2>&1
}

# ------------------------------------------------------------ base and reference
use base
check "init 0.7.1" $T "$FERRY" init --version 0.7.1
check "tenant add acme" $T "$FERRY" tenant add acme
for t in default acme; do
  "$GEN" --type profile --count "$NP" --tenant "$t" | $T "$FERRY" import "$t.profile" - --quiet
  "$GEN" --type event --count "$NP" --profiles $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.event" - --quiet
  "$GEN" --type session --count $((NP / 2)) --tenant "$t" | $T "$FERRY" import "$t.session" - --quiet
done
hashes 0.7.1 >"$TMP/old.hashes"
base_list=$(listing)
same "base: $TOTAL documents" "$($FERRY status --json | jq .docs)" "$TOTAL"
fresh ref
check "reference run" $T "$FERRY" upgrade run --to 0.8.1 --quiet
hashes 0.8.1 >"$TMP/ref.hashes"
ref_list=$(listing)

# ------------------------------------------------------------ a second upgrader
fresh conc
THR=$((TOTAL / 4)) # documents/s: the copy takes about 4 s
t0=$(now_ms)
"$FERRY" upgrade run --to 0.8.1 --throttle "$THR" --batch 500 --quiet >"$TMP/first.out" 2>"$TMP/first.err" &
first=$!; pids+=("$first")
if wait_for 30 copying; then ok "first runner is copying"; else bad "first runner is copying" "$(ustatus)"; fi
run "$FERRY" upgrade status --json
same "status during the run: exit 0" "$rc" 0
same "status during: state copy" "$(jq -r .state <<<"$out")" copy
same "status during: lease owner is the runner, alive" "$(jq -c '[.lease.pid, .lease.alive]' <<<"$out")" "[$first,true]"
same "status during: lease names the host" "$(jq -r .lease.host <<<"$out")" "$(hostname)"
# the copy's workers lower their priority by 10 (the commits are the
# critical path); the committing thread keeps the priority it had
thread_nice() { awk '{sub(/^.*\) /, ""); print $17}' "/proc/$first/task/$1/stat" 2>/dev/null; }
base_nice=$(thread_nice "$first")
want_nice=$((base_nice + 10 > 19 ? 19 : base_nice + 10))
worker_nices=$(for d in /proc/"$first"/task/*; do t=${d##*/}; [ "$t" = "$first" ] || thread_nice "$t"; done | sort -u | tr '\n' ' ')
same "the committing thread keeps its nice value" "$base_nice" "$(ps -o ni= -p $$ | tr -d ' ')"
same "copy workers run at nice +10" "$worker_nices" "$want_nice "
run "$FERRY" upgrade status
has "status text during: state" "$out" "): copy"
has "status text during: per-item progress" "$out" "docs"
same "status during: nothing switched" "$(release) $(resolve acme.profile)" "0.7.1 0.7.1 v0_7_1.acme.profile"
same "reads through the alias work during the copy" "$($FERRY export acme.profile --quiet | wc -l)" "$NP"
run "$FERRY" upgrade run --to 0.8.1 --quiet
same "second run refused: exit 1" "$rc" 1
has "second run: names the lease owner" "$err" "pid $first on $(hostname)"
run "$FERRY" upgrade resume --quiet
same "concurrent resume refused: exit 1" "$rc" 1
has "concurrent resume: names the lease owner" "$err" "pid $first"
run "$FERRY" upgrade run --to 0.8.0 --quiet
same "a run to another target refused: exit 1" "$rc" 1
run "$FERRY" upgrade abort
same "abort while a live runner holds the lease: refused (1)" "$rc" 1
has "abort refused: names the lease owner" "$err" "pid $first"
run "$FERRY" indices delete --version 0.8.1
same "deleting the version being built: refused (1)" "$rc" 1
has "deleting the version being built: says why" "$err" "building"
run "$FERRY" indices delete --version 0.7.1
same "deleting the active version during the run: refused (1)" "$rc" 1
run "$FERRY" rollback
if [ "$rc" -ne 0 ]; then ok "rollback during the run: refused"; else bad "rollback during the run: refused" "exit 0: $out"; fi
run "$FERRY" upgrade plan --to 0.8.1 --json
same "plan during the run: exit 0 (read-only)" "$rc" 0
if kill -0 "$first" 2>/dev/null; then ok "first runner still running after the refusals"
else bad "first runner still running after the refusals" "it ended early (throttle too fast?)"; fi
wait "$first"; frc=$?
el=$(($(now_ms) - t0))
same "first runner finishes: exit 0" "$frc" 0
[ "$frc" -ne 0 ] && echo "#    $(cat "$TMP/first.err")"
# the throttle counts every document read, sessions (dropped) included
if [ "$el" -ge $((TOTAL * 1000 / THR * 8 / 10)) ]; then ok "--throttle $THR slowed the copy down (${el} ms)"
else bad "--throttle $THR slowed the copy down" "$TOTAL docs in ${el} ms"; fi
same "throttled run: same documents as the reference" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "throttled run: same indices" "$(listing)" "$ref_list"
same "status after: done, no lease" "$(ustatus | jq -c '[.state, .lease]')" '["done",null]'

# two upgraders started at the same moment: one runs, the other is refused
fresh twin
"$FERRY" upgrade run --to 0.8.1 --throttle $((TOTAL / 2)) --quiet >/dev/null 2>"$TMP/twin1.err" &
t1=$!; pids+=("$t1")
"$FERRY" upgrade run --to 0.8.1 --throttle $((TOTAL / 2)) --quiet >/dev/null 2>"$TMP/twin2.err" &
t2=$!; pids+=("$t2")
wait "$t1"; r1=$?
wait "$t2"; r2=$?
same "two upgraders at once: one finishes, one is refused" "$(printf '%s\n' "$r1" "$r2" | sort | tr '\n' ' ')" "0 1 "
has "two upgraders at once: the refused one names the owner" "$(cat "$TMP/twin1.err" "$TMP/twin2.err")" "holds the lease: pid"
same "two upgraders at once: same documents as the reference" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"

# ------------------------------------------------------------ live writer across the cutover
# checks what one writer (alias $1 = TENANT.profile, log $2) left behind
check_writer() {
  local alias=$1 log=$2 tenant=${1%%.*} nb nd na good lost stale resurrected extra shp
  awk -v s="$started" -v c="$cut" '{ t = $NF; k = t < s ? "before" : t < c ? "during" : "after"; n[k]++ }
    END { printf "%d %d %d\n", n["before"], n["during"], n["after"] }' "$log" >"$TMP/phases"
  read -r nb nd na <"$TMP/phases"
  echo "# writer $alias: $(wc -l <"$log") acknowledged writes: $nb before the upgrade, $nd during it, $na after the switch"
  [ "$nb" -gt 0 ] && [ "$nd" -gt 0 ] && [ "$na" -gt 0 ] && ok "$alias: writes before, during and after the upgrade" ||
    bad "$alias: writes before, during and after the upgrade" "$nb / $nd / $na"
  same "$alias: first-in-order documents deleted right after the switch" \
    "$(awk '$1 == "D" && $2 ~ /^0000000/ && $3 != "v0_7_1.'"$tenant"'.profile"' "$log" | wc -l)" \
    "$(awk '$1 == "P" && $2 ~ /^0000000/ { print $2 }' "$log" | sort -u | wc -l)"
  # expected final state of every id the writer touched: its last acknowledged op
  awk '{ if ($1 == "P") { st[$2] = "P"; rv[$2] = $3; w[$2] = $4 } else { st[$2] = "D"; w[$2] = $3 } }
    END { for (i in st) print i, st[i], (st[i] == "P" ? rv[i] : "-"), w[i] }' "$log" | sort >"$TMP/want"
  # what the NEW index holds for those ids: rev and shape (new: transformed
  # by the hops, raw: as the writer wrote it)
  $FERRY export "v0_8_1.$tenant.profile" --quiet | grep -- '-lw-' | jq -r '
    [.id, (.rev | tostring),
     (if .metadata.schema == "0.8.1" and .pii == null and .data.pii.firstname == "LW"
         and (.data.contact.email | startswith("lw")) and .age == 41 and .stats.visits == 3
         and (.data.metrics.tier | type) == "string" then "new"
      elif .pii.name == "LW" and .age == "41" and .metadata == null and .data == null then "raw"
      else "bad" end)] | join(" ")' | sort >"$TMP/got"
  join -a1 -a2 -e MISSING -o 0,1.2,1.3,1.4,2.2,2.3 "$TMP/want" "$TMP/got" | awk '
    { id = $1; op = $2; rev = $3; w = $4; grev = $5; shape = $6 }
    op == "MISSING" { extra++; if (extra < 4) print "extra doc in the new index: " id; next }
    op == "D" { if (grev != "MISSING") { resurrected++; if (resurrected < 4) print "deleted but present: " id } ; next }
    grev == "MISSING" { lost++; if (lost < 4) print "lost: " id " (written to " w ")"; next }
    grev != rev { stale++; if (stale < 4) print "stale: " id " rev " grev " not " rev " (" w ")"; next }
    w ~ /^v0_7_1/ && shape != "new" { shp++; if (shp < 4) print "not transformed: " id; next }
    w ~ /^v0_8_1/ && shape != "raw" { shp++; if (shp < 4) print "changed after the switch: " id; next }
    w == "either" && shape == "bad" { shp++; if (shp < 4) print "bad shape: " id; next }
    { good++ }
    END { printf "SUMMARY %d %d %d %d %d %d\n", good, lost, stale, resurrected, extra, shp }' >"$TMP/verdict"
  grep -v SUMMARY "$TMP/verdict" | sed 's/^/#    /'
  read -r _ good lost stale resurrected extra shp < <(grep SUMMARY "$TMP/verdict")
  same "$alias: no acknowledged put lost" "$lost" 0
  same "$alias: every put has its last acknowledged revision" "$stale" 0
  same "$alias: no acknowledged delete undone" "$resurrected" 0
  same "$alias: no unknown writer document" "$extra" 0
  same "$alias: written to the old index -> transformed; to the new one -> as written" "$shp" 0
  same "$alias: checked every live id" "$good" "$(awk '$2 == "P"' "$TMP/want" | wc -l)"
  same "$alias: new index count = source + live writer docs" \
    "$($FERRY index list --json | jq --arg a "$alias" '.[] | select(.alias == $a) | .docs')" "$((NP + good))"
  # the generated profiles are exactly as in the reference run
  same "$alias: the other documents as in the reference run" \
    "$($FERRY export "$alias" --quiet | grep -v -- '-lw-' | sha256sum)" \
    "$(use ref; $FERRY export "$alias" --quiet | sha256sum)"
}

fresh live
# two writers: acme.profile, and default.profile (verified last, so the
# deletes right after the switch reach it before the verify step does)
for a in acme default; do
  "$LW" "$FERRY_DATA" $a.profile "$TMP/lw.$a.log" "$TMP/lw.stop" 7 2>"$TMP/lw.$a.err" &
  pids+=("$!"); eval "lw_$a=$!"
done
if wait_for 30 test -s "$TMP/lw.acme.log" -a -s "$TMP/lw.default.log"; then ok "writers are writing"
else bad "writers are writing" "$(cat "$TMP"/lw.*.err)"; fi
sleep 0.5
THR=$((TOTAL / 3))
run $T "$FERRY" upgrade run --to 0.8.1 --throttle "$THR" --batch 1000 --quiet
same "upgrade with live writers: exit 0" "$rc" 0
[ "$rc" -ne 0 ] && echo "#    $err"
sleep 0.7 # more writes after the switch
touch "$TMP/lw.stop"
for a in acme default; do
  eval "wait \$lw_$a"; lrc=$?
  same "writer $a.profile: no write failed" "$lrc $(tail -1 "$TMP/lw.$a.err")" \
    "0 writer: $(grep -c . "$TMP/lw.$a.log") ok, 0 failed"
done
read -r started cut < <(ustatus | jq -r '"\(.started_ms) \(.cutover_ms)"')
same "upgrade with live writers: status done" "$(ustatus | jq -r .state)" "done"
check_writer acme.profile "$TMP/lw.acme.log"
check_writer default.profile "$TMP/lw.default.log"
same "live: other indices as in the reference run" "$(hashes 0.8.1 | grep -v profile)" \
  "$(grep -v profile "$TMP/ref.hashes")"
# rollback would drop exactly the writes acknowledged after the switch
cat "$TMP"/lw.*.log >"$TMP/lw.all"
after_new=$(awk '$1 == "P" && $4 ~ /^v0_8_1/ || $1 == "D" && $3 ~ /^v0_8_1/' "$TMP/lw.all" | wc -l)
either=$(awk '$1 == "P" && $4 == "either" || $1 == "D" && $3 == "either"' "$TMP/lw.all" | wc -l)
run "$FERRY" rollback --json
dropped=$(jq -r .writes_dropped <<<"$out")
if [ "$rc" -eq 0 ] && [ "$dropped" -ge "$after_new" ] && [ "$dropped" -le $((after_new + either)) ]; then
  ok "rollback counts the $dropped writes made after the switch"
else bad "rollback counts the writes made after the switch" "exit $rc, said $dropped, writers made $after_new (+$either either)"; fi

# ------------------------------------------------------------ abort a killed run
fresh ab
"$FERRY" upgrade run --to 0.8.1 --throttle $((TOTAL / 4)) --batch 500 --quiet >/dev/null 2>&1 &
ab=$!; pids+=("$ab")
if wait_for 30 copying; then ok "abort: run is copying"; else bad "abort: run is copying" "$(ustatus)"; fi
kill -9 "$ab"; wait "$ab" 2>/dev/null
run "$FERRY" upgrade status --json
same "abort: status after kill -9: copy, owner dead" "$(jq -c '[.state, .lease.alive]' <<<"$out")" '["copy",false]'
same "abort: new indices exist before the abort" "$($FERRY index list 'v0_8_1.*' --json | jq length)" 6
run "$FERRY" upgrade abort
same "abort: exit 0" "$rc" 0
has "abort: says what it did" "$out" "aborted"
same "abort: old set untouched (hashes)" "$(hashes 0.7.1)" "$(cat "$TMP/old.hashes")"
same "abort: index list as before the upgrade" "$(listing)" "$base_list"
same "abort: release unchanged" "$(release)" "0.7.1 0.7.1"
same "abort: status says aborted" "$(ustatus | jq -r .state)" aborted
same "abort: version 0.8.1 aborted" "$($FERRY versions --json | jq -r '.[] | select(.data_version == "0.8.1") | .state')" aborted
run "$FERRY" upgrade abort
if [ "$rc" -ne 0 ]; then ok "abort twice: refused"; else bad "abort twice: refused" "exit 0"; fi
run "$FERRY" upgrade resume
same "resume after abort: nothing to resume (3)" "$rc" 3
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "run after abort: exit 0" "$rc" 0
same "run after abort: same documents as the reference" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
same "run after abort: same indices" "$(listing)" "$ref_list"

# abort --force of a live runner: the runner must stop, nothing switches
fresh abf
"$FERRY" upgrade run --to 0.8.1 --throttle $((TOTAL / 4)) --batch 500 --quiet >/dev/null 2>"$TMP/abf.err" &
abf=$!; pids+=("$abf")
if wait_for 30 copying; then ok "abort --force: run is copying"; else bad "abort --force: run is copying" "$(ustatus)"; fi
run "$FERRY" upgrade abort --force
same "abort --force of a live runner: exit 0" "$rc" 0
wait "$abf"; arc=$?
if [ "$arc" -ne 0 ]; then ok "abort --force: the runner stops with an error"
else bad "abort --force: the runner stops with an error" "it exited 0"; fi
same "abort --force: nothing switched, no new index" "$(release) $(listing)" "0.7.1 0.7.1 $base_list"
same "abort --force: old set untouched" "$(hashes 0.7.1)" "$(cat "$TMP/old.hashes")"
same "abort --force: state stays aborted" "$(ustatus | jq -r .state)" aborted
run $T "$FERRY" upgrade run --to 0.8.1 --quiet
same "run after abort --force: same documents as the reference" "$rc $(hashes 0.8.1)" "0 $(cat "$TMP/ref.hashes")"

# ------------------------------------------------------------ a throttled runner keeps its lease
# with --throttle a batch can take longer than the 30 s lease; the owner is
# alive all along, so a second runner must still be refused
if [ "${UPG_LIVE_SLOW:-1}" = 1 ]; then
  fresh slow
  "$FERRY" upgrade run --to 0.8.1 --throttle 100 --batch 4000 --quiet >/dev/null 2>&1 &
  slow=$!; pids+=("$slow")
  if wait_for 30 copying; then ok "slow: run is copying"; else bad "slow: run is copying" "$(ustatus)"; fi
  sleep 32
  same "slow: after 32 s the live owner's lease is alive" "$(ustatus | jq -c '[.lease.pid, .lease.alive]')" "[$slow,true]"
  run $T "$FERRY" upgrade run --to 0.8.1 --quiet
  same "slow: a second runner is still refused" "$rc" 1
  kill -9 "$slow" 2>/dev/null; wait "$slow" 2>/dev/null
  if [ "$rc" -eq 0 ]; then # the second one took over and finished
    same "slow: (after the takeover) the result is still the reference" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
  fi
fi

finish
