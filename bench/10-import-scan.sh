#!/usr/bin/env bash
# bench/10-import-scan.sh - foundation benchmark: load BENCH_DOCS profiles
# (cdp-gen NDJSON, cached in $B/bench) with `ferry import`, with fsync per
# commit and with FERRY_SYNC=off; read them back with a full ordered scan
# through the C API (bench/scan.c) and with `ferry export`; compare with
# the peers `cat FILE` (the read floor) and `jq -c . FILE` (a JSON tool).
# Page cache warm. Targets: import >= 500k docs/s, scan >= 2 M docs/s.
#
#   BENCH_DOCS=100000 bench/10-import-scan.sh     (normally run by bench/run)
#
# Exit status 1 if a command failed, a count is wrong or ferry is not built;
# a missed target is reported, not failed (shared machines are noisy).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
FERRY=$B/ferry
GEN=$B/cdp-gen
DATA=$BENCH_DIR/data-import
DATA_NOSYNC=$BENCH_DIR/data-import-nosync
status=0

[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"
file=$(bench_profiles "$N") || bench_die "generating profiles failed"
bytes=$(wc -c <"$file" | tr -d ' ')
echo "$BENCH_STAGE: $N profiles, $bytes bytes ($((bytes / N)) B/doc) in $file"

free_kb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((bytes * 4 / 1024)) ]; then
	echo "$BENCH_STAGE: warning: only $((free_kb / 1024)) MiB free in $BENCH_DIR;" \
		"two data dirs of about the file's size are needed" >&2
fi

