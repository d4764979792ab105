#!/usr/bin/env bash
# bench/20-upgrade.sh - upgrade benchmark: BENCH_DOCS cdp-gen profiles in a
# data dir at 0.7.1 (empty event and session indices beside them, which the
# second hop renames and drops) are upgraded with `ferry upgrade run`
#   - to 0.8.0 through the first two hops of examples/cdp/migrations
#     (default, convert, set, rename, remove: no Lua), and
#   - to 0.8.1 through all three (the last runs 0.8.1/profile.lua),
# timed with peak RSS (which counts the LMDB pages the process touched) and
# the peak anonymous RSS (RssAnon of /proc/PID/status, sampled every 0.1 s).
# The peers do the same hops, two and three: jq (the functions of
# bench/jq/hops.jq, NDJSON in, NDJSON out to a file) and PostgreSQL (COPY
# the NDJSON into a keyed jsonb table, timed on its own, then INSERT INTO
# new SELECT with bench/sql/upgrade-2hops.sql or upgrade-3hops.sql, where
# the Lua op is written in SQL). The import that sets the data up runs with
# FERRY_SYNC=off; the upgrades run with ferry's default fsync per batch.
# Page cache warm. Targets (issue 3, for the 3 hops composed): upgrade
# >= 1 M docs/s, >= 20x jq, >= 10x PostgreSQL; the same are reported for 2
# hops. With BENCH_BIG=1 the 3-hop upgrade also runs on 10x
# BENCH_DOCS, to see that memory stays flat.
# Floors are measured beside them, in the same halves as ferry's runs: a
# copy with no ops (a hop whose file lists no indices: every profile is
# read and written, nothing transformed); bench/lmdb_append.c, which
# appends the same profiles, sorted by id, to a fresh LMDB environment in
# one thread with an fdatasync per 50 000 (bodies alone, then bodies and
# an id entry each): no read, no transform, no log, the least any upgrade
# into LMDB on this disk must spend; and bench/lua_alone.c, the 0.8.1
# script called on plain Lua tables (the interpreter's share of the Lua
# hop). Every ferry run's CPU (user + system) is reported a profile.
#
#   BENCH_DOCS=100000 bench/20-upgrade.sh     (normally run by bench/run)
#   BENCH_BIG=1 ...                           also 10x BENCH_DOCS (disk!)
#   BENCH_KEEP=1 ...                          keep the data dirs
#
# PostgreSQL is Debian's (scripts/deps bench), started here from
# /usr/lib/postgresql/*/bin on a fresh cluster in a temporary directory,
# listening only on a unix socket in that directory, as user postgres when
# run as root, and stopped on exit.
#
# Exit status 1 if a command failed, a count is wrong or ferry is not built;
# a missed target is reported, not failed (shared machines are noisy).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
FERRY=$B/ferry
GEN=$B/cdp-gen
MIG=examples/cdp/migrations
MIG2=$BENCH_DIR/migrations-2hops
MIG0=$BENCH_DIR/migrations-copy
JQLIB=bench/jq
SQLDIR=bench/sql
status=0

