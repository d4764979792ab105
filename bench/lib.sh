# shellcheck shell=bash
# bench/lib.sh - helpers shared by the benchmark stages (bench/NN-*.sh) and
# bench/run: wall-clock timing with `date +%s.%N`, peak RSS with
# `/usr/bin/time -f %M` (Debian package "time"), rates and ratios, cached
# input files, and one results line per measurement appended to
# $B/bench/results.txt.
#
# Sourcing it changes to the repository root and defines:
#   B             build dir (default build)
#   BENCH_DIR     $B/bench: cached inputs, data dirs, logs, results.txt
#   BENCH_DOCS    documents per data set (default 1000000)
#   BENCH_REPEAT  runs per measurement; the median is kept (default 1)
#   BENCH_STAGE   this stage's name (file name without .sh)
# Stages append compact lines for the final summary to $BENCH_SUMMARY (set
# by bench/run; /dev/null when a stage runs on its own).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$BENCH_ROOT" || exit 1

B=${B:-build}
BENCH_DIR=$B/bench
BENCH_DOCS=${BENCH_DOCS:-1000000}
BENCH_REPEAT=${BENCH_REPEAT:-1}
BENCH_RESULTS=$BENCH_DIR/results.txt
BENCH_SUMMARY=${BENCH_SUMMARY:-/dev/null}
BENCH_STAGE=$(basename "$0" .sh)
mkdir -p "$BENCH_DIR"

bench_die() {
	echo "$BENCH_STAGE: $*" >&2
	exit 1
}

[[ $BENCH_DOCS =~ ^[1-9][0-9]*$ ]] ||
	bench_die "BENCH_DOCS must be a positive integer, not '$BENCH_DOCS'"
[[ $BENCH_REPEAT =~ ^[1-9][0-9]*$ ]] ||
	bench_die "BENCH_REPEAT must be a positive integer, not '$BENCH_REPEAT'"

# Adds a line to the run's summary; a stage run on its own prints it.
bench_summary() {
	if [ "$BENCH_SUMMARY" = /dev/null ]; then echo "$*"
	else echo "$*" >>"$BENCH_SUMMARY"; fi
}

bench_now() { date +%s.%N; }

