#!/usr/bin/env bash
# bench/30-cutover.sh - writes during an upgrade: BENCH_DOCS cdp-gen
# profiles are imported at 0.7.1 (FERRY_SYNC=off for that import only,
# then the file is flushed so the first synced write does not pay for it);
# bench/cutover_writer.c then puts new profiles w-000001, w-000002, ...
# through the alias default.profile, one committed (fsynced) write after
# the other, while `ferry upgrade run --to 0.8.1` (the three hops of
# examples/cdp/migrations, Lua included) copies, catches up and switches.
# The writer runs from before the upgrade starts until a second after it
# ended. Reported: each write's latency (p50, p99, max), the longest time
# no write was acknowledged, the write that met the switch, and how many
# acknowledged writes are missing from v0_8_1.default.profile afterwards.
# For scale, the writer also runs alone on an idle data dir first.
# Targets: write p99 <= 50 ms during the upgrade; 0 acknowledged writes
# lost (a lost write fails the stage).
#
#   BENCH_DOCS=100000 bench/30-cutover.sh    (normally run by bench/run)
#   BENCH_UPGRADE_BATCH=N ...                pass --batch N to the upgrade
#   BENCH_KEEP=1 ...                         keep the data dir and logs
#
# Every write's latency stays in $B/bench/cutover-latency.txt ("<ms since
# the writer started> <latency ms> <rc>").
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
FERRY=$B/ferry
GEN=$B/cdp-gen
MIG=examples/cdp/migrations
DATA=$BENCH_DIR/data-cutover
IDLE=$BENCH_DIR/data-cutover-idle
W=$BENCH_DIR/cutover_writer
STOP=$BENCH_DIR/cutover.stop
READY=$BENCH_DIR/cutover.ready
IDS=$BENCH_DIR/cutover-acked.txt
LAT=$BENCH_DIR/cutover-latency.txt
WOUT=$BENCH_DIR/cutover-writer.out
WLOG=$BENCH_DIR/cutover-writer.log
status=0
WPID=""

