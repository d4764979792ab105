#!/usr/bin/env bash
# tests/cli/test_upgrade_crash.sh - `kill -9` of `ferry upgrade run` at
# random points (28 by default), then `ferry upgrade resume` or plain
# `run` again (and in some rounds a second kill, of the resume itself).
# After each kill the data dir must be consistent (either nothing or
# everything switched, the old set untouched, the dead runner's lease
# free); after finishing, every index of the new version must have the
# same content (export | sha256sum per index) as an uninterrupted run and
# `ferry index list --json` the same indices, aliases and counts.
#
#   B=build bash tests/cli/test_upgrade_crash.sh      (or B=build-san)
#   UPG_CRASH_POINTS=40 UPG_CRASH_SEED=7 ... to vary
. "$(dirname "$0")/lib.sh"
data_suite

T="timeout 120"
. "$(dirname "$0")/upgrade_lib.sh"
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
NP=${UPG_CRASH_DOCS:-4000} # profiles and events per tenant; sessions: half
POINTS=${UPG_CRASH_POINTS:-28}
SEED=${UPG_CRASH_SEED:-$$}
BATCH=500
RANDOM=$SEED
echo "# seed $SEED, $POINTS points, $NP profiles per tenant, batch $BATCH"

now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
rnd() { echo $(((RANDOM * 32768 + RANDOM) % $1)); } # 0..$1-1

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
same "base: 6 indices" "$(wc -l <"$TMP/old.hashes")" 6

# D: the shortest of three uninterrupted runs (the machine may be busy)
D=
for i in 3 2 1; do
  rm -rf "$TMP/ref"; cp -a "$TMP/base" "$TMP/ref"; use ref
  t0=$(now_ms)
  check "reference: uninterrupted run ($i)" $T "$FERRY" upgrade run --to 0.8.1 --batch $BATCH --quiet
  d=$(($(now_ms) - t0))
  [ -z "$D" ] || [ "$d" -lt "$D" ] && D=$d
done
hashes 0.8.1 >"$TMP/ref.hashes"
ref_list=$(listing)
same "reference: 6 new indices" "$(wc -l <"$TMP/ref.hashes")" 6
same "reference: old set untouched" "$(hashes 0.7.1)" "$(cat "$TMP/old.hashes")"
cp -a "$TMP/base" "$TMP/thr"; use thr
THROTTLE=$((NP * 5 * 2 / 3)) # documents/s: the copy takes about 1.5 s
t0=$(now_ms)
check "reference: throttled run" $T "$FERRY" upgrade run --to 0.8.1 --batch $BATCH --throttle "$THROTTLE" --quiet
DT=$(($(now_ms) - t0))
same "reference: throttled run gives the same documents" "$(hashes 0.8.1)" "$(cat "$TMP/ref.hashes")"
echo "# uninterrupted run: $D ms; with --throttle $THROTTLE: $DT ms"
# mode 2 imports changed profiles while the (throttled) run copies, so
# the catch-up has work; its reference is the base with that import done
# first, then an uninterrupted run
"$GEN" --type profile --count "$NP" --tenant acme --update-every 7 >"$TMP/upd.ndjson"
cp -a "$TMP/base" "$TMP/ref2"; use ref2
check "reference 2: import changed profiles" $T "$FERRY" import acme.profile "$TMP/upd.ndjson" --quiet
hashes 0.7.1 >"$TMP/old2.hashes"
check "reference 2: uninterrupted run" $T "$FERRY" upgrade run --to 0.8.1 --batch $BATCH --quiet
hashes 0.8.1 >"$TMP/ref2.hashes"
ref2_list=$(listing)
if cmp -s "$TMP/ref.hashes" "$TMP/ref2.hashes"; then bad "reference 2 differs from reference 1" "the import changed nothing"
else ok "reference 2 differs from reference 1"; fi

# ------------------------------------------------------------ kill -9 at random points
# state after a kill must be one of: nothing recorded, before the switch
# (old active, old aliases), after it (new active, new aliases)
consistent() {
  local r=$1 st=$2 rel
  rel=$(release)
  case "$st" in
  "" | copy | catchup | cutover)
    same "round $r: not switched while $st${st:-(no job)}" "$rel $(resolve acme.profile) $(resolve default.event)" \
      "0.7.1 0.7.1 v0_7_1.acme.profile v0_7_1.default.event" ;;
  verify | done)
    same "round $r: switched while $st" "$rel $(resolve acme.profile) $(resolve default.events)" \
      "0.8.1 0.8.1 v0_8_1.acme.profile v0_8_1.default.events" ;;
  *) bad "round $r: state after the kill" "unexpected state '$st'" ;;
  esac
}
kill_run() { # MS CMD... : runs CMD in the background, kill -9 after MS ms
  local ms=$1; shift
  "$@" >/dev/null 2>"$TMP/bg.err" &
  bg=$!
  sleep_ms "$ms"
  if kill -9 "$bg" 2>/dev/null; then killed=1; else killed=0; fi
  wait "$bg" 2>/dev/null; bg=""
}

