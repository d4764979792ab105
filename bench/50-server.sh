#!/usr/bin/env bash
# bench/50-server.sh - ferryd over HTTP (issue 5 §7), against PostgreSQL
# in the same run on the same data.
#
# ferryd: a real server on a free 127.0.0.1 port, a fresh data dir that
# FERRY_RELEASE=0.7.1 initialises, default fsync (every request's commit
# is synced), FERRY_ACCESS_LOG=off, default worker threads, in a session of
# its own (setsid, as pg_ctl does for PostgreSQL: with the kernel's
# autogroup scheduling a busy machine's CPU is shared per session).
#   - load: the BENCH_DOCS cdp-gen profiles into index profile with curl,
#     10 000 documents a _bulk request, one connection; every response
#     must be 200 with "errors":false and docs.count BENCH_DOCS after;
#   - GET by id: wrk (Debian) with bench/wrk/get.lua cycling through those
#     ids in a shuffled order, 16 connections, --latency: req/s, p50, p99;
#     any non-2xx answer fails the stage;
#   - bulk ingest: wrk with bench/wrk/bulk.lua, 1 thread: _bulk bodies of
#     1000 profiles whose ids differ in every request, so each request
#     inserts 1000 new documents (identical re-puts are no-ops in ferry and
#     would flatter it); docs/s = requests/s x 1000. "Random" ids are
#     <uuid>-<tag>: a request's ids land all over the key space, as UUIDs
#     do (4 connections, then 1; the target is on these). "Ordered" ids
#     are <tag>-<uuid>: adjacent within a request, as time-ordered ids
#     would be (4 connections), which is far cheaper for the id tree.
#     Every response must be 200 with "errors":false, and docs.count must
#     grow by at least 1000 per counted request. Every bulk run starts from
#     the same data dir (the N loaded profiles, copied aside before the
#     first run, copied back and synced before each), so that repeats
#     (BENCH_REPEAT) measure the same index, not one that earlier runs grew.
# PostgreSQL (Debian's; started as bench/20-upgrade.sh does: a fresh
# cluster in a temporary directory, user postgres when run as root,
# stopped on exit; here it also listens on a free 127.0.0.1 port so that
# pgbench goes through TCP loopback like wrk):
#   - bulk: COPY of the same NDJSON into a jsonb table with a generated
#     text primary key (the profile's id) and an identity column n (the
#     ordinal), one transaction, fsync on;
#   - GET: pgbench -M prepared, the same 16 clients and client threads,
#     `SELECT body FROM profiles WHERE n = :n` through a unique index on n
#     (pgbench variables are integers, so not the text key), n uniform at
#     random, after VACUUM ANALYZE; p50/p99 from its sampled log. The GET
#     runs of the two servers alternate (BENCH_REPEAT rounds), so each
#     pair sees the same load on a shared machine.
# Shown per run: the CPU the server (ferryd; PostgreSQL's backends) and the
# client used, in cores, and the cores' worth of time ferryd's threads were
# runnable but got no CPU (schedstat), to tell a slow server from a busy
# machine. Targets (2 cores): ferryd bulk >= 200k docs/s with 4
# connections and random ids, GET by id >= 30k req/s.
#
#   BENCH_DOCS=100000 bench/50-server.sh      (normally run by bench/run)
#   BENCH_SERVER_SECS=10                      seconds per wrk/pgbench run
#   BENCH_CLIENT_THREADS=2                    wrk -t / pgbench -j for GET
#   BENCH_FERRYD=/path/to/ferryd              another build of the server
#   BENCH_KEEP=1                              keep the data dir and inputs
#
# Exit status 1 if a step failed, a count or a response is wrong, or
# ferryd is not built; a missed target is reported, not failed.
# shellcheck disable=SC2317 # functions called through measure()
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
FERRYD=${BENCH_FERRYD:-$B/ferryd}
GEN=$B/cdp-gen
SECS=${BENCH_SERVER_SECS:-10}
CT=${BENCH_CLIENT_THREADS:-2}
GET_CONNS=16
BULK_DOCS=1000
LOAD_DOCS=10000
DATA=$BENCH_DIR/data-server
IN=$BENCH_DIR/server-inputs
LOG=$BENCH_DIR/server.log
SLOG=$BENCH_DIR/ferryd.log
status=0