[ -x "$FERRY" ] || bench_die "$FERRY is not built (run make)"
[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"
[ -f "$B/libferry.a" ] || bench_die "$B/libferry.a is not built (run make)"

fail() {
	echo "$BENCH_STAGE: $1 failed (exit ${BENCH_RC:-?}); see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

# A writer left running by an interrupted run is stopped through its stop
# file, then by its pid.
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$WPID" ]; then
		touch "$STOP"
		sleep 0.5
		kill "$WPID" 2>/dev/null
		wait "$WPID" 2>/dev/null
	fi
	rm -f "$STOP" "$READY"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ writer
build_writer() {
	local log=$BENCH_DIR/cutover_writer-build.log libs
	if [ -x "$W" ] && [ "$W" -nt "$B/libferry.a" ] && [ "$W" -nt bench/cutover_writer.c ]; then
		return 0
	fi
	libs="$(pkg-config --libs lmdb lua5.4 libcrypto 2>/dev/null || echo -llmdb -llua5.4 -lcrypto)"
	# shellcheck disable=SC2086 # $libs is a list of linker flags
	cc -O2 -std=c11 -Wall -Iinclude bench/cutover_writer.c "$B/libferry.a" $libs \
		-lm -pthread -o "$W" >"$log" 2>&1 && return 0
	echo "$BENCH_STAGE: building bench/cutover_writer.c failed; see $log" >&2
	tail -n 5 "$log" >&2
	return 1
}

# start_writer DIR: the writer in the background on DIR; waits for its
# first acknowledged write.
start_writer() {
	local i
	rm -f "$STOP" "$READY" "$IDS" "$LAT" "$WOUT"
	"$W" "$1" "$STOP" "$IDS" --ready "$READY" --lat "$LAT" >"$WOUT" 2>"$WLOG" &
	WPID=$!
	for ((i = 0; i < 300; i++)); do
		[ -e "$READY" ] && return 0
		kill -0 "$WPID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

# stop_writer: touch the stop file, wait; the writer's line is in $WOUT.
stop_writer() {
	local rc
	touch "$STOP"
	wait "$WPID"
	rc=$?
	WPID=""
	rm -f "$STOP" "$READY"
	return "$rc"
}

# wval KEY: a value of the writer's key=value line.
wval() { tr ' ' '\n' <"$WOUT" | sed -n "s/^$1=//p"; }

# ------------------------------------------------------------------ setup
build_writer || bench_die "no writer"
file=$(bench_profiles "$N") || bench_die "generating profiles failed"
bytes=$(wc -c <"$file" | tr -d ' ')
echo "$BENCH_STAGE: $N profiles, $bytes bytes ($((bytes / N)) B/doc) in $file"
cat "$file" >/dev/null # warm the page cache

log=$BENCH_DIR/cutover-setup.log
rm -rf "$DATA" "$IDLE"
{ FERRY_DATA=$DATA "$FERRY" init --version 0.7.1 &&
	FERRY_DATA=$DATA "$FERRY" index create event &&
	FERRY_DATA=$DATA "$FERRY" index create session &&
	FERRY_DATA=$DATA FERRY_SYNC=off "$FERRY" import profile "$file" &&
	sync "$DATA"/*.mdb &&
	FERRY_DATA=$IDLE "$FERRY" init --version 0.7.1 &&
	FERRY_DATA=$IDLE "$FERRY" index create profile; } >"$log" 2>&1 ||
	{ BENCH_RC=$?; fail "setting up the data dirs (init, import)" "$log"; exit 1; }

# ------------------------------------------------------------------ idle
idle_rate="" idle_p50="" idle_p99="" idle_max=""
if start_writer "$IDLE"; then
	sleep 2
	if stop_writer; then
		idle_rate=$(bench_rate "$(wval acked)" "$(wval secs)")
		idle_p50=$(wval p50_ms) idle_p99=$(wval p99_ms) idle_max=$(wval max_ms)
		bench_result writer-idle "$(wval acked)" "$(wval secs)" "" \
			"p50_ms=$idle_p50" "p99_ms=$idle_p99" "max_ms=$idle_max" \
			"pause_ms=$(wval pause_ms)" "failed=$(wval failed)"
	else
		BENCH_RC=1
		fail "the writer on an idle data dir" "$WLOG"
	fi
else
	BENCH_RC=1
	fail "starting the writer" "$WLOG"
	stop_writer
fi
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$IDLE"

# ------------------------------------------------------------------ live
up_rate="" up_rss="" w_rate="" p50="" p99="" wmax="" pause="" acked="" failed=""
lost="" migrated="" direct="" switch_ms="" switch_id="" near_ms=""
ulog=$BENCH_DIR/cutover-upgrade.log
batch=()
[ -n "${BENCH_UPGRADE_BATCH:-}" ] && batch=(--batch "$BENCH_UPGRADE_BATCH")
if start_writer "$DATA"; then
	sleep 0.5 # writes before the upgrade starts
	bench_run env FERRY_DATA="$DATA" FERRY_MIGRATIONS="$MIG" "$FERRY" upgrade run \
		--to 0.8.1 --quiet "${batch[@]}" >"$ulog" 2>&1
	up_rc=$BENCH_RC up_secs=$BENCH_SECS up_rss=$BENCH_RSS_KB
	sleep 1 # writes after the switch
	if ! stop_writer; then
		BENCH_RC=1
		fail "the writer during the upgrade" "$WLOG"
	fi
	if [ "$up_rc" != 0 ]; then
		BENCH_RC=$up_rc
		fail "ferry upgrade run --to 0.8.1 under writes" "$ulog"
	else
		up_rate=$(bench_rate "$N" "$up_secs")
		bench_result upgrade-live "$N" "$up_secs" "$up_rss" "to=0.8.1" \
			"batch=${BENCH_UPGRADE_BATCH:-default}"
	fi
else
	BENCH_RC=1
	fail "starting the writer" "$WLOG"
	stop_writer
fi

if [ -s "$WOUT" ]; then
	acked=$(wval acked) failed=$(wval failed)
	p50=$(wval p50_ms) p99=$(wval p99_ms) wmax=$(wval max_ms) pause=$(wval pause_ms)
	w_rate=$(bench_rate "$acked" "$(wval secs)")
fi

# ------------------------------------------------------------------ check
# Every acknowledged id must be in v0_8_1.default.profile, which
# default.profile must name. The writer's ids sort after every UUID, so an
# export after "w-" reads only them. Their bodies tell when they were
# written: "schema":"0.8.1" went through the migration (written before
# the switch), without it the write went to the new index directly.
if [ -n "$acked" ] && [ "$up_rate" != "" ]; then
	exp=$BENCH_DIR/cutover-export.ndjson
	present=$BENCH_DIR/cutover-present.txt
	if FERRY_DATA=$DATA "$FERRY" export v0_8_1.default.profile --format bulk \
		--after w- >"$exp" 2>"$BENCH_DIR/cutover-export.log"; then
		awk '
			/^\{"index":/ { sub(/^\{"index":\{"_id":"/, ""); sub(/".*/, ""); id = $0; next }
			{ print id > ids
			  if (index($0, "\"schema\":\"0.8.1\"")) m++
			  else { d++; n = substr(id, 3) + 0; if (!first || n < first) first = n } }
			END { printf "%d %d %d\n", m, d, first }' ids="$present.tmp" "$exp" \
			>"$present.stat"
		sort "$present.tmp" >"$present"
		read -r migrated direct first <"$present.stat"
		lost=$(sort "$IDS" | comm -23 - "$present" | wc -l | tr -d ' ')
		extra=$(sort "$IDS" | comm -13 - "$present" | wc -l | tr -d ' ')
		if [ "$lost" != 0 ]; then
			echo "$BENCH_STAGE: $lost acknowledged writes are missing from" \
				"v0_8_1.default.profile, e.g.:" \
				"$(sort "$IDS" | comm -23 - "$present" | head -n 3 | tr '\n' ' ')" >&2
			status=1
		fi
		# Writes that failed may or may not have landed; report, don't fail.
		[ "$extra" != 0 ] && echo "$BENCH_STAGE: note: $extra w- documents" \
			"were stored but not acknowledged" >&2
		if [ "${first:-0}" -gt 0 ]; then
			switch_id=$(printf 'w-%06d' "$first")
			# the first write that went to the new index directly: its
			# latency is the wait for the switch (line = write number)
			switch_ms=$(sed -n "${first}p" "$LAT" | awk '{ print $2 }')
			# and the longest write among the 50 before and after it
			near_ms=$(awk -v f="$first" 'NR >= f - 50 && NR <= f + 50 &&
				$2 > m { m = $2 } END { print m + 0 }' "$LAT")
		fi
		rm -f "$present.tmp" "$present.stat"
		[ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$exp" "$present"
	else
		BENCH_RC=1
		fail "ferry export v0_8_1.default.profile" "$BENCH_DIR/cutover-export.log"
	fi
	got=$(FERRY_DATA=$DATA "$FERRY" index list v0_8_1.default.profile --json 2>/dev/null |
		sed -n 's/.*"docs":\([0-9]*\).*/\1/p')
	want=$((N + ${migrated:-0} + ${direct:-0}))
	if [ "$got" != "$want" ]; then
		echo "$BENCH_STAGE: v0_8_1.default.profile holds '${got:-?}' documents," \
			"not $N profiles + $((${migrated:-0} + ${direct:-0})) written" >&2
		status=1
	fi
	if ! FERRY_DATA=$DATA "$FERRY" index list default.profile 2>/dev/null |
		grep -q '^v0_8_1\.default\.profile '; then
		echo "$BENCH_STAGE: default.profile does not point at v0_8_1.default.profile" >&2
		status=1
	fi
	bench_result writer-live "$acked" "$(wval secs)" "" "p50_ms=$p50" "p99_ms=$p99" \
		"p999_ms=$(wval p999_ms)" "max_ms=$wmax" "pause_ms=$pause" "failed=$failed" \
		"lost=$lost" "before_switch=$migrated" "after_switch=$direct" \
		"switch_write_ms=${switch_ms:-na}" "near_switch_max_ms=${near_ms:-na}"
fi
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"

# ------------------------------------------------------------------ report
ms() { if [ -n "$1" ]; then awk -v v="$1" 'BEGIN { printf "%.1f ms", v }'; else echo n/a; fi; }
bench_summary "$BENCH_STAGE: upgrade of $N profiles to 0.8.1 (3 hops, Lua) while a" \
	"client writes new profiles through default.profile, fsync per write"
bench_row_header
bench_row "ferry upgrade under writes" "$up_rate" "$up_rss"
bench_row "writer alone (idle data dir)" "$idle_rate" "" \
	"p50 $(ms "$idle_p50"), p99 $(ms "$idle_p99"), max $(ms "$idle_max")"
bench_row "writer during the upgrade" "$w_rate" "" \
	"p50 $(ms "$p50"), p99 $(ms "$p99"), max $(ms "$wmax")"
bench_summary "  longest pause between acknowledged writes: $(ms "$pause");" \
	"the first write after the switch ($switch_id) took $(ms "$switch_ms")," \
	"the slowest of the 101 writes around it $(ms "$near_ms")"
bench_summary "  writes acknowledged: ${acked:-n/a} (${migrated:-?} before the switch," \
	"${direct:-?} after), failed: ${failed:-n/a}, lost: ${lost:-n/a}"
if [ -z "$p99" ]; then v="not measured"
elif awk -v p="$p99" 'BEGIN { exit !(p <= 50) }'; then v="met ($(ms "$p99"))"
else v="missed ($(ms "$p99"))"; fi
bench_summary "  target: write p99 during the upgrade <= 50 ms: $v"
if [ -z "$lost" ]; then v="not measured"
elif [ "$lost" = 0 ]; then v="met (0 of $acked)"
else v="missed ($lost of $acked)"; fi
bench_summary "  target: acknowledged writes lost = 0: $v"
exit "$status"