[ -x "$FERRY" ] || bench_die "$FERRY is not built (run make)"
[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"
[ -f "$MIG/0.8.0_to_0.8.1.json" ] || bench_die "$MIG is missing"

# fail WHAT LOG: reports a failed step with the end of its log.
fail() {
	echo "$BENCH_STAGE: $1 failed (exit ${BENCH_RC:-?}); see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

# ------------------------------------------------------------------ helpers
# bench_run plus the peak anonymous RSS of the command: sets BENCH_SECS,
# BENCH_RSS_KB, BENCH_RC, BENCH_ANON_KB (the highest RssAnon seen in
# /proc while it ran, "" if it could not be read) and BENCH_CPU (user +
# system seconds, "" without /usr/bin/time). With /usr/bin/time the
# process sampled is time's child (env execs the command in place).
# shellcheck disable=SC2317 # called through bench_repeat
run_sampled() {
	local rss_file="$BENCH_DIR/.rss.$$" t0 t1 pid watch k v _ anon=0 u s
	t0=$(bench_now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M %U %S' -o "$rss_file" "$@" &
	else
		"$@" &
	fi
	pid=$!
	watch=
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$watch" ]; then
			if [ -x /usr/bin/time ]; then
				read -r watch _ <"/proc/$pid/task/$pid/children" 2>/dev/null
			else
				watch=$pid
			fi
		fi
		if [ -n "$watch" ]; then
			while read -r k v _; do
				if [ "$k" = RssAnon: ]; then
					[ "$v" -gt "$anon" ] && anon=$v
					break
				fi
			done <"/proc/$watch/status" 2>/dev/null
		fi
		bench_tick
	done
	wait "$pid"
	BENCH_RC=$?
	t1=$(bench_now)
	BENCH_SECS=$(bench_secs "$t0" "$t1")
	BENCH_RSS_KB='' BENCH_CPU=''
	if [ -x /usr/bin/time ]; then
		read -r BENCH_RSS_KB u s < <(tail -n 1 "$rss_file" 2>/dev/null)
		rm -f "$rss_file"
		[[ $BENCH_RSS_KB =~ ^[0-9]+$ ]] || BENCH_RSS_KB=
		[[ $u$s =~ ^[0-9.]+$ ]] &&
			BENCH_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	fi
	[ -n "$BENCH_CPU" ] && U_CPU_RUN+=" $BENCH_CPU"
	if [ "$anon" -gt 0 ]; then BENCH_ANON_KB=$anon; else BENCH_ANON_KB=; fi
	# bench_repeat keeps the largest BENCH_RSS_KB; do the same for anon.
	if [ -n "$BENCH_ANON_KB" ] && [ "$BENCH_ANON_KB" -gt "${ANON_MAX:-0}" ]; then
		ANON_MAX=$BENCH_ANON_KB
	fi
	return "$BENCH_RC"
}

# make_base DIR FILE LOG: a data dir at 0.7.1 with empty event and session
# indices and FILE imported into profile (FERRY_SYNC=off, timed), then
# flushed to disk (not timed). Sets IMP_SECS.
make_base() {
	local dir=$1 f=$2 log=$3
	rm -rf "$dir"
	{ FERRY_DATA=$dir "$FERRY" init --version 0.7.1 &&
		FERRY_DATA=$dir "$FERRY" index create event &&
		FERRY_DATA=$dir "$FERRY" index create session; } >"$log" 2>&1 ||
		{ BENCH_RC=$?; return 1; }
	bench_run env FERRY_DATA="$dir" FERRY_SYNC=off "$FERRY" import profile "$f" \
		>>"$log" 2>&1 || return 1
	IMP_SECS=$BENCH_SECS IMP_RSS=$BENCH_RSS_KB
	# Written without fsync, the base would be written back by the kernel
	# about 30 s later (vm.dirty_expire_centisecs), in the middle of the
	# timed upgrades, whose own fsyncs then wait behind it.
	sync "$dir"/*.mdb
}

# upgrade_once BASE DIR MIGRATIONS TO LOG: DIR becomes a copy of BASE,
# flushed to disk (not timed: else the upgrade's first fsync would write
# the whole copy), then one timed `ferry upgrade run --to TO --quiet`.
# shellcheck disable=SC2317 # called through bench_repeat
upgrade_once() {
	local base=$1 dir=$2 mig=$3 to=$4 log=$5
	rm -rf "$dir"
	if ! cp -r "$base" "$dir" 2>>"$log" || ! sync "$dir"/*.mdb 2>>"$log"; then
		BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB='' BENCH_ANON_KB=''
		return 1
	fi
	run_sampled env FERRY_DATA="$dir" FERRY_MIGRATIONS="$mig" "$FERRY" \
		upgrade run --to "$to" --quiet >>"$log" 2>&1
}

# index_docs DIR INDEX: the document count `ferry index list` gives.
index_docs() {
	FERRY_DATA=$1 "$FERRY" index list "$2" --json 2>/dev/null |
		sed -n 's/.*"docs":\([0-9]*\).*/\1/p'
}

# check_upgrade DIR PHYSICAL WANT: the alias default.profile must point at
# PHYSICAL and it must hold WANT documents.
check_upgrade() {
	local dir=$1 phys=$2 want=$3 got
	got=$(index_docs "$dir" "$phys")
	if [ "$got" != "$want" ]; then
		echo "$BENCH_STAGE: after the upgrade $phys holds '${got:-?}'" \
			"documents, not $want" >&2
		return 1
	fi
	if ! FERRY_DATA=$dir "$FERRY" index list default.profile 2>/dev/null |
		grep -q "^$phys "; then
		echo "$BENCH_STAGE: default.profile does not point at $phys" >&2
		return 1
	fi
}

# The ferry runs of a measure come in two halves, BENCH_REPEAT runs before
# the peers and BENCH_REPEAT after them, and the median of all counts: this
# VM's speed drifts by 25 % over minutes, and the peers take minutes, so
# ferry's runs must span the same stretch of time as theirs.
declare -A U_TIMES=() U_RSS=() U_ANON=() U_FAIL=() U_CPU=()
U_CPU_RUN="" # run_sampled's CPU seconds of each run

# ferry_upgrade_runs LABEL BASE DIR MIGRATIONS TO PHYSICAL DOCS: one half:
# BENCH_REPEAT checked runs, their times added to LABEL's.
ferry_upgrade_runs() {
	local label=$1 base=$2 dir=$3 mig=$4 to=$5 phys=$6 docs=$7
	local log=$BENCH_DIR/$label.log
	[ -n "${U_TIMES[$label]+set}" ] || : >"$log"
	U_TIMES[$label]=${U_TIMES[$label]:-}
	ANON_MAX=0 U_CPU_RUN=""
	if bench_repeat upgrade_once "$base" "$dir" "$mig" "$to" "$log" &&
		check_upgrade "$dir" "$phys" "$docs"; then
		U_TIMES[$label]+=" $BENCH_TIMES"
		U_CPU[$label]+="$U_CPU_RUN"
		[ "${BENCH_RSS_KB:-0}" -gt "${U_RSS[$label]:-0}" ] &&
			U_RSS[$label]=$BENCH_RSS_KB
		[ "$ANON_MAX" -gt "${U_ANON[$label]:-0}" ] && U_ANON[$label]=$ANON_MAX
	elif [ -z "${U_FAIL[$label]:-}" ]; then
		U_FAIL[$label]=1
		fail "ferry upgrade run --to $to ($label)" "$log"
	fi
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
}

# ferry_upgrade_report LABEL DOCS TO: the median of all of LABEL's runs;
# sets R_RATE, R_RSS, R_ANON, R_SECS, R_CPU ("" when a run failed).
ferry_upgrade_report() {
	local label=$1 docs=$2 to=$3 runs
	R_RATE="" R_RSS="" R_ANON="" R_SECS="" R_CPU=""
	[ -z "${U_FAIL[$label]:-}" ] && [ -n "${U_TIMES[$label]:-}" ] || return 0
	# shellcheck disable=SC2086 # a list of numbers
	[ -n "${U_CPU[$label]:-}" ] && R_CPU=$(bench_median ${U_CPU[$label]})
	# shellcheck disable=SC2086 # a list of numbers
	R_SECS=$(bench_median ${U_TIMES[$label]})
	runs=$(wc -w <<<"${U_TIMES[$label]}")
	R_RATE=$(bench_rate "$docs" "$R_SECS")
	R_RSS=${U_RSS[$label]:-}
	R_ANON=${U_ANON[$label]:-}
	bench_result "$label" "$docs" "$R_SECS" "$R_RSS" \
		"anon_kb=${R_ANON:-na}" "cpu_s=${R_CPU:-na}" "to=$to" sync=on "runs=$runs" \
		"secs_all=$(tr -s ' ' ',' <<<"${U_TIMES[$label]# }")"
}

# ------------------------------------------------------------------ input
file=$(bench_profiles "$N") || bench_die "generating profiles failed"
bytes=$(wc -c <"$file" | tr -d ' ')
echo "$BENCH_STAGE: $N profiles, $bytes bytes ($((bytes / N)) B/doc) in $file"

free_kb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((bytes * 5 / 1024)) ]; then
	echo "$BENCH_STAGE: warning: only $((free_kb / 1024)) MiB free in $BENCH_DIR;" \
		"a base data dir, a copy of it and the upgraded index are needed" >&2
fi

rm -rf "$MIG2" "$MIG0"
mkdir -p "$MIG2" "$MIG0"
cp "$MIG/0.7.1_to_0.7.2.json" "$MIG/0.7.2_to_0.8.0.json" "$MIG2/"
cat >"$MIG0/0.7.1_to_0.7.2.json" <<'JSON'
{"from": "0.7.1", "to": "0.7.2", "description": "copy only: no ops", "indices": {}}
JSON
cat "$file" >/dev/null # warm the page cache

# ------------------------------------------------------------------ floor
# floor_once: one run of bench/lmdb_append (both modes) into a temporary
# directory; its times are added to FLOOR_BODIES and FLOOR_IDS, the CPU
# seconds of the bodies run to FLOOR_CPU.
FLOOR_BODIES="" FLOOR_IDS="" FLOOR_CPU="" FLOOR_FAIL=""
floor_once() {
	local dir=$BENCH_DIR/lmdb-append log=$BENCH_DIR/lmdb-append.log out
	rm -rf "$dir"
	mkdir -p "$dir"
	if out=$("$BENCH_DIR/lmdb_append" "$file" "$dir" 50000 2>>"$log"); then
		echo "$out" >>"$log"
		FLOOR_BODIES+=" $(sed -n 's/^bodies .*secs=\([0-9.]*\).*/\1/p' <<<"$out")"
		FLOOR_CPU+=" $(sed -n 's/^bodies .*cpu=\([0-9.]*\).*/\1/p' <<<"$out")"
		FLOOR_IDS+=" $(sed -n 's/^ids .*secs=\([0-9.]*\).*/\1/p' <<<"$out")"
	elif [ -z "$FLOOR_FAIL" ]; then
		FLOOR_FAIL=1
		BENCH_RC=1
		fail "bench/lmdb_append" "$log"
	fi
	rm -rf "$dir"
}

# lua_once: bench/lua_alone on the 0.8.1 script, N calls; the microseconds
# a call took are added to LUA_US.
LUA_US="" LUA_FAIL=""
lua_once() {
	local log=$BENCH_DIR/lua-alone.log out
	if out=$("$BENCH_DIR/lua_alone" "$MIG/0.8.1/profile.lua" "$N" 2>>"$log"); then
		echo "$out" >>"$log"
		LUA_US+=" $(sed -n 's/.*us_per_call=\([0-9.]*\).*/\1/p' <<<"$out")"
	elif [ -z "$LUA_FAIL" ]; then
		LUA_FAIL=1
		BENCH_RC=1
		fail "bench/lua_alone" "$log"
	fi
}
floor_ok=0 lua_ok=0
: >"$BENCH_DIR/lmdb-append.log"
: >"$BENCH_DIR/lua-alone.log"
bench_build_helper lmdb_append lmdb -llmdb && floor_ok=1
bench_build_helper lua_alone lua5.4 -llua5.4 && lua_ok=1

# ------------------------------------------------------------------ ferry
# ferry_halves: one half of the ferry runs of both upgrades and of the
# floors, if the base data dir is there.
ferry_halves() {
	local i
	[ -d "$BASE" ] || return 0
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		[ "$floor_ok" = 1 ] && floor_once
		[ "$lua_ok" = 1 ] && lua_once
	done
	ferry_upgrade_runs upgrade-copy "$BASE" "$DATA" "$MIG0" 0.7.2 \
		v0_7_2.default.profile "$N"
	ferry_upgrade_runs upgrade-2hops "$BASE" "$DATA" "$MIG2" 0.8.0 \
		v0_8_0.default.profile "$N"
	ferry_upgrade_runs upgrade-3hops "$BASE" "$DATA" "$MIG" 0.8.1 \
		v0_8_1.default.profile "$N"
}

BASE=$BENCH_DIR/data-upgrade-base
DATA=$BENCH_DIR/data-upgrade
imp_rate="" imp_rss=""
u2_rate="" u2_rss="" u2_anon="" u2_secs=""
u3_rate="" u3_rss="" u3_anon="" u3_secs=""
log=$BENCH_DIR/upgrade-import.log
if make_base "$BASE" "$file" "$log"; then
	imp_rate=$(bench_rate "$N" "$IMP_SECS") imp_rss=$IMP_RSS
	bench_result import-nosync "$N" "$IMP_SECS" "$IMP_RSS" sync=off setup=1
	got=$(index_docs "$BASE" v0_7_1.default.profile)
	[ "$got" = "$N" ] || { echo "$BENCH_STAGE: the import stored '${got:-?}'" \
		"documents, not $N" >&2; status=1; }

	ferry_halves # the first half, before the peers
else
	fail "setting up the 0.7.1 data (init, import)" "$log"
	rm -rf "$BASE"
fi

# ------------------------------------------------------------------ jq
# jq_peer LABEL FILTER: the median run of jq over the input with the
# functions of bench/jq/hops.jq; sets R_RATE and R_RSS ("" on failure).
jq_peer() {
	local label=$1 filter=$2 out=$BENCH_DIR/jq-upgrade.ndjson
	local log=$BENCH_DIR/$label.log lines
	R_RATE="" R_RSS=""
	: >"$log"
	# one run: its own output file (a redirect around bench_repeat would
	# append every repeat's output to one file)
	# shellcheck disable=SC2317 # called through bench_repeat
	jq_once() {
		bench_run jq -c -L "$JQLIB" "include \"hops\"; $filter" "$file" \
			>"$out" 2>>"$log"
	}
	if bench_repeat jq_once; then
		lines=$(wc -l <"$out" | tr -d ' ')
		if [ "$lines" = "$N" ]; then
			R_RATE=$(bench_rate "$N" "$BENCH_SECS")
			R_RSS=$BENCH_RSS_KB
			bench_result "$label" "$N" "$BENCH_SECS" "$BENCH_RSS_KB" \
				"out_bytes=$(wc -c <"$out" | tr -d ' ')"
		else
			echo "$BENCH_STAGE: jq ($filter) wrote $lines lines, not $N" >&2
			status=1
		fi
	else
		fail "jq -c '$filter'" "$log"
	fi
	rm -f "$out"
}

jq2_rate="" jq2_rss="" jq3_rate="" jq3_rss=""
if command -v jq >/dev/null; then
	jq_peer jq-2hops "hop1 | hop2"
	jq2_rate=$R_RATE jq2_rss=$R_RSS
	jq_peer jq-3hops "hop1 | hop2 | hop3"
	jq3_rate=$R_RATE jq3_rss=$R_RSS
else
	echo "$BENCH_STAGE: jq not installed; no jq peer (scripts/deps bench)" >&2
fi

# ------------------------------------------------------------------ PostgreSQL
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null |
	sort -V | tail -n 1)
PGTMP=""
PGVER=""
PGOPTS="-c listen_addresses='' -c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=1h"

AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)
as_pg() { "${AS_PG[@]}" "$@"; }

# psql with the bench's settings (an array, so bench_run can time it); the
# rest are psql arguments.
PSQL=()
pg_sql() { "${PSQL[@]}" "$@"; }

pg_stop() {
	[ -n "$PGTMP" ] || return 0
	if [ -f "$PGTMP/db/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGTMP/db" -m immediate -w stop >/dev/null 2>&1
	fi
	rm -rf "$PGTMP"
	PGTMP=""
}
trap pg_stop EXIT
trap 'exit 130' INT TERM

pg_start() {
	local log=$1
	PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-pg.XXXXXX") || return 1
	if [ "$(id -u)" = 0 ]; then
		getent passwd postgres >/dev/null ||
			{ echo "no postgres user" >"$log"; return 1; }
		chown postgres: "$PGTMP" || return 1
	fi
	as_pg "$PGBIN/initdb" -D "$PGTMP/db" -A trust -U postgres -E UTF8 \
		--locale=C --no-sync >"$log" 2>&1 || return 1
	as_pg "$PGBIN/pg_ctl" -D "$PGTMP/db" -l "$PGTMP/server.log" -w -t 120 \
		-o "$PGOPTS -c unix_socket_directories='$PGTMP'" start >>"$log" 2>&1 ||
		{ cat "$PGTMP/server.log" >>"$log" 2>/dev/null; return 1; }
	PSQL=("${AS_PG[@]}" "$PGBIN/psql" -h "$PGTMP" -U postgres -d postgres -X -q
		-A -t -v ON_ERROR_STOP=1)
	PGVER=$(pg_sql -c "SHOW server_version" 2>>"$log" | awk '{ print $1 }')
}

# The load: a fresh keyed table, COPY of the NDJSON (csv with a quote and
# delimiter that JSON text never holds, so every line is one jsonb value;
# the id column is generated from it), then VACUUM ANALYZE and CHECKPOINT
# (not timed) so the transform does not pay for hint bits or a checkpoint.
# shellcheck disable=SC2317 # called through bench_repeat
pg_copy_once() {
	local log=$1
	pg_sql -c "DROP TABLE IF EXISTS old; DROP TABLE IF EXISTS new" \
		-c "CREATE TABLE old (id text GENERATED ALWAYS AS (doc ->> 'id')
			STORED PRIMARY KEY, doc jsonb NOT NULL)" \
		-c "CHECKPOINT" >>"$log" 2>&1 ||
		{ BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=; return 1; }
	bench_run "${PSQL[@]}" -c "COPY old (doc) FROM STDIN WITH (FORMAT csv,
		QUOTE e'\\x01', DELIMITER e'\\x02')" <"$file" >>"$log" 2>&1 || return 1
	BENCH_RSS_KB= # psql's, not the server's
	pg_sql -c "VACUUM ANALYZE old" -c "CHECKPOINT" >>"$log" 2>&1 ||
		{ BENCH_RC=1; return 1; }
}

