#!/usr/bin/env bash
# bench/40-snapshot.sh - snapshot benchmark: BENCH_DOCS cdp-gen profiles
# are imported at 0.7.1 (FERRY_SYNC=off, then the data file is flushed)
# and snapshotted in full with `ferry snapshot create` into a fresh
# repository; then the `--update-every 100` version of the same profiles
# (every 100th document changed, every other line byte-identical) is
# imported over them, the same way, and snapshotted again (incremental: the
# whole file was rewritten, so this is a diff delta against the base).
# Finally the incremental snapshot is restored with `--all` into an empty
# data dir (ferry's default fsync). The peer is restic on the same data:
# `restic backup` of the cdp-gen NDJSON file (hard-linked to one fixed
# path), then of the changed file at that path (restic dedupes what its
# chunks allow), and `restic restore latest`.
# Reported per step: docs/s (documents in the snapshot over wall time,
# also for the incremental ones), peak RSS, and the bytes each step added
# to its repository (du -sb before and after), with ratios.
# Targets: full snapshot >= 2x restic's backup speed at <= its repository
# bytes; incremental snapshot <= 5 % of the full snapshot's time and <= 3 %
# of its bytes. With BENCH_BIG=1 everything runs again at 5x BENCH_DOCS.
#
#   BENCH_DOCS=100000 bench/40-snapshot.sh    (normally run by bench/run)
#   BENCH_BIG=1 ...                           also 5x BENCH_DOCS (disk!)
#   BENCH_KEEP=1 ...                          keep data dirs and repositories
#
# With BENCH_REPEAT > 1 each measurement is repeated from the same start:
# a full snapshot or backup into a fresh repository, the incremental one
# after deleting it again (ferry) or into a copy of the repository that
# holds only the full backup (restic), a restore into a fresh directory.
#
# restic is Debian's (scripts/deps bench). Its repository is encrypted
# with RESTIC_PASSWORD (set here; restic >= 0.17 would also take
# --insecure-no-password), and 0.14 and later compress by default (repo
# format 2). Its cache goes to $B/bench. restic writes the restored file
# without fsync; ferry's restore fsyncs its commits.
#
# Exit status 1 if a command failed, a count or a restored file is wrong or
# ferry is not built; a missed target is reported, not failed.
# The *_once steps and their helpers are called through bench_repeat:
# shellcheck disable=SC2317
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
FERRY=$B/ferry
GEN=$B/cdp-gen
PHYS=v0_7_1.default.profile
status=0

[ -x "$FERRY" ] || bench_die "$FERRY is not built (run make)"
[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"

fail() {
	echo "$BENCH_STAGE: $1 failed (exit ${BENCH_RC:-?}); see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

# Cached --update-every 100 version of bench_profiles N: the same
# documents, every 100th changed. Prints its path.
profiles_updated() {
	local n=$1 base name f
	base=$(bench_profiles "$n") || return 1
	name=$(basename "$base" .ndjson)
	f=$BENCH_DIR/$name-u100.ndjson
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
		echo "$BENCH_STAGE: generating $n profiles, every 100th changed, into $f" >&2
		"$GEN" --type profile --count "$n" --update-every 100 >"$f.tmp" ||
			{ rm -f "$f.tmp"; return 1; }
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

dir_bytes() { du -sb "$1" 2>/dev/null | awk '{ print $1 }'; }

# Human bytes: 80.5 MiB, 891.0 KiB, or n/a.
human_bytes() {
	awk -v b="${1:-}" 'BEGIN {
		if (b == "") print "n/a";
		else if (b >= 1073741824) printf "%.2f GiB", b / 1073741824;
		else if (b >= 1048576) printf "%.1f MiB", b / 1048576;
		else if (b >= 1024) printf "%.1f KiB", b / 1024;
		else printf "%d B", b }'
}

# Percent A/B: "3.12 %", or n/a.
pct() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "n/a";
		else printf "%.2f %%", 100 * a / b }'
}

# A number member of one-line JSON: json_num FIELD FILE
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | head -n 1; }

index_docs() {
	FERRY_DATA=$1 "$FERRY" index list "$PHYS" --json 2>/dev/null |
		sed -n 's/.*"docs":\([0-9]*\).*/\1/p'
}