[ -x "$FERRYD" ] || bench_die "$FERRYD is not built (run make build/ferryd)"
[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"
command -v wrk >/dev/null || bench_die "wrk is not installed (scripts/deps bench)"
command -v curl >/dev/null || bench_die "curl is not installed (scripts/deps bench)"
[[ $SECS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_SERVER_SECS must be a positive integer"
[[ $CT =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_CLIENT_THREADS must be a positive integer"

fail() {
	echo "$BENCH_STAGE: $1; see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

# ------------------------------------------------------------------ ferryd
SRV_PID="" URL=""
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# ferryd runs in a session of its own, as pg_ctl starts PostgreSQL: with
# the kernel's autogroup scheduling (sched_autogroup_enabled) a busy
# machine's CPU is shared between sessions, and a server left in this
# script's session would share one group with its own client. setsid
# execs in place here (a background job of a script leads no process
# group), so $! stays the server's pid.
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)

# Starts ferryd on a free port (as tests/server/lib.sh does); sets URL.
srv_start() {
	local i port
	for i in $(seq 1 30); do
		port=$((20000 + RANDOM % 12000))
		env -u FERRY_SYNC -u FERRY_WRITEMAP -u FERRY_ADMIN_KEY -u FERRY_THREADS \
			FERRY_DATA="$DATA" FERRY_RELEASE=0.7.1 FERRY_LISTEN="127.0.0.1:$port" \
			FERRY_ACCESS_LOG=off "${SETSID[@]}" "$FERRYD" >>"$SLOG" 2>&1 &
		SRV_PID=$!
		URL=http://127.0.0.1:$port
		for _ in $(seq 1 200); do
			if curl -s -o /dev/null "$URL/" 2>/dev/null; then
				[ "$(readlink -f "/proc/$SRV_PID/exe")" = "$(readlink -f "$FERRYD")" ] &&
					return 0
				echo "pid $SRV_PID is not ferryd (setsid forked?)" >>"$SLOG"
				return 1
			fi
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$SRV_PID" 2>/dev/null; then
			echo "ferryd started but does not answer on $URL" >>"$SLOG"
			return 1
		fi
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=""
		grep -q "cannot listen" "$SLOG" || return 1
	done
	echo "no free port found" >>"$SLOG"
	return 1
}

srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=""
}

# The server's utime + stime in clock ticks.
srv_ticks() { awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat" 2>/dev/null || echo 0; }

# Nanoseconds the server's threads have waited on a run queue (runnable,
# no CPU free): the second field of each /proc/PID/task/*/schedstat.
srv_wait() {
	cat "/proc/$SRV_PID"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }'
}

# per_sec A B SECS UNIT: (B - A) / UNIT / SECS with 2 decimals; UNIT is
# clock ticks per second or 1e9 (ns).
per_sec() {
	awk -v a="$1" -v b="$2" -v s="$3" -v k="$4" \
		'BEGIN { printf "%.2f", (s > 0 ? (b - a) / k / s : 0) }'
}

# The server's peak RSS so far (VmHWM, KiB; counts the mapped LMDB pages).
srv_hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null; }

# docs.count of the index behind the alias default.profile, from
# _cat/indices (one object a line after the split at '}').
srv_docs() {
	curl -s "$URL/_cat/indices?format=json" 2>/dev/null | tr '}' '\n' |
		grep '"alias":"default\.profile"' |
		sed -n 's/.*"docs\.count":"\([0-9]*\)".*/\1/p' | head -n 1
}

# ------------------------------------------------------------------ PostgreSQL
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null |
	sort -V | tail -n 1)
PGTMP="" PGVER=""
PGOPTS="-c listen_addresses='127.0.0.1' -c shared_buffers=1GB -c max_wal_size=8GB"
PGOPTS="$PGOPTS -c checkpoint_timeout=1h"
PGPORT=""
AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)
as_pg() { "${AS_PG[@]}" "$@"; }
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

pg_start() {
	local log=$1
	PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-pg.XXXXXX") || return 1
	if [ "$(id -u)" = 0 ]; then
		getent passwd postgres >/dev/null || { echo "no postgres user" >"$log"; return 1; }
		chown postgres: "$PGTMP" || return 1
	fi
	as_pg "$PGBIN/initdb" -D "$PGTMP/db" -A trust -U postgres -E UTF8 \
		--locale=C --no-sync >"$log" 2>&1 || return 1
	# TCP on 127.0.0.1 for pgbench, like wrk to ferryd (a free port: retried
	# when taken); psql sets up through the unix socket.
	local i
	for i in 1 2 3 4 5; do
		PGPORT=$((20000 + RANDOM % 12000))
		as_pg "$PGBIN/pg_ctl" -D "$PGTMP/db" -l "$PGTMP/server.log" -w -t 120 \
			-o "$PGOPTS -c port=$PGPORT -c unix_socket_directories='$PGTMP'" \
			start >>"$log" 2>&1 && break
		cat "$PGTMP/server.log" >>"$log" 2>/dev/null
		[ "$i" = 5 ] && return 1
	done
	PSQL=("${AS_PG[@]}" "$PGBIN/psql" -h "$PGTMP" -p "$PGPORT" -U postgres -d postgres
		-X -q -A -t -v ON_ERROR_STOP=1)
	PGVER=$(pg_sql -c "SHOW server_version" 2>>"$log" | awk '{ print $1 }')
}

cleanup() {
	srv_stop
	pg_stop
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA" "$DATA.base" "$IN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ runs
# kv KEY LINE: the number after " KEY=" in LINE.
kv() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

# One wrk run: wrk_once LABEL CONNS THREADS SCRIPT ARGS... Sets M_RATE
# (requests/s), M_REQ, M_SECS, M_P50/M_P99 (us), M_BAD (bad responses),
# M_CORES (server CPU over the run) and returns 1 if wrk failed.
wrk_once() {
	local label=$1 conns=$2 threads=$3 script=$4 out line t0
	shift 4
	out=$BENCH_DIR/wrk-$label.out
	local tm=() cpu=$BENCH_DIR/wrk-$label.cpu
	[ -x /usr/bin/time ] && tm=(/usr/bin/time -f '%U %S' -o "$cpu")
	rm -f "$cpu"
	t0=$(srv_ticks) w0=$(srv_wait)
	"${tm[@]}" wrk -t"$threads" -c"$conns" -d"${SECS}s" --latency -s "$script" "$URL" \
		-- "$@" >"$out" 2>&1 || { cat "$out" >>"$LOG"; return 1; }
	cat "$out" >>"$LOG"
	line=$(grep '^wrk-' "$out" | tail -n 1)
	M_REQ=$(kv requests "$line")
	[ -n "$M_REQ" ] || return 1
	M_SECS=$(awk -v u="$(kv duration_us "$line")" 'BEGIN { printf "%.6f", u / 1e6 }')
	M_RATE=$(bench_rate "$M_REQ" "$M_SECS")
	M_P50=$(kv p50_us "$line") M_P99=$(kv p99_us "$line")
	local bad non2xx sock
	bad=$(kv bad "$line") non2xx=$(kv non2xx "$line") sock=$(kv socket_errors "$line")
	M_BAD=$((${bad:-0} + ${non2xx:-0} + ${sock:-0}))
	M_CORES=$(per_sec "$t0" "$(srv_ticks)" "$M_SECS" "$CLK_TCK")
	M_WAIT=$(per_sec "$w0" "$(srv_wait)" "$M_SECS" 1e9)
	M_CCORES=""
	[ -s "$cpu" ] && M_CCORES=$(awk -v s="$M_SECS" \
		'END { if (s > 0) printf "%.2f", ($1 + $2) / s }' "$cpu")
	rm -f "$cpu"
	return 0
}

# pctl Q FILE: the Q quantile of the sorted numbers in FILE, one a line.
pctl() {
	awk -v q="$1" '{ v[NR] = $1 }
		END { if (NR) { i = int(NR * q + 0.5); if (i < 1) i = 1; print v[i] } }' "$2"
}

# The CPU ticks of the postmaster and its reaped children (the backends of
# a pgbench run once it disconnected).
pg_ticks() {
	local pm
	pm=$(head -n 1 "$PGTMP/db/postmaster.pid" 2>/dev/null)
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat" 2>/dev/null || echo 0
}

# One pgbench run of the GET script: sets the same M_*; M_CORES are the
# backends' CPU.
pgbench_once() {
	local out=$BENCH_DIR/pgbench.out lat=$PGTMP/lat.txt t0 tm=()
	local cpu=$BENCH_DIR/pgbench.cpu
	[ -x /usr/bin/time ] && tm=(/usr/bin/time -f '%U %S' -o "$cpu")
	rm -f "$PGTMP"/pgbench_log.* "$cpu"
	t0=$(pg_ticks)
	"${tm[@]}" "${AS_PG[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared \
		-c "$GET_CONNS" -j "$CT" -T "$SECS" -f "$PGTMP/get.sql" -l --sampling-rate=0.1 \
		--log-prefix="$PGTMP/pgbench_log" postgres >"$out" 2>&1 ||
		{ cat "$out" >>"$LOG"; return 1; }
	cat "$out" >>"$LOG"
	sleep 0.3 # let the postmaster reap the backends
	M_REQ=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$out")
	[ -n "$M_REQ" ] && [ -n "$tps" ] || return 1
	M_RATE=$(awk -v t="$tps" 'BEGIN { printf "%d", t }')
	M_SECS=$(awk -v n="$M_REQ" -v t="$tps" 'BEGIN { printf "%.6f", (t > 0 ? n / t : 0) }')
	M_BAD=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	M_BAD=${M_BAD:-0}
	cat "$PGTMP"/pgbench_log.* 2>/dev/null | awk '{ print $3 }' | sort -n >"$lat"
	M_P50=$(pctl 0.50 "$lat") M_P99=$(pctl 0.99 "$lat")
	M_CORES=$(per_sec "$t0" "$(pg_ticks)" "$M_SECS" "$CLK_TCK")
	M_WAIT="" M_CCORES=""
	[ -s "$cpu" ] && M_CCORES=$(awk -v s="$M_SECS" \
		'END { if (s > 0) printf "%.2f", ($1 + $2) / s }' "$cpu")
	rm -f "$cpu"
	return 0
}

# The M_* of the last run as one record for pick.
rec() {
	echo "$M_RATE $M_REQ $M_SECS ${M_P50:-na} ${M_P99:-na} ${M_CORES:-na}" \
		"${M_CCORES:-na} ${M_WAIT:-na}"
}

# pick RECORD...: the record with the median rate (the lower middle one for
# an even count) into R_*.
pick() {
	local best
	best=$(printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$((($# + 1) / 2))p")
	read -r R_RATE R_REQ R_SECS R_P50 R_P99 R_CORES R_CCORES R_WAIT <<<"$best"
	[ "$R_P50" = na ] && R_P50=""
	[ "$R_P99" = na ] && R_P99=""
	[ "$R_CORES" = na ] && R_CORES=""
	[ "$R_CCORES" = na ] && R_CCORES=""
	[ "$R_WAIT" = na ] && R_WAIT=""
	return 0
}

# measure FN ARGS...: FN BENCH_REPEAT times, the median run in R_*, the
# bad responses of all runs in R_BAD. Returns 1 if a run failed.
measure() {
	local i runs=()
	R_BAD=0
	for ((i = 1; i <= BENCH_REPEAT; i++)); do
		"$@" || return 1
		R_BAD=$((R_BAD + M_BAD))
		runs+=("$(rec)")
	done
	pick "${runs[@]}"
}

# bulk_fresh: restarts ferryd on a fresh copy of the loaded data dir
# ($DATA.base), synced so that the run's first fsync does not write it.
bulk_fresh() {
	srv_stop
	rm -rf "$DATA" && cp -a "$DATA.base" "$DATA" && sync && srv_start
}

# bulk_run KIND CONNS: one wrk run with template bulk-KIND (random or
# ordered) at CONNS connections from the loaded data dir, its ids tagged
# KIND-CONNS.RUN so that no run repeats another's; then checks that
# docs.count grew by tpl_docs per counted request (+ those in flight when
# wrk stopped).
bulk_run() {
	local kind=$1 conns=$2 before after want
	run=$((run + 1))
	bulk_fresh || return 1
	before=$(srv_docs)
	wrk_once "bulk-$kind-c$conns" "$conns" 1 bench/wrk/bulk.lua \
		"$IN/bulk-$kind" "$kind-$conns.$run" || return 1
	bulk_hwm=$(srv_hwm)
	after=$(srv_docs)
	want=$((${before:-0} + M_REQ * tpl_docs))
	if [ -z "$after" ] || [ "$after" -lt "$want" ] ||
		[ "$after" -gt $((want + (conns + 2) * tpl_docs)) ]; then
		echo "$BENCH_STAGE: after $M_REQ bulk requests of $tpl_docs new documents" \
			"profile holds '${after:-?}' documents, not $want (+ in flight)" >&2
		status=1
	fi
}

ms() { [ -n "${1:-}" ] && awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }' || echo "n/a"; }

# ------------------------------------------------------------------ inputs
file=$(bench_profiles "$N") || bench_die "generating profiles failed"
bytes=$(wc -c <"$file" | tr -d ' ')
echo "$BENCH_STAGE: $N profiles, $bytes bytes ($((bytes / N)) B/doc) in $file"
[ "$(head -c 7 "$file")" = '{"id":"' ] || bench_die "$file does not start with an id member"
: >"$LOG"
: >"$SLOG"
rm -rf "$IN" "$DATA"
mkdir -p "$IN/load"
load_start=$(cut -d' ' -f1 /proc/loadavg)

# The load as _bulk requests of LOAD_DOCS documents, the ids shuffled
# (a fixed random source, so every run asks in the same order), and the
# template: the first BULK_DOCS profiles with @@ID@@ before each id.
awk -v dir="$IN/load" -v c="$LOAD_DOCS" '
	{ id = $0; sub(/^\{"id":"/, "", id); sub(/".*/, "", id)
	  f = sprintf("%s/%06d", dir, int((NR - 1) / c))
	  if (f != last) { if (last != "") close(last); last = f }
	  print "{\"index\":{\"_index\":\"profile\",\"_id\":\"" id "\"}}" >f
	  print >f }' "$file" || bench_die "writing the load requests failed"
awk -F'"' '{ print $4 }' "$file" | shuf --random-source=<(yes) >"$IN/ids" ||
	bench_die "writing the id list failed"
# bulk_template PRE SUF: the first BULK_DOCS profiles as _bulk lines, each
# id (in the action and in the document) becoming PRE<id>SUF.
bulk_template() {
	head -n "$BULK_DOCS" "$file" | awk -v pre="$1" -v suf="$2" '
		{ id = $0; sub(/^\{"id":"/, "", id); sub(/".*/, "", id)
		  print "{\"index\":{\"_index\":\"profile\",\"_id\":\"" pre id suf "\"}}"
		  print "{\"id\":\"" pre id suf substr($0, 8 + length(id)) }'
}
# random: each request's ids spread over the key space, as UUIDs are;
# ordered: adjacent, as time-ordered ids would be.
if ! bulk_template "" "-@@ID@@" >"$IN/bulk-random" ||
	! bulk_template "@@ID@@-" "" >"$IN/bulk-ordered"; then
	bench_die "writing the bulk templates failed"
fi
tpl_docs=$(grep -c '^{"index"' "$IN/bulk-random")
tpl_bytes=$(wc -c <"$IN/bulk-random" | tr -d ' ')
cat "$file" >/dev/null # warm the page cache for COPY

# ------------------------------------------------------------------ PostgreSQL
# Set up first and left running, so that the GET runs of both servers can
# alternate and each pair sees the same load on a shared machine.
pgc_rate="" pgg_rate="" pgg_p50="" pgg_p99="" pgg_cores="" pgg_cc="" pg_ok=0
plog=$BENCH_DIR/pg-server.log
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/pgbench" ]; then
	echo "$BENCH_STAGE: PostgreSQL not installed; no PostgreSQL peer (scripts/deps bench)" >&2
elif ! pg_start "$plog"; then
	fail "starting PostgreSQL ($PGBIN) failed" "$plog"
elif ! pg_sql -c "CREATE TABLE profiles (
		n int GENERATED ALWAYS AS IDENTITY (CACHE 1000) NOT NULL,
		id text GENERATED ALWAYS AS (body ->> 'id') STORED PRIMARY KEY,
		body jsonb NOT NULL)" -c "CHECKPOINT" >>"$plog" 2>&1; then
	fail "creating PostgreSQL's table failed" "$plog"
elif ! bench_run "${PSQL[@]}" -c "COPY profiles (body) FROM STDIN WITH
		(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" <"$file" >>"$plog" 2>&1; then
	fail "PostgreSQL COPY failed" "$plog"
else
	pgc_rate=$(bench_rate "$N" "$BENCH_SECS")
	bench_result pg-copy "$N" "$BENCH_SECS" "" "pg=$PGVER" sync=on
	echo "$BENCH_STAGE: PostgreSQL $PGVER COPY of $N profiles, $(printf '%.1f' "$BENCH_SECS") s"
	# For pgbench, whose variables are integers: a unique index on the
	# ordinal n; VACUUM so that the reads do not set hint bits (not timed).
	if ! pg_sql -c "CREATE UNIQUE INDEX profiles_n ON profiles (n)" \
		-c "VACUUM ANALYZE profiles" >>"$plog" 2>&1; then
		fail "indexing PostgreSQL's table for GET failed" "$plog"
	else
		got=$(pg_sql -c "SELECT count(*) FROM profiles WHERE n BETWEEN 1 AND $N" 2>>"$plog")
		if [ "$got" != "$N" ]; then
			echo "$BENCH_STAGE: PostgreSQL holds '${got:-?}' rows numbered 1..$N, not $N" >&2
			status=1
		else
			printf '\\set n random(1, %d)\nSELECT body FROM profiles WHERE n = :n;\n' \
				"$N" >"$PGTMP/get.sql"
			[ "$(id -u)" = 0 ] && chown postgres: "$PGTMP/get.sql"
			pg_ok=1
		fi
	fi
fi

# ------------------------------------------------------------------ ferryd
load_rate="" load_hwm="" load_cores="" load_wait=""
get_rate="" get_p50="" get_p99="" get_cores="" get_cc="" get_wait="" get_hwm=""
b4_rate="" b4_p50="" b4_p99="" b4_cores="" b4_cc="" b4_wait=""
b1_rate="" b1_p50="" b1_p99="" b1_cores="" b1_cc="" b1_wait=""
bo_rate="" bo_p50="" bo_p99="" bo_cores="" bo_cc="" bo_wait=""
bulk_hwm="" threads=""

if ! srv_start; then
	fail "starting $FERRYD failed" "$SLOG"
else
	threads=$(sed -n 's/.*, \([0-9]*\) threads,.*/\1/p' "$SLOG" | tail -n 1)
	echo "$BENCH_STAGE: ferryd on $URL, ${threads:-?} threads"
	if ! curl -s -f -X PUT "$URL/profile" >>"$LOG" 2>&1; then
		fail "creating index profile (PUT $URL/profile) failed" "$LOG"
	else
		# -------------------------------------------------- load with curl
		resp=$IN/resp.json
		nreq=0 nbad=0
		k0=$(srv_ticks) w0=$(srv_wait)
		t0=$(bench_now)
		for f in "$IN"/load/*; do
			code=$(curl -s -o "$resp" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
				--data-binary @"$f" "$URL/_bulk")
			nreq=$((nreq + 1))
			if [ "$code" != 200 ] || ! head -c 200 "$resp" | grep -q '"errors":false'; then
				nbad=$((nbad + 1))
				{ echo "load $f: HTTP $code"; head -c 500 "$resp"; echo; } >>"$LOG"
			fi
		done
		secs=$(bench_secs "$t0" "$(bench_now)")
		load_cores=$(per_sec "$k0" "$(srv_ticks)" "$secs" "$CLK_TCK")
		load_wait=$(per_sec "$w0" "$(srv_wait)" "$secs" 1e9)
		echo "$BENCH_STAGE: loaded $N profiles in $nreq requests, $(printf '%.1f' "$secs") s"
		got=$(srv_docs)
		if [ "$nbad" != 0 ] || [ "$got" != "$N" ]; then
			echo "$BENCH_STAGE: loading $N profiles: $nbad of $nreq requests failed;" \
				"profile holds '${got:-?}' documents" >&2
			status=1
		else
			load_rate=$(bench_rate "$N" "$secs") load_hwm=$(srv_hwm)
			bench_result server-load "$N" "$secs" "$load_hwm" "docs_per_req=$LOAD_DOCS" \
				conns=1 "server_cores=$load_cores" "server_wait=$load_wait" sync=on
		fi

		# -------------------------------------------------- GET by id
		# BENCH_REPEAT rounds of (ferryd, pgbench), alternating.
		if [ "$status" = 0 ]; then
			fruns=() pruns=() fbad=0 pbad=0 gfail=0 pfail=0
			for ((i = 1; i <= BENCH_REPEAT; i++)); do
				if wrk_once get "$GET_CONNS" "$CT" bench/wrk/get.lua "$IN/ids" profile "$CT"; then
					fruns+=("$(rec)") fbad=$((fbad + M_BAD))
				else
					gfail=1
				fi
				if [ "$pg_ok" = 1 ]; then
					if pgbench_once; then
						pruns+=("$(rec)") pbad=$((pbad + M_BAD))
					else
						pfail=1
					fi
				fi
			done
			if [ "$gfail" = 0 ]; then
				pick "${fruns[@]}"
				get_rate=$R_RATE get_p50=$R_P50 get_p99=$R_P99
				get_cores=$R_CORES get_cc=$R_CCORES get_wait=$R_WAIT
				get_hwm=$(srv_hwm)
				bench_result server-get "$R_REQ" "$R_SECS" "$get_hwm" "index_docs=$N" \
					"conns=$GET_CONNS" "threads=$CT" "p50_us=$R_P50" "p99_us=$R_P99" \
					"server_cores=$R_CORES" "server_wait=$R_WAIT" \
					"client_cores=${R_CCORES:-na}"
				if [ "$fbad" != 0 ]; then
					echo "$BENCH_STAGE: $fbad GET requests failed (non-2xx or socket errors)" >&2
					status=1
				fi
			else
				fail "wrk GET by id failed" "$LOG"
			fi
			if [ "$pg_ok" = 1 ] && [ "$pfail" = 0 ]; then
				pick "${pruns[@]}"
				pgg_rate=$R_RATE pgg_p50=$R_P50 pgg_p99=$R_P99
				pgg_cores=$R_CORES pgg_cc=$R_CCORES
				bench_result pgbench-get "$R_REQ" "$R_SECS" "" "pg=$PGVER" \
					"clients=$GET_CONNS" "threads=$CT" "p50_us=$R_P50" "p99_us=$R_P99" \
					"server_cores=$R_CORES" "client_cores=${R_CCORES:-na}"
				[ "$pbad" = 0 ] || { echo "$BENCH_STAGE: $pbad pgbench" \
					"transactions failed" >&2; status=1; }
			elif [ "$pg_ok" = 1 ]; then
				fail "pgbench failed" "$LOG"
			fi
		fi
		pg_stop

		# -------------------------------------------------- bulk ingest
		srv_stop
		rm -rf "$DATA.base"
		cp -a "$DATA" "$DATA.base" || fail "copying the data dir failed" "$LOG"
		for kc in random:4 random:1 ordered:4; do
			kind=${kc%:*} conns=${kc#*:} run=0
			if measure bulk_run "$kind" "$conns"; then
				rate=$(bench_rate "$((R_REQ * tpl_docs))" "$R_SECS")
				bench_result "server-bulk-$kind-c$conns" "$((R_REQ * tpl_docs))" "$R_SECS" \
					"$(srv_hwm)" "docs_per_req=$tpl_docs" "conns=$conns" threads=1 \
					"ids=$kind" "req_per_s=$R_RATE" "p50_us=$R_P50" "p99_us=$R_P99" \
					"server_cores=$R_CORES" "server_wait=$R_WAIT" \
					"client_cores=${R_CCORES:-na}" sync=on
				case $kc in
				random:4) b4_rate=$rate b4_p50=$R_P50 b4_p99=$R_P99
					b4_cores=$R_CORES b4_cc=$R_CCORES b4_wait=$R_WAIT ;;
				random:1) b1_rate=$rate b1_p50=$R_P50 b1_p99=$R_P99
					b1_cores=$R_CORES b1_cc=$R_CCORES b1_wait=$R_WAIT ;;
				*) bo_rate=$rate bo_p50=$R_P50 bo_p99=$R_P99
					bo_cores=$R_CORES bo_cc=$R_CCORES bo_wait=$R_WAIT ;;
				esac
				if [ "$R_BAD" != 0 ]; then
					echo "$BENCH_STAGE: $R_BAD bulk responses ($kind ids, $conns" \
						"connection(s)) were not 200 with \"errors\":false" >&2
					status=1
				fi
			else
				fail "wrk bulk ($kind ids, $conns connection(s)) failed" "$LOG"
			fi
		done
		rm -rf "$DATA.base"
	fi
	srv_stop
	if grep -qi 'error\|abort\|sanitizer' "$SLOG"; then
		echo "$BENCH_STAGE: ferryd logged errors; see $SLOG" >&2
	fi
fi
pg_stop
load_end=$(cut -d' ' -f1 /proc/loadavg)
data_bytes=$(du -sb "$DATA" 2>/dev/null | awk '{ print $1 }')
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"

# ------------------------------------------------------------------ report
# cores_note SERVER [CLIENT [WAIT]]: "; CPU 1.20 + 0.60 cores, waited 0.30"
# (server + client cores used; cores' worth of time the server waited for
# a CPU).
cores_note() {
	[ -n "${1:-}" ] || return 0
	printf '; CPU %s%s cores%s' "$1" "${2:+ + $2}" "${3:+, waited $3}"
}
bench_summary "$BENCH_STAGE: ferryd on 127.0.0.1, ${threads:-?} worker threads, fsync on" \
	"(every request commits and syncs), access log off; $N profiles, $((bytes / N)) B/doc;" \
	"${SECS} s per run, median of $BENCH_REPEAT; load average ${load_start:-?} at the start," \
	"${load_end:-?} at the end; GET runs alternate with pgbench's;" \
	"PostgreSQL ${PGVER:-n/a} on 127.0.0.1 too, fsync on, shared_buffers=1GB"
# lat P50 P99: "p50 1.20 ms, p99 9.80 ms"
lat() { echo "p50 $(ms "$1"), p99 $(ms "$2")"; }
vs_copy() { echo "$(bench_ratio "$1" "$pgc_rate") PG COPY"; }
bench_row_header
bench_row "ferryd bulk, 4 conns, random ids" "$b4_rate" "$bulk_hwm" \
	"$(lat "$b4_p50" "$b4_p99")$(cores_note "$b4_cores" "$b4_cc" "$b4_wait"); $(vs_copy "$b4_rate")"
bench_row "ferryd bulk, 1 conn, random ids" "$b1_rate" "" \
	"$(lat "$b1_p50" "$b1_p99")$(cores_note "$b1_cores" "$b1_cc" "$b1_wait"); $(vs_copy "$b1_rate")"
bench_row "ferryd bulk, 4 conns, ordered ids" "$bo_rate" "" \
	"$(lat "$bo_p50" "$bo_p99")$(cores_note "$bo_cores" "$bo_cc" "$bo_wait"); $(vs_copy "$bo_rate")"
bench_row "ferryd load, curl, ${LOAD_DOCS}/req" "$load_rate" "$load_hwm" \
	"1 conn, $N docs$(cores_note "$load_cores" "" "$load_wait"); $(vs_copy "$load_rate")"
bench_row "PostgreSQL COPY, keyed jsonb" "$pgc_rate" "" "$N docs, one transaction"
bench_row "ferryd GET by id (req/s)" "$get_rate" "$get_hwm" \
	"wrk $GET_CONNS conns, $CT threads; $(lat "$get_p50" "$get_p99")$(cores_note \
	"$get_cores" "$get_cc" "$get_wait"); $(bench_ratio "$get_rate" "$pgg_rate") pgbench"
bench_row "pgbench SELECT by id (req/s)" "$pgg_rate" "" \
	"-M prepared, $GET_CONNS clients, $CT threads; $(lat "$pgg_p50" "$pgg_p99")$(cores_note \
	"$pgg_cores" "$pgg_cc")"
bench_summary "  (bulk: wrk, 1 thread, $tpl_docs new profiles per request ($tpl_bytes B); random" \
	"ids are <uuid>-<tag>, spread over the key space like UUIDs, ordered ids <tag>-<uuid>," \
	"adjacent within a request like time-ordered ids; each bulk run starts from the" \
	"loaded data dir, copied back and synced; ferryd data dir" \
	"$(awk -v b="${data_bytes:-0}" 'BEGIN { printf "%.1f MiB", b / 1048576 }') at the end;" \
	"peak RSS is ferryd's VmHWM, mapped LMDB pages included; CPU is server + client" \
	"cores used over the run (/proc; PostgreSQL's are its backends); waited: the cores'" \
	"worth of time ferryd's threads were runnable but had no CPU (schedstat))"
bench_target "ferryd bulk >= 200k docs/s (4 conns, random ids)" "$b4_rate" 200000
bench_target "ferryd GET by id >= 30k req/s" "$get_rate" 30000
exit "$status"