# The transform of SQL file $2 into a fresh keyed table; afterwards the
# backend reports its own VmHWM (which counts the shared buffers it
# touched) and RssAnon.
# shellcheck disable=SC2317
pg_insert_once() {
	local log=$1 sql=$2 out=$BENCH_DIR/pg-insert.out
	pg_sql -c "DROP TABLE IF EXISTS new" \
		-c "CREATE TABLE new (id text PRIMARY KEY, doc jsonb NOT NULL)" \
		-c "CHECKPOINT" >>"$log" 2>&1 ||
		{ BENCH_RC=1 BENCH_SECS=0 BENCH_RSS_KB=; return 1; }
	bench_run "${PSQL[@]}" -f "$sql" \
		-c "SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\\s*(\\d+)')
			|| ' ' || substring(pg_read_file('/proc/self/status') from 'RssAnon:\\s*(\\d+)')" \
		>"$out" 2>>"$log" || { cat "$out" >>"$log"; return 1; }
	read -r BENCH_RSS_KB PG_ANON_KB <"$out"
	[[ $BENCH_RSS_KB =~ ^[0-9]+$ ]] || BENCH_RSS_KB=
	rm -f "$out"
}

# pg_peer LABEL SQLFILE LOG: the median INSERT ... SELECT of SQLFILE, its
# rows checked; sets R_RATE, R_RSS and R_ANON ("" on failure).
pg_peer() {
	local label=$1 sql=$2 log=$3 got
	R_RATE="" R_RSS="" R_ANON=""
	if ! bench_repeat pg_insert_once "$log" "$sql"; then
		fail "PostgreSQL INSERT ... SELECT ($sql)" "$log"
		return
	fi
	got=$(pg_sql -c "SELECT count(*) FROM new" 2>>"$log")
	if [ "$got" != "$N" ]; then
		echo "$BENCH_STAGE: PostgreSQL's new table has '${got:-?}'" \
			"rows after $sql, not $N" >&2
		status=1
		return
	fi
	R_RATE=$(bench_rate "$N" "$BENCH_SECS")
	R_RSS=$BENCH_RSS_KB R_ANON=$PG_ANON_KB
	bench_result "$label" "$N" "$BENCH_SECS" "$BENCH_RSS_KB" \
		"anon_kb=${PG_ANON_KB:-na}" "pg=$PGVER"
}