# import_file DIR FILE LOG: FERRY_SYNC=off import, then the data file is
# flushed (not timed) so the next fsync does not pay for it. Sets IMP_SECS.
import_file() {
	bench_run env FERRY_DATA="$1" FERRY_SYNC=off "$FERRY" import profile "$2" \
		--quiet >>"$3" 2>&1 || return 1
	IMP_SECS=$BENCH_SECS IMP_RSS=$BENCH_RSS_KB
	sync "$1"/*.mdb 2>>"$3"
}

# verdict WHAT OK DETAIL: a target line; OK is 1, 0 or "" (not measured).
verdict() {
	local v
	if [ -z "$2" ]; then v="not measured"
	elif [ "$2" = 1 ]; then v="met ($3)"
	else v="missed ($3)"; fi
	bench_summary "  target: $1: $v"
}

# is A <= B: prints 1, 0, or "" when either is missing.
le() {
	[ -n "${1:-}" ] && [ -n "${2:-}" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'
}

count_human() {
	if (($1 % 1000000 == 0)); then echo "$(($1 / 1000000)) M"
	elif (($1 % 1000 == 0)); then echo "$(($1 / 1000)) k"
	else echo "$1"; fi
}

# ------------------------------------------------------------------ steps
# Each *_once is one timed step for bench_repeat; it sets BENCH_* and, for
# the repository steps, STEP_BYTES (what the repository grew by).

snap_full_once() {
	local before after out=$BENCH_DIR/snapshot-full.json
	rm -rf "$REPO"
	mkdir -p "$REPO"
	FERRY_DATA=$DATA "$FERRY" snapshot repo remove b >/dev/null 2>&1
	if ! FERRY_DATA=$DATA "$FERRY" snapshot repo add b "$REPO" >>"$LOG" 2>&1; then
		BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=
		return 1
	fi
	before=$(dir_bytes "$REPO")
	bench_run env FERRY_DATA="$DATA" "$FERRY" snapshot create b full --json --quiet \
		>"$out" 2>>"$LOG" || return 1
	after=$(dir_bytes "$REPO")
	STEP_BYTES=$((after - before))
	STEP_NEW=$(json_num new_bytes "$out")
}

snap_incr_once() {
	local before after out=$BENCH_DIR/snapshot-incr.json
	if [ -f "$REPO/snapshots/incr.json" ]; then
		FERRY_DATA=$DATA "$FERRY" snapshot delete b incr >>"$LOG" 2>&1 ||
			{ BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=; return 1; }
	fi
	before=$(dir_bytes "$REPO")
	bench_run env FERRY_DATA="$DATA" "$FERRY" snapshot create b incr --json --quiet \
		>"$out" 2>>"$LOG" || return 1
	after=$(dir_bytes "$REPO")
	STEP_BYTES=$((after - before))
	STEP_NEW=$(json_num new_bytes "$out")
}

snap_restore_once() {
	rm -rf "$REST"
	bench_run env FERRY_DATA="$REST" "$FERRY" snapshot restore "$REPO" incr --all \
		--json --quiet >"$BENCH_DIR/snapshot-restore.json" 2>>"$LOG"
}

# restic with this size's repository and cache, as an array so that
# bench_run (/usr/bin/time) can run it.
RESTIC=()
set_restic() {
	RESTIC=(env RESTIC_PASSWORD=ferry-bench RESTIC_REPOSITORY="$RREPO"
		RESTIC_CACHE_DIR="$RCACHE" restic)
}

restic_full_once() {
	local before after
	rm -rf "$RREPO" "$RCACHE" "$RSRC"
	mkdir -p "$RSRC"
	if ! "${RESTIC[@]}" init >>"$RLOG" 2>&1; then
		BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=
		return 1
	fi
	ln -f "$FILE_A" "$RSRC/profiles.ndjson" # same path both times, no copy
	before=$(dir_bytes "$RREPO")
	bench_run "${RESTIC[@]}" backup --quiet --host ferry-bench "$RSRC/profiles.ndjson" \
		>>"$RLOG" 2>&1 || return 1
	after=$(dir_bytes "$RREPO")
	STEP_BYTES=$((after - before))
	if [ "$BENCH_REPEAT" -gt 1 ]; then
		rm -rf "$RREPO.full"
		cp -a "$RREPO" "$RREPO.full"
	fi
}

restic_incr_once() {
	local before after
	if [ -d "$RREPO.full" ]; then
		rm -rf "$RREPO"
		cp -a "$RREPO.full" "$RREPO"
	fi
	ln -f "$FILE_B" "$RSRC/profiles.ndjson"
	before=$(dir_bytes "$RREPO")
	bench_run "${RESTIC[@]}" backup --quiet --host ferry-bench "$RSRC/profiles.ndjson" \
		>>"$RLOG" 2>&1 || return 1
	after=$(dir_bytes "$RREPO")
	STEP_BYTES=$((after - before))
}

restic_restore_once() {
	rm -rf "$RREST"
	bench_run "${RESTIC[@]}" restore latest --target "$RREST" --quiet >>"$RLOG" 2>&1
}

# ------------------------------------------------------------------ one size
# run_size N TAG: every measurement on N profiles, then its summary.
run_size() {
	local n=$1 tag=$2 bytes got sfx=""
	[ -n "$tag" ] && sfx=-$tag
	DATA=$BENCH_DIR/data-snap$sfx
	REPO=$BENCH_DIR/snaprepo$sfx
	REST=$BENCH_DIR/data-snap-restore$sfx
	RREPO=$BENCH_DIR/restic-repo$sfx
	RCACHE=$BENCH_DIR/restic-cache$sfx
	RSRC=$BENCH_DIR/restic-src$sfx
	RREST=$BENCH_DIR/restic-restore$sfx
	LOG=$BENCH_DIR/snapshot$sfx.log
	RLOG=$BENCH_DIR/restic$sfx.log
	set_restic
	: >"$LOG"

	FILE_A=$(bench_profiles "$n") || { echo "$BENCH_STAGE: generating profiles failed" >&2; status=1; return; }
	FILE_B=$(profiles_updated "$n") || { echo "$BENCH_STAGE: generating updated profiles failed" >&2; status=1; return; }
	bytes=$(wc -c <"$FILE_A" | tr -d ' ')
	echo "$BENCH_STAGE: $n profiles, $bytes bytes ($((bytes / n)) B/doc) in $FILE_A" \
		"and, every 100th changed, $FILE_B"

	local free_kb
	free_kb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
	if [ -n "$free_kb" ] && [ "$free_kb" -lt $((bytes * 6 / 1024)) ]; then
		echo "$BENCH_STAGE: warning: only $((free_kb / 1024)) MiB free in $BENCH_DIR;" \
			"two data dirs of about twice the file's size and the repositories are needed" >&2
	fi
	cat "$FILE_A" "$FILE_B" >/dev/null # warm the page cache

	local full_rate="" full_rss="" full_secs="" full_bytes="" full_new=""
	local incr_rate="" incr_rss="" incr_secs="" incr_bytes="" incr_new="" incr_parts=""
	local rest_rate="" rest_rss=""
	local rfull_rate="" rfull_rss="" rfull_secs="" rfull_bytes=""
	local rincr_rate="" rincr_rss="" rincr_secs="" rincr_bytes=""
	local rrest_rate="" rrest_rss="" rver=""

	# -------------------------------------------------------------- ferry
	rm -rf "$DATA" "$REPO" "$REST"
	if ! FERRY_DATA=$DATA "$FERRY" init --version 0.7.1 >>"$LOG" 2>&1 ||
		! import_file "$DATA" "$FILE_A" "$LOG"; then
		BENCH_RC=${BENCH_RC:-1}
		fail "setting up the 0.7.1 data (init, import)" "$LOG"
	else
		bench_result "import-nosync$sfx" "$n" "$IMP_SECS" "$IMP_RSS" sync=off setup=1
		got=$(index_docs "$DATA")
		[ "$got" = "$n" ] || { echo "$BENCH_STAGE: the import stored '${got:-?}'" \
			"documents, not $n" >&2; status=1; }

		if bench_repeat snap_full_once; then
			full_secs=$BENCH_SECS full_rss=$BENCH_RSS_KB full_bytes=$STEP_BYTES full_new=$STEP_NEW
			full_rate=$(bench_rate "$n" "$BENCH_SECS")
			bench_result "snapshot-full$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" \
				"repo_bytes=$full_bytes" "new_bytes=${full_new:-na}" "data_bytes=$bytes"
		else
			fail "ferry snapshot create (full)" "$LOG"
		fi

		if [ -n "$full_secs" ]; then
			if import_file "$DATA" "$FILE_B" "$LOG"; then
				bench_result "reimport-nosync$sfx" "$n" "$IMP_SECS" "$IMP_RSS" sync=off \
					setup=1 update_every=100
				if bench_repeat snap_incr_once; then
					incr_secs=$BENCH_SECS incr_rss=$BENCH_RSS_KB incr_bytes=$STEP_BYTES
					incr_new=$STEP_NEW
					incr_rate=$(bench_rate "$n" "$BENCH_SECS")
					incr_parts=$(FERRY_DATA=$DATA "$FERRY" snapshot show b incr 2>/dev/null |
						awk -v p="$PHYS" '$1 == p && match($0, /base.*/) { print substr($0, RSTART) }')
					bench_result "snapshot-incr$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" \
						"repo_bytes=$incr_bytes" "new_bytes=${incr_new:-na}" \
						"parts=$(echo "$incr_parts" | tr ' ' _)" update_every=100
				else
					fail "ferry snapshot create (incremental)" "$LOG"
				fi
			else
				BENCH_RC=1
				fail "re-importing the changed profiles" "$LOG"
			fi
		fi

		if [ -n "$incr_secs" ]; then
			if bench_repeat snap_restore_once; then
				rest_rate=$(bench_rate "$n" "$BENCH_SECS") rest_rss=$BENCH_RSS_KB
				bench_result "snapshot-restore$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" all=1 sync=on
				# the restored index must equal the one snapshotted (not timed)
				if ! cmp -s <(FERRY_DATA=$REST "$FERRY" export profile 2>/dev/null) \
					<(FERRY_DATA=$DATA "$FERRY" export profile 2>/dev/null); then
					echo "$BENCH_STAGE: the restored index differs from the original" \
						"(or holds '$(index_docs "$REST")' documents, not $n)" >&2
					status=1
				fi
			else
				fail "ferry snapshot restore --all" "$LOG"
			fi
		fi
	fi
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA" "$REPO" "$REST"

	# -------------------------------------------------------------- restic
	if command -v restic >/dev/null; then
		: >"$RLOG"
		rver=$(restic version 2>/dev/null | awk '{ print $2 }')
		if bench_repeat restic_full_once; then
			rfull_secs=$BENCH_SECS rfull_rss=$BENCH_RSS_KB rfull_bytes=$STEP_BYTES
			rfull_rate=$(bench_rate "$n" "$BENCH_SECS")
			bench_result "restic-backup$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" \
				"repo_bytes=$rfull_bytes" "restic=$rver"
			if bench_repeat restic_incr_once; then
				rincr_secs=$BENCH_SECS rincr_rss=$BENCH_RSS_KB rincr_bytes=$STEP_BYTES
				rincr_rate=$(bench_rate "$n" "$BENCH_SECS")
				bench_result "restic-backup-incr$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" \
					"repo_bytes=$rincr_bytes" "restic=$rver" update_every=100
				if bench_repeat restic_restore_once; then
					rrest_rate=$(bench_rate "$n" "$BENCH_SECS") rrest_rss=$BENCH_RSS_KB
					bench_result "restic-restore$sfx" "$n" "$BENCH_SECS" "$BENCH_RSS_KB" \
						"restic=$rver"
					got=$(find "$RREST" -type f -name profiles.ndjson | head -n 1)
					if [ -z "$got" ] || ! cmp -s "$got" "$FILE_B"; then
						echo "$BENCH_STAGE: restic restored '${got:-nothing}', not a copy of $FILE_B" >&2
						status=1
					fi
				else
					fail "restic restore" "$RLOG"
				fi
			else
				fail "restic backup (changed file)" "$RLOG"
			fi
		else
			fail "restic init/backup" "$RLOG"
		fi
		[ "${BENCH_KEEP:-0}" = 1 ] ||
			rm -rf "$RREPO" "$RREPO.full" "$RCACHE" "$RSRC" "$RREST"
	else
		echo "$BENCH_STAGE: restic not installed; no restic peer (scripts/deps bench)" >&2
	fi

	# -------------------------------------------------------------- report
	local size
	size=$(count_human "$n")
	bench_summary "$BENCH_STAGE: $n profiles ($size), $((bytes / n)) B/doc," \
		"$(human_bytes "$bytes") NDJSON; median of $BENCH_REPEAT; docs/s is the documents" \
		"in the snapshot over wall time; bytes are what the step added to its repository"
	bench_row_header
	bench_row "ferry snapshot, full" "$full_rate" "$full_rss" \
		"$(human_bytes "$full_bytes") ($(pct "$full_bytes" "$bytes") of the NDJSON); $(bench_ratio "$full_rate" "$rfull_rate") restic's speed, $(bench_ratio "$full_bytes" "$rfull_bytes") its bytes"
	bench_row "ferry snapshot, every 100th changed" "$incr_rate" "$incr_rss" \
		"+$(human_bytes "$incr_bytes") ($(pct "$incr_bytes" "$full_bytes") of full), $(pct "$incr_secs" "$full_secs") of full's time; ${incr_parts:-?}"
	bench_row "ferry snapshot restore --all" "$rest_rate" "$rest_rss" \
		"base + delta, fsync on; $(bench_ratio "$rest_rate" "$rrest_rate") restic's speed"
	bench_row "restic ${rver:-} backup, full" "$rfull_rate" "$rfull_rss" \
		"$(human_bytes "$rfull_bytes") ($(pct "$rfull_bytes" "$bytes") of the NDJSON)"
	bench_row "restic backup, every 100th changed" "$rincr_rate" "$rincr_rss" \
		"+$(human_bytes "$rincr_bytes") ($(pct "$rincr_bytes" "$rfull_bytes") of full), $(pct "$rincr_secs" "$rfull_secs") of full's time"
	bench_row "restic restore latest" "$rrest_rate" "$rrest_rss" "to a file, no fsync"

	local ok="" detail
	[ -n "$full_rate" ] && [ -n "$rfull_rate" ] &&
		ok=$(awk -v a="$full_rate" -v b="$rfull_rate" 'BEGIN { print (a >= 2 * b) ? 1 : 0 }')
	verdict "$size: full snapshot >= 2x restic backup's docs/s" "$ok" \
		"$(bench_ratio "$full_rate" "$rfull_rate")"
	detail="$(human_bytes "$full_bytes") vs $(human_bytes "$rfull_bytes"), $(bench_ratio "$full_bytes" "$rfull_bytes")"
	verdict "$size: full snapshot <= restic's repository bytes" "$(le "$full_bytes" "$rfull_bytes")" "$detail"
	ok=""
	[ -n "$incr_secs" ] && [ -n "$full_secs" ] &&
		ok=$(le "$incr_secs" "$(awk -v f="$full_secs" 'BEGIN { printf "%.6f", 0.05 * f }')")
	verdict "$size: incremental <= 5 % of the full snapshot's time" "$ok" \
		"$(pct "$incr_secs" "$full_secs"): $(printf '%.2f s vs %.2f s' "${incr_secs:-0}" "${full_secs:-0}")"
	ok=""
	[ -n "$incr_bytes" ] && [ -n "$full_bytes" ] &&
		ok=$(le "$incr_bytes" "$(awk -v f="$full_bytes" 'BEGIN { printf "%.0f", 0.03 * f }')")
	verdict "$size: incremental <= 3 % new bytes of the full snapshot's" "$ok" \
		"$(pct "$incr_bytes" "$full_bytes"): $(human_bytes "$incr_bytes")"
}

run_size "$N" ""
if [ "${BENCH_BIG:-0}" = 1 ]; then
	run_size $((N * 5)) big
fi
exit "$status"