# Seconds between two bench_now stamps, 6 decimals.
bench_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# Runs "$@" once; redirect its output at the call. Sets BENCH_SECS (wall
# time), BENCH_RSS_KB (peak RSS, "" if /usr/bin/time is missing) and
# BENCH_RC (its exit status), and returns BENCH_RC. Environment variables
# for the command go through env: bench_run env FERRY_DATA=d build/ferry ...
bench_run() {
	local rss_file="$BENCH_DIR/.rss.$$" t0 t1
	t0=$(bench_now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$rss_file" "$@"
		BENCH_RC=$?
		# On failure time(1) writes a "Command exited..." line first.
		BENCH_RSS_KB=$(tail -n 1 "$rss_file" 2>/dev/null)
		rm -f "$rss_file"
	else
		"$@"
		BENCH_RC=$?
		BENCH_RSS_KB=
	fi
	t1=$(bench_now)
	BENCH_SECS=$(bench_secs "$t0" "$t1")
	[[ $BENCH_RSS_KB =~ ^[0-9]+$ ]] || BENCH_RSS_KB=
	return "$BENCH_RC"
}

# bench_tick: waits 0.1 s without starting a process. A polling loop
# with `sleep 0.1` forked ten times a second, and on this VM that took
# 0.3 s from a 3.4 s upgrade running beside it (a fork copies page
# tables; a page fault costs ~10 us here). This reads, with a timeout,
# from a FIFO that nobody writes: opened once, read-write, so the read
# waits instead of seeing end-of-file.
BENCH_TICK_FD=
bench_tick() {
	if [ -z "$BENCH_TICK_FD" ]; then
		local fifo=$BENCH_DIR/.tick.$$
		rm -f "$fifo"
		mkfifo "$fifo" && exec {BENCH_TICK_FD}<>"$fifo"
		rm -f "$fifo"
		[ -n "$BENCH_TICK_FD" ] || { sleep 0.1; return; }
	fi
	read -r -t 0.1 -u "$BENCH_TICK_FD" _
	return 0
}

# The median of the numbers given (the mean of the middle two for an even
# count).
bench_median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.6f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Calls "$@" (a command that calls bench_run once, e.g. bench_run itself)
# BENCH_REPEAT times. Leaves BENCH_SECS at the median (BENCH_TIMES: every
# run's), BENCH_RSS_KB at the maximum and BENCH_RC at the first non-zero
# status (0 if all passed).
bench_repeat() {
	local i rss=0 rc=0
	local -a times=()
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		"$@"
		[ "$BENCH_RC" != 0 ] && [ "$rc" = 0 ] && rc=$BENCH_RC
		times+=("$BENCH_SECS")
		[ -n "$BENCH_RSS_KB" ] && [ "$BENCH_RSS_KB" -gt "$rss" ] && rss=$BENCH_RSS_KB
	done
	# shellcheck disable=SC2034 # read by the stages
	BENCH_TIMES="${times[*]}"
	BENCH_SECS=$(bench_median "${times[@]}")
	BENCH_RC=$rc
	if [ "$rss" -gt 0 ]; then BENCH_RSS_KB=$rss; else BENCH_RSS_KB=; fi
	return "$rc"
}

# Documents per second, an integer: bench_rate DOCS SECS
bench_rate() {
	awk -v d="$1" -v s="$2" 'BEGIN { if (s <= 0) print 0; else printf "%d", d / s }'
}

# Human form of a rate: 3.80 M/s, 812.3 k/s, 950 /s.
bench_human() {
	awk -v r="$1" 'BEGIN {
		if (r == "") print "n/a";
		else if (r >= 1e6) printf "%.2f M/s", r / 1e6;
		else if (r >= 1e3) printf "%.1f k/s", r / 1e3;
		else printf "%d /s", r }'
}

# Ratio A/B as "12.34x", or "n/a" when either is missing or B is 0.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "n/a";
		else { r = a / b; printf(r >= 10 ? "%.1fx" : (r >= 0.1 ? "%.2fx" : "%.4fx"), r) } }'
}

# Peak RSS in KiB as MiB, or n/a.
bench_mib() {
	if [ -n "${1:-}" ]; then awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
	else echo "n/a"; fi
}

bench_commit() { git rev-parse --short HEAD 2>/dev/null || echo none; }

# Appends one results line:
#   bench_result NAME DOCS SECS [RSS_KB] [key=value ...]
# giving "<utc time> stage=.. name=.. docs=.. secs=.. docs_per_s=..
# rss_kb=.. cores=.. commit=.. [key=value ...]".
bench_result() {
	local name=$1 docs=$2 secs=$3 rss=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	printf '%s stage=%s name=%s docs=%s secs=%s docs_per_s=%s rss_kb=%s cores=%s commit=%s%s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_STAGE" "$name" "$docs" "$secs" \
		"$(bench_rate "$docs" "$secs")" "${rss:-na}" "$(nproc 2>/dev/null || echo 1)" \
		"$(bench_commit)" "${*:+ $*}" >>"$BENCH_RESULTS"
}

# One row of a stage's table, also added to the summary:
#   bench_row LABEL RATE [RSS_KB] [NOTE]
bench_row() {
	bench_summary "$(printf '  %-34s %12s  %10s  %s' "$1" "$(bench_human "$2")" \
		"$(bench_mib "${3:-}")" "${4:-}" | sed 's/ *$//')"
}

bench_row_header() {
	bench_summary "$(printf '  %-34s %12s  %10s  %s' measure docs/s "peak RSS" note)"
}