pgc_rate="" PG_ANON_KB=""
pg2_rate="" pg2_rss="" pg2_anon="" pg3_rate="" pg3_rss="" pg3_anon=""
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
	echo "$BENCH_STAGE: PostgreSQL not installed; no PostgreSQL peer" \
		"(scripts/deps bench)" >&2
else
	log=$BENCH_DIR/pg-upgrade.log
	: >"$log"
	if ! pg_start "$log"; then
		BENCH_RC=1
		fail "starting PostgreSQL ($PGBIN)" "$log"
	elif bench_repeat pg_copy_once "$log"; then
		pgc_rate=$(bench_rate "$N" "$BENCH_SECS")
		bench_result pg-copy "$N" "$BENCH_SECS" "" "pg=$PGVER"
		pg_peer pg-insert-2hops "$SQLDIR/upgrade-2hops.sql" "$log"
		pg2_rate=$R_RATE pg2_rss=$R_RSS pg2_anon=$R_ANON
		pg_peer pg-insert-3hops "$SQLDIR/upgrade-3hops.sql" "$log"
		pg3_rate=$R_RATE pg3_rss=$R_RSS pg3_anon=$R_ANON
	else
		fail "PostgreSQL COPY" "$log"
	fi
	pg_stop
fi

# ------------------------------------------------------------------ ferry again
ferry_halves # the second half, after the peers
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$BASE"
ferry_upgrade_report upgrade-2hops "$N" 0.8.0
u2_rate=$R_RATE u2_rss=$R_RSS u2_anon=$R_ANON u2_secs=$R_SECS u2_cpu=$R_CPU
ferry_upgrade_report upgrade-3hops "$N" 0.8.1
u3_rate=$R_RATE u3_rss=$R_RSS u3_anon=$R_ANON u3_secs=$R_SECS u3_cpu=$R_CPU
ferry_upgrade_report upgrade-copy "$N" 0.7.2
u0_rate=$R_RATE u0_cpu=$R_CPU
fb_rate="" fi_rate="" fb_cpu="" lua_us=""
if [ -n "$FLOOR_BODIES" ] && [ -z "$FLOOR_FAIL" ]; then
	# shellcheck disable=SC2086 # lists of numbers
	fb_secs=$(bench_median $FLOOR_BODIES) fi_secs=$(bench_median $FLOOR_IDS)
	# shellcheck disable=SC2086
	fb_cpu=$(bench_median $FLOOR_CPU)
	fb_rate=$(bench_rate "$N" "$fb_secs") fi_rate=$(bench_rate "$N" "$fi_secs")
	bench_result lmdb-append-bodies "$N" "$fb_secs" "" sync=on batch=50000 \
		"cpu_s=$fb_cpu" "secs_all=$(tr -s ' ' ',' <<<"${FLOOR_BODIES# }")"
	bench_result lmdb-append-ids "$N" "$fi_secs" "" sync=on batch=50000 \
		"secs_all=$(tr -s ' ' ',' <<<"${FLOOR_IDS# }")"
fi
if [ -n "$LUA_US" ] && [ -z "$LUA_FAIL" ]; then
	# shellcheck disable=SC2086 # a list of numbers
	lua_us=$(bench_median $LUA_US)
	bench_result lua-alone "$N" "$(awk -v u="$lua_us" -v n="$N" 'BEGIN { printf "%.6f", u * n / 1e6 }')" \
		"" "us_per_call=$lua_us" "us_all=$(tr -s ' ' ',' <<<"${LUA_US# }")"
fi

# ------------------------------------------------------------------ 10x
big_rate="" big_rss="" big_anon="" NB=$((N * 10))
if [ "${BENCH_BIG:-0}" = 1 ]; then
	if bigfile=$(bench_profiles "$NB"); then
		BIGBASE=$BENCH_DIR/data-upgrade-big-base
		log=$BENCH_DIR/upgrade-big-import.log
		if make_base "$BIGBASE" "$bigfile" "$log"; then
			bench_result import-nosync "$NB" "$IMP_SECS" "$IMP_RSS" sync=off setup=1
			ferry_upgrade_runs upgrade-3hops-big "$BIGBASE" \
				"$BENCH_DIR/data-upgrade-big" "$MIG" 0.8.1 \
				v0_8_1.default.profile "$NB"
			ferry_upgrade_report upgrade-3hops-big "$NB" 0.8.1
			big_rate=$R_RATE big_rss=$R_RSS big_anon=$R_ANON
		else
			fail "setting up the 0.7.1 data at $NB profiles" "$log"
		fi
		[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$BIGBASE"
	else
		echo "$BENCH_STAGE: generating $NB profiles failed" >&2
		status=1
	fi
fi

# ------------------------------------------------------------------ report
count_human() {
	if (($1 % 1000000 == 0)); then echo "$(($1 / 1000000)) M"
	elif (($1 % 1000 == 0)); then echo "$(($1 / 1000)) k"
	else echo "$1"; fi
}
anon_note() { [ -n "$1" ] && echo "anon $(bench_mib "$1"); "; }
# vs RATE JQ PG: ferry's rate against the peers' on the same hops.
vs() { echo "ferry/jq $(bench_ratio "$1" "$2"), ferry/PG $(bench_ratio "$1" "$3")"; }
# target_ratio WHAT A B MIN: met when A >= MIN * B.
target_ratio() {
	local verdict
	if [ -z "$2" ] || [ -z "$3" ]; then verdict="not measured"
	elif awk -v a="$2" -v b="$3" -v m="$4" 'BEGIN { exit !(a >= m * b) }'; then
		verdict="met ($(bench_ratio "$2" "$3"))"
	else verdict="missed ($(bench_ratio "$2" "$3"))"; fi
	bench_summary "  target: $1: $verdict"
}

bench_summary "$BENCH_STAGE: $N profiles, $((bytes / N)) B/doc, page cache warm," \
	"peers: median of $BENCH_REPEAT; ferry: median of $((2 * BENCH_REPEAT))," \
	"half before and half after the peers; ferry upgrades fsync each batch (the import" \
	"that set them up ran with FERRY_SYNC=off); each ferry row is compared" \
	"with jq and PostgreSQL doing the same hops"
bench_row_header
bench_row "ferry import (setup, SYNC=off)" "$imp_rate" "$imp_rss"
bench_row "ferry upgrade to 0.8.0 (2 hops)" "$u2_rate" "$u2_rss" \
	"$(anon_note "$u2_anon")$(vs "$u2_rate" "$jq2_rate" "$pg2_rate")"
bench_row "ferry upgrade to 0.8.1 (3, Lua)" "$u3_rate" "$u3_rss" \
	"$(anon_note "$u3_anon")$(vs "$u3_rate" "$jq3_rate" "$pg3_rate")"
bench_row "ferry upgrade, copy only (no ops)" "$u0_rate" "" \
	"$(bench_ratio "$u0_rate" "$fb_rate") of LMDB's append"
bench_row "LMDB alone: append bodies" "$fb_rate" "" "one thread, fdatasync per 50 k"
bench_row "LMDB alone: bodies + id entries" "$fi_rate" "" "the same, two puts per doc"
bench_row "jq, 2 hops >FILE" "$jq2_rate" "$jq2_rss"
bench_row "jq, 3 hops >FILE" "$jq3_rate" "$jq3_rss"
bench_row "PostgreSQL ${PGVER:-} COPY (load only)" "$pgc_rate" ""
bench_row "PostgreSQL INSERT..SELECT, 2 hops" "$pg2_rate" "$pg2_rss" \
	"$(anon_note "$pg2_anon")backend; shared_buffers=1GB"
bench_row "PostgreSQL INSERT..SELECT, 3 hops" "$pg3_rate" "$pg3_rss" \
	"$(anon_note "$pg3_anon")backend"
if [ -n "$u2_secs" ] && [ -n "$u3_secs" ]; then
	bench_summary "$(awk -v a="$u2_secs" -v b="$u3_secs" -v n="$N" 'BEGIN {
		printf "  the Lua hop (lua + set) adds %.2f s, %.2f us/profile:" \
			" 3 hops take %.2fx the time of 2", b - a, (b - a) * 1e6 / n, \
			(a > 0 ? b / a : 0) }')"
fi
if [ "${BENCH_BIG:-0}" = 1 ]; then
	bench_row "ferry upgrade to 0.8.1, $(count_human "$NB") docs" "$big_rate" "$big_rss" \
		"${big_anon:+anon $(bench_mib "$big_anon")}"
	bench_summary "  peak RSS $N -> $NB profiles: $(bench_mib "$u3_rss") -> $(bench_mib "$big_rss");" \
		"anonymous $(bench_mib "$u3_anon") -> $(bench_mib "$big_anon")"
fi
bench_summary "  (peak RSS counts the pages of the LMDB map a process touched;" \
	"anon is RssAnon, sampled)"
if [ -n "$fb_rate" ] && [ -n "$u3_rate" ]; then
	bench_summary "$(awk -v f="$fb_rate" -v i="$fi_rate" -v u="$u3_rate" 'BEGIN {
		printf "  floor: LMDB alone appends %.0f k docs/s here (%.0f k with ids);" \
			" the 3-hop upgrade runs at %.2fx of it", f / 1e3, i / 1e3, u / f }')"
fi
# CPU per document, against what 1 M docs/s leaves on these cores.
us_of() {
	if [ -n "$1" ]; then awk -v c="$1" -v n="$N" 'BEGIN { printf "%.2f us", c * 1e6 / n }'
	else echo "n/a"; fi
}
bench_summary "  CPU a profile (user + system): copy only $(us_of "$u0_cpu")," \
	"2 hops $(us_of "$u2_cpu"), 3 hops $(us_of "$u3_cpu"); LMDB's append alone" \
	"$(us_of "$fb_cpu"); the 0.8.1 script alone in Lua (bench/lua_alone.c: plain" \
	"tables, no document) $(if [ -n "$lua_us" ]; then printf '%.2f us' "$lua_us"; else echo n/a; fi);" \
	"1 M docs/s on $(nproc) cores leaves $(nproc).00 us a profile"
bench_target "upgrade to 0.8.1 (3 hops, Lua) >= 1 M docs/s" "$u3_rate" 1000000
bench_target "upgrade to 0.8.0 (2 hops) >= 1 M docs/s" "$u2_rate" 1000000
target_ratio "upgrade (3 hops) >= 20x jq on the same ops" "$u3_rate" "$jq3_rate" 20
target_ratio "upgrade (3 hops) >= 10x PostgreSQL INSERT..SELECT" "$u3_rate" "$pg3_rate" 10
target_ratio "upgrade (2 hops) >= 20x jq on the same ops" "$u2_rate" "$jq2_rate" 20
target_ratio "upgrade (2 hops) >= 10x PostgreSQL INSERT..SELECT" "$u2_rate" "$pg2_rate" 10
if [ "${BENCH_BIG:-0}" = 1 ]; then
	# Flat: the anonymous peak at 10x stays within 1.5x of the one at 1x
	# (peak RSS would grow with the LMDB pages touched, so anon is used).
	a=${u3_anon:-$u3_rss} b=${big_anon:-$big_rss}
	if [ -z "$a" ] || [ -z "$b" ]; then v="not measured"
	elif awk -v a="$a" -v b="$b" 'BEGIN { exit !(b <= 1.5 * a) }'; then
		v="met ($(bench_mib "$a") -> $(bench_mib "$b"))"
	else v="missed ($(bench_mib "$a") -> $(bench_mib "$b"))"; fi
	bench_summary "  target: anonymous RSS flat from $N to $NB profiles (<= 1.5x): $v"
fi
exit "$status"