midway=0 states=""
for r in $(seq 1 "$POINTS"); do
  rm -rf "$TMP/r"; cp -a "$TMP/base" "$TMP/r"; use r
  mode=$((r % 4))
  opts=(--to 0.8.1 --batch "$BATCH" --quiet)
  if [ $mode -eq 2 ]; then
    # late in the run, to land in the catch-up and cutover too
    opts+=(--throttle "$THROTTLE"); ms=$((DT * 7 / 10 + $(rnd $((DT * 4 / 10)))))
  else
    ms=$(rnd $((D + D / 10)))
  fi
  oldh=$TMP/old.hashes refh=$TMP/ref.hashes refl=$ref_list imp=""
  if [ $mode -eq 2 ]; then
    oldh=$TMP/old2.hashes refh=$TMP/ref2.hashes refl=$ref2_list
    ( "$FERRY" import acme.profile "$TMP/upd.ndjson" --batch 200 --quiet >/dev/null 2>"$TMP/imp.err"
      echo "$? $(now_ms)" >"$TMP/imp.end" ) &
    imp=$!
  fi
  kill_run "$ms" "$FERRY" upgrade run "${opts[@]}"
  if [ -n "$imp" ]; then
    wait "$imp"
    same "round $r: the concurrent import succeeded" "$(cut -d' ' -f1 "$TMP/imp.end")" 0
  fi
  run $T "$FERRY" upgrade status --json
  same "round $r: status after kill -9 exits 0" "$rc" 0
  st=$(jq -r '.state // ""' <<<"$out")
  alive=$(jq -r '.lease.alive // false' <<<"$out")
  echo "#    round $r (mode $mode): kill at $ms ms, killed=$killed, state '${st}'"
  states="$states ${st:-none}"
  case "$st" in copy | catchup | cutover | verify) [ "$killed" = 1 ] && midway=$((midway + 1)) ;; esac
  same "round $r: a dead runner's lease is not alive" "$alive" false
  consistent "$r" "$st"
  same "round $r: old set untouched after the kill" "$(hashes 0.7.1)" "$(cat "$oldh")"

  if [ $mode -eq 3 ]; then # kill the resume too
    ms2=$((5 + $(rnd $((D / 2 + 1)))))
    kill_run "$ms2" "$FERRY" upgrade resume --batch $BATCH --quiet
    st2=$($T "$FERRY" upgrade status --json | jq -r '.state // ""')
    echo "#    round $r: resume killed at $ms2 ms, killed=$killed, state '$st2'"
    consistent "$r (2nd kill)" "$st2"
    st=$st2
  fi
  if [ $mode -eq 1 ] || [ $mode -eq 3 ]; then
    run $T "$FERRY" upgrade run --to 0.8.1 --batch $BATCH --quiet
    same "round $r: run again finishes" "$rc" 0
  else
    run $T "$FERRY" upgrade resume --batch $BATCH --quiet
    if [ -z "$st" ] || [ "$st" = "done" ]; then
      # nothing under way: resume says so, and a plain run finishes
      same "round $r: resume with nothing under way: not found (3)" "$rc" 3
      run $T "$FERRY" upgrade run --to 0.8.1 --batch $BATCH --quiet
      same "round $r: then run finishes" "$rc" 0
    else
      same "round $r: resume finishes" "$rc" 0
    fi
  fi
  [ "$rc" -ne 0 ] && echo "#    $err"
  same "round $r: upgrade done" "$($T "$FERRY" upgrade status --json | jq -r .state)" "done"
  if [ -n "$imp" ] && [ "$(cut -d' ' -f2 "$TMP/imp.end")" -gt \
       "$($T "$FERRY" upgrade status --json | jq .cutover_ms)" ]; then
    echo "#    round $r: the import ended after the switch; contents not comparable"
    continue
  fi
  same "round $r: same documents as the uninterrupted run" "$(hashes 0.8.1)" "$(cat "$refh")"
  same "round $r: same indices, aliases and counts" "$(listing)" "$refl"
  run $T "$FERRY" upgrade run --to 0.8.1 --quiet
  same "round $r: running it again changes nothing" "$rc $(listing)" "0 $refl"
done
echo "# states after the kills:$states"
if [ "$midway" -ge $((POINTS / 3)) ]; then ok "$midway of $POINTS kills landed inside the run"
else bad "at least a third of the kills land inside the run" "only $midway of $POINTS (busy machine?)"; fi

finish