# Reports a target: bench_target "import >= 500k docs/s" RATE MIN
bench_target() {
	local what=$1 rate=$2 min=$3 verdict
	if [ -z "$rate" ]; then verdict="not measured"
	elif [ "$rate" -ge "$min" ]; then verdict="met ($(bench_human "$rate"))"
	else verdict="missed ($(bench_human "$rate"))"; fi
	bench_summary "  target: $what: $verdict"
}

# Cached profiles file for N documents (default seed); generated once with
# $B/cdp-gen, again when the generator is newer than the file. Prints its path.
bench_profiles() {
	local n=$1 name f
	if ((n % 1000000 == 0)); then name="$((n / 1000000))m"
	elif ((n % 1000 == 0)); then name="$((n / 1000))k"
	else name=$n; fi
	f=$BENCH_DIR/profiles-$name.ndjson
	if [ ! -s "$f" ] || [ "$B/cdp-gen" -nt "$f" ]; then
		echo "$BENCH_STAGE: generating $n profiles into $f" >&2
		"$B/cdp-gen" --type profile --count "$n" >"$f.tmp" || { rm -f "$f.tmp"; return 1; }
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# Builds $BENCH_DIR/scan (bench/scan.c against $B/libferry.a) when missing or
# older than its inputs. Extra libraries libferry may need can be given in
# BENCH_SCAN_LIBS; without it a failed link is retried with the other
# libraries of scripts/deps that pkg-config knows.
bench_build_scan() {
	local out=$BENCH_DIR/scan log=$BENCH_DIR/scan-build.log libs extra p
	[ -f "$B/libferry.a" ] || { echo "bench: $B/libferry.a missing (run make)" >&2; return 1; }
	if [ -x "$out" ] && [ "$out" -nt "$B/libferry.a" ] && [ "$out" -nt bench/scan.c ]; then
		return 0
	fi
	libs="${BENCH_SCAN_LIBS:-$(pkg-config --libs lmdb 2>/dev/null || echo -llmdb)}"
	# shellcheck disable=SC2086 # $libs is a list of linker flags
	if cc -O2 -std=c11 -Iinclude bench/scan.c "$B/libferry.a" $libs -lm -pthread \
		-o "$out" >"$log" 2>&1; then
		return 0
	fi
	extra=""
	for p in libzstd lua5.4 libcurl openssl libmicrohttpd; do
		pkg-config --exists "$p" 2>/dev/null && extra="$extra $(pkg-config --libs "$p")"
	done
	# shellcheck disable=SC2086
	if [ -n "$extra" ] && cc -O2 -std=c11 -Iinclude bench/scan.c "$B/libferry.a" \
		$libs $extra -lm -pthread -o "$out" >>"$log" 2>&1; then
		return 0
	fi
	echo "bench: building bench/scan.c failed; see $log" >&2
	tail -n 5 "$log" >&2
	return 1
}

# Builds $BENCH_DIR/NAME from bench/NAME.c, a helper that needs only the
# library of pkg-config package PKG (FALLBACK: its -l flag without
# pkg-config), when missing or older than its source.
#   bench_build_helper lmdb_append lmdb -llmdb
bench_build_helper() {
	local name=$1 pkg=$2 fallback=$3
	local out=$BENCH_DIR/$name log=$BENCH_DIR/$name-build.log
	if [ -x "$out" ] && [ "$out" -nt "bench/$name.c" ]; then
		return 0
	fi
	# shellcheck disable=SC2046 # pkg-config prints lists of flags
	if cc -O2 -std=c11 $(pkg-config --cflags "$pkg" 2>/dev/null) "bench/$name.c" \
		$(pkg-config --libs "$pkg" 2>/dev/null || echo "$fallback") -o "$out" >"$log" 2>&1; then
		return 0
	fi
	echo "bench: building bench/$name.c failed; see $log" >&2
	tail -n 5 "$log" >&2
	return 1
}