# fail WHAT LOG: reports a failed step with the end of its log.
fail() {
	echo "$BENCH_STAGE: $1 failed (exit $BENCH_RC); see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

# ------------------------------------------------------------------ peers
cat "$file" >/dev/null # warm the page cache

bench_repeat bench_run "$GEN" --type profile --count "$N" >/dev/null
gen_rate=$(bench_rate "$N" "$BENCH_SECS")
gen_rss=$BENCH_RSS_KB
bench_result cdp-gen "$N" "$BENCH_SECS" "$BENCH_RSS_KB"

bench_repeat bench_run cat "$file" >/dev/null
cat_rate=$(bench_rate "$N" "$BENCH_SECS")
bench_result cat "$N" "$BENCH_SECS" "$BENCH_RSS_KB" "bytes=$bytes"
cat_rss=$BENCH_RSS_KB

jq_rate="" jq_rss=""
if command -v jq >/dev/null; then
	if bench_repeat bench_run jq -c . "$file" >/dev/null 2>"$BENCH_DIR/jq.log"; then
		jq_rate=$(bench_rate "$N" "$BENCH_SECS")
		jq_rss=$BENCH_RSS_KB
		bench_result jq "$N" "$BENCH_SECS" "$BENCH_RSS_KB" "bytes=$bytes"
	else
		fail "jq -c ." "$BENCH_DIR/jq.log"
	fi
else
	echo "$BENCH_STAGE: jq not installed; no jq peer (scripts/deps bench)" >&2
fi

# ------------------------------------------------------------------ ferry
# import_once DIR LOG [VAR=VALUE ...]: a fresh data dir, `ferry init`, then
# one timed `ferry import` with the given environment.
# shellcheck disable=SC2317 # called through bench_repeat
import_once() {
	local dir=$1 log=$2
	shift 2
	rm -rf "$dir"
	if ! env FERRY_DATA="$dir" "$@" "$FERRY" init --version 0.7.1 >"$log" 2>&1; then
		BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=
		echo "(ferry init failed)" >>"$log"
		return 1
	fi
	bench_run env FERRY_DATA="$dir" "$@" "$FERRY" import profile "$file" >>"$log" 2>&1
}

# scan_count DIR: the number of documents the C API scan finds (no timing).
scan_count() {
	"$BENCH_DIR/scan" "$1" profile 2>/dev/null | sed -n 's/^docs=\([0-9]*\).*/\1/p'
}

imp_rate="" imp_rss="" nosync_rate="" nosync_rss=""
scan_rate="" scan_rss="" exp_rate="" exp_rss=""
if [ ! -x "$FERRY" ]; then
	echo "$BENCH_STAGE: $FERRY is not built: ferry measurements skipped" >&2
	status=1
else
	scan_ok=1
	bench_build_scan || { scan_ok=0; status=1; }

	log=$BENCH_DIR/import-nosync.log
	if bench_repeat import_once "$DATA_NOSYNC" "$log" FERRY_SYNC=off; then
		nosync_rate=$(bench_rate "$N" "$BENCH_SECS")
		nosync_rss=$BENCH_RSS_KB
		bench_result import-nosync "$N" "$BENCH_SECS" "$BENCH_RSS_KB" "bytes=$bytes" sync=off
	else
		fail "ferry import (FERRY_SYNC=off)" "$log"
	fi
	rm -rf "$DATA_NOSYNC"

	log=$BENCH_DIR/import.log
	if bench_repeat import_once "$DATA" "$log"; then
		imp_rate=$(bench_rate "$N" "$BENCH_SECS")
		imp_rss=$BENCH_RSS_KB
		bench_result import "$N" "$BENCH_SECS" "$BENCH_RSS_KB" "bytes=$bytes" sync=on
		if [ "$scan_ok" = 1 ]; then
			got=$(scan_count "$DATA")
			if [ "$got" != "$N" ]; then
				echo "$BENCH_STAGE: after import the scan finds '${got:-?}'" \
					"documents, not $N" >&2
				status=1
			fi
		fi
	else
		fail "ferry import" "$log"
		scan_ok=0
	fi

	if [ "$scan_ok" = 1 ]; then
		out=$BENCH_DIR/scan.out
		if bench_repeat bench_run "$BENCH_DIR/scan" "$DATA" profile >"$out" 2>&1; then
			scan_rate=$(bench_rate "$N" "$BENCH_SECS")
			scan_rss=$BENCH_RSS_KB
			bench_result scan "$N" "$BENCH_SECS" "$BENCH_RSS_KB" "$(sed 's/^docs=[0-9]* bytes=/body_bytes=/' "$out" | tr -d '\n')"
		else
			fail "scan" "$out"
		fi

		log=$BENCH_DIR/export.log
		if bench_repeat bench_run env FERRY_DATA="$DATA" "$FERRY" export profile \
			>/dev/null 2>"$log"; then
			exp_rate=$(bench_rate "$N" "$BENCH_SECS")
			exp_rss=$BENCH_RSS_KB
			bench_result export "$N" "$BENCH_SECS" "$BENCH_RSS_KB"
		else
			fail "ferry export" "$log"
		fi
	fi
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"
fi

# ------------------------------------------------------------------ report
vs() { echo "ferry/jq $(bench_ratio "$1" "$jq_rate"), ferry/cat $(bench_ratio "$1" "$cat_rate")"; }
bench_summary "$BENCH_STAGE: $N profiles, $((bytes / N)) B/doc, page cache warm," \
	"median of $BENCH_REPEAT"
bench_row_header
bench_row "cat FILE >/dev/null (read floor)" "$cat_rate" "$cat_rss"
bench_row "jq -c . FILE >/dev/null" "$jq_rate" "$jq_rss"
bench_row "cdp-gen (generate, to /dev/null)" "$gen_rate" "$gen_rss"
bench_row "ferry import" "$imp_rate" "$imp_rss" "$(vs "$imp_rate")"
bench_row "ferry import, FERRY_SYNC=off" "$nosync_rate" "$nosync_rss" "$(vs "$nosync_rate")"
bench_row "ferry scan (C API, bench/scan.c)" "$scan_rate" "$scan_rss" "$(vs "$scan_rate")"
bench_row "ferry export >/dev/null" "$exp_rate" "$exp_rss" "$(vs "$exp_rate")"
bench_summary "  (peak RSS counts the pages of the LMDB map a process touched)"
bench_target "import >= 500k docs/s" "$imp_rate" 500000
bench_target "import, FERRY_SYNC=off >= 500k docs/s" "$nosync_rate" 500000
bench_target "scan >= 2 M docs/s" "$scan_rate" 2000000
exit "$status"
