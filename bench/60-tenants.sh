#!/usr/bin/env bash
# bench/60-tenants.sh - upgrading many small tenants against one big one,
# with the same data in total (issue 6): BENCH_DOCS cdp-gen profiles in
#   - one tenant ("default", the cached bench_profiles file), and
#   - BENCH_TENANTS tenants (default 100: t000 .. t099) of
#     BENCH_DOCS / BENCH_TENANTS profiles each, generated with
#     --tenant tNNN so every tenant's ids and content differ;
# both data dirs at 0.7.1 with empty event and session indices beside each
# profile index (the second hop renames one and drops the other, and
# creates consent: four items per tenant). Each is upgraded with
# `ferry upgrade run --to 0.8.1` through the three hops of
# examples/cdp/migrations (Lua included), timed from a flushed copy of its
# base (ferry's default fsync per batch; the imports that set the bases up
# ran with FERRY_SYNC=off). The two alternate, max(BENCH_REPEAT, 3) times
# each (a ratio of two times on a shared machine needs more than one
# sample), and the medians are compared.
# Reported: both wall times and rates, their CPU times (user + sys, which
# other jobs on the machine disturb much less), and the ratios many/one.
# Target: the wall-time ratio <= 1.2 (one plan for every tenant, copies of
# several tenants at once, small items sharing pages and transactions).
#
#   BENCH_DOCS=100000 bench/60-tenants.sh     (normally run by bench/run)
#   BENCH_TENANTS=1000 ...                    more, smaller tenants
#   BENCH_KEEP=1 ...                          keep the data dirs
#
# Exit status 1 if a command failed, a count or an alias is wrong or ferry
# is not built; a missed target is reported, not failed.
# The *_once steps are called through bench_repeat:
# shellcheck disable=SC2317
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=$BENCH_DOCS
NT=${BENCH_TENANTS:-100}
FERRY=$B/ferry
GEN=$B/cdp-gen
MIG=examples/cdp/migrations
ONE=$BENCH_DIR/data-tenants-one
MANY=$BENCH_DIR/data-tenants-many
WORK=$BENCH_DIR/data-tenants-run
status=0

[ -x "$FERRY" ] || bench_die "$FERRY is not built (run make)"
[ -x "$GEN" ] || bench_die "$GEN is not built (run make)"
[ -f "$MIG/0.8.0_to_0.8.1.json" ] || bench_die "$MIG is missing"
if ! [[ $NT =~ ^[1-9][0-9]*$ ]] || [ "$NT" -gt 10000 ]; then
	bench_die "BENCH_TENANTS must be 1 to 10000, not '$NT'"
fi
PER=$((N / NT))
[ "$PER" -gt 0 ] || bench_die "BENCH_DOCS ($N) must be at least BENCH_TENANTS ($NT)"
NM=$((PER * NT)) # documents in the many-tenant set (N unless N % NT)
# 3 indices per tenant now and 3 after (default gets consent too): room
# for BENCH_TENANTS in the thousands
BUDGET=$((NT * 6 + 100))
[ "$BUDGET" -lt 1000 ] && BUDGET=1000

fail() {
	echo "$BENCH_STAGE: $1 failed (exit ${BENCH_RC:-?}); see $2" >&2
	tail -n 5 "$2" >&2
	status=1
}

tname() { printf 't%03d' "$1"; }

# ------------------------------------------------------------------ bases
# one_base LOG: default.profile holds the N cached profiles.
one_base() {
	local log=$1 f
	f=$(bench_profiles "$N") || return 1
	rm -rf "$ONE"
	{ FERRY_DATA=$ONE "$FERRY" init --version 0.7.1 &&
		FERRY_DATA=$ONE "$FERRY" index create event &&
		FERRY_DATA=$ONE "$FERRY" index create session &&
		FERRY_DATA=$ONE FERRY_SYNC=off "$FERRY" import profile "$f" --quiet; } \
		>>"$log" 2>&1
}

# many_base LOG: NT tenants; the first gets profile, event and session,
# every later one the same set from `ferry tenant add` (it copies the
# index set the others have), then its PER profiles.
many_base() {
	local log=$1 i t
	rm -rf "$MANY"
	{ FERRY_DATA=$MANY "$FERRY" init --version 0.7.1 &&
		FERRY_DATA=$MANY "$FERRY" tenant add "$(tname 0)" &&
		for ix in profile event session; do
			FERRY_DATA=$MANY "$FERRY" index create "$(tname 0).$ix" || return 1
		done; } >>"$log" 2>&1 || return 1
	for ((i = 0; i < NT; i++)); do
		t=$(tname "$i")
		if [ "$i" -gt 0 ]; then
			FERRY_DATA=$MANY "$FERRY" tenant add "$t" >>"$log" 2>&1 || return 1
		fi
		"$GEN" --type profile --count "$PER" --tenant "$t" |
			FERRY_DATA=$MANY FERRY_SYNC=off "$FERRY" import "$t.profile" - \
				--quiet >>"$log" 2>&1 || return 1
	done
}

# docs_of DIR PATTERN: documents over the indices matching PATTERN.
docs_of() {
	FERRY_DATA=$1 "$FERRY" index list "$2" --json 2>/dev/null |
		grep -o '"docs":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'
}

# moved DIR: profile aliases that point at a v0_8_1 index.
moved() {
	FERRY_DATA=$1 "$FERRY" index list 'v0_8_1.*.profile' 2>/dev/null |
		awk 'NR > 1 && $2 ~ /\.profile$/ { n++ } END { print n + 0 }'
}

# ------------------------------------------------------------------ the upgrade
# upgrade_once BASE LOG: a flushed copy of BASE (not timed), then one
# timed `ferry upgrade run --to 0.8.1`. Sets BENCH_SECS, BENCH_RC,
# BENCH_RSS_KB and CPU_SECS (user + sys, "" without /usr/bin/time).
upgrade_once() {
	local base=$1 log=$2 tf=$BENCH_DIR/.time.$$ t0 m u sy
	rm -rf "$WORK"
	CPU_SECS="" BENCH_RSS_KB=""
	if ! cp -r "$base" "$WORK" 2>>"$log" || ! sync "$WORK"/*.mdb 2>>"$log"; then
		BENCH_RC=1 BENCH_SECS=0
		return 1
	fi
	t0=$(bench_now)
	if [ -x /usr/bin/time ]; then
		env FERRY_DATA="$WORK" FERRY_MIGRATIONS="$MIG" /usr/bin/time \
			-f '%M %U %S' -o "$tf" "$FERRY" upgrade run --to 0.8.1 \
			--index-budget "$BUDGET" --quiet >>"$log" 2>&1
		BENCH_RC=$?
		read -r m u sy < <(tail -n 1 "$tf" 2>/dev/null)
		rm -f "$tf"
		[[ $m =~ ^[0-9]+$ ]] && BENCH_RSS_KB=$m
		[ -n "${sy:-}" ] && CPU_SECS=$(awk -v a="$u" -v b="$sy" 'BEGIN { printf "%.2f", a + b }')
	else
		env FERRY_DATA="$WORK" FERRY_MIGRATIONS="$MIG" "$FERRY" \
			upgrade run --to 0.8.1 --index-budget "$BUDGET" --quiet \
			>>"$log" 2>&1
		BENCH_RC=$?
	fi
	BENCH_SECS=$(bench_secs "$t0" "$(bench_now)")
	return "$BENCH_RC"
}

# check WANT_DOCS WANT_ALIASES LABEL: the upgraded copy in $WORK.
check() {
	local d a
	d=$(docs_of "$WORK" 'v0_8_1.*.profile') a=$(moved "$WORK")
	if [ "$d" != "$1" ] || [ "$a" != "$2" ]; then
		echo "$BENCH_STAGE: $3: after the upgrade $d profiles under $a" \
			"moved aliases, not $1 under $2" >&2
		status=1
	fi
}

log=$BENCH_DIR/tenants-setup.log
: >"$log"
echo "$BENCH_STAGE: 1 tenant x $N profiles against $NT tenants x $PER"
t0=$(bench_now)
one_base "$log" || { BENCH_RC=1; fail "setting up 1 x $N (init, import)" "$log"; }
many_base "$log" || { BENCH_RC=1; fail "setting up $NT x $PER (tenants, imports)" "$log"; }
echo "$BENCH_STAGE: bases ready in $(bench_secs "$t0" "$(bench_now)" | cut -d. -f1) s"
[ "$status" = 0 ] || exit 1
[ "$(docs_of "$ONE" '*')" = "$N" ] || { echo "$BENCH_STAGE: one base holds" \
	"$(docs_of "$ONE" '*') documents, not $N" >&2; exit 1; }
[ "$(docs_of "$MANY" '*')" = "$NM" ] || { echo "$BENCH_STAGE: many base holds" \
	"$(docs_of "$MANY" '*') documents, not $NM" >&2; exit 1; }
b1=$(du -sb "$ONE" | cut -f1) b2=$(du -sb "$MANY" | cut -f1)

# alternate the two so that a busy moment hurts both alike
ulog=$BENCH_DIR/tenants-upgrade.log
: >"$ulog"
REPS=$((BENCH_REPEAT > 3 ? BENCH_REPEAT : 3))
one_t=() many_t=() one_c=() many_c=() one_rss=0 many_rss=0
for ((r = 0; r < REPS; r++)); do
	if upgrade_once "$ONE" "$ulog"; then
		one_t+=("$BENCH_SECS")
		[ -n "$CPU_SECS" ] && one_c+=("$CPU_SECS")
		[ "${BENCH_RSS_KB:-0}" -gt "$one_rss" ] && one_rss=$BENCH_RSS_KB
		check "$N" 1 "1 tenant"
		bench_result upgrade-1-tenant "$N" "$BENCH_SECS" "$BENCH_RSS_KB" \
			tenants=1 "cpu_secs=${CPU_SECS:-na}" to=0.8.1 sync=on
	else
		fail "ferry upgrade run (1 tenant)" "$ulog"
	fi
	if upgrade_once "$MANY" "$ulog"; then
		many_t+=("$BENCH_SECS")
		[ -n "$CPU_SECS" ] && many_c+=("$CPU_SECS")
		[ "${BENCH_RSS_KB:-0}" -gt "$many_rss" ] && many_rss=$BENCH_RSS_KB
		check "$NM" "$NT" "$NT tenants"
		bench_result "upgrade-$NT-tenants" "$NM" "$BENCH_SECS" "$BENCH_RSS_KB" \
			"tenants=$NT" "cpu_secs=${CPU_SECS:-na}" to=0.8.1 sync=on
	else
		fail "ferry upgrade run ($NT tenants)" "$ulog"
	fi
done
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$ONE" "$MANY" "$WORK"

median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.6f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
s1="" s2="" c1="" c2="" ratio="" cratio=""
[ ${#one_t[@]} -gt 0 ] && s1=$(median "${one_t[@]}")
[ ${#many_t[@]} -gt 0 ] && s2=$(median "${many_t[@]}")
[ ${#one_c[@]} -gt 0 ] && c1=$(printf '%.2f' "$(median "${one_c[@]}")")
[ ${#many_c[@]} -gt 0 ] && c2=$(printf '%.2f' "$(median "${many_c[@]}")")
if [ -n "$s1" ] && [ -n "$s2" ]; then
	ratio=$(awk -v a="$s2" -v b="$s1" 'BEGIN { printf "%.3f", a / b }')
	[ -n "$c1" ] && [ -n "$c2" ] &&
		cratio=$(awk -v a="$c2" -v b="$c1" 'BEGIN { printf "%.3f", a / b }')
	bench_result tenants-ratio "$N" "$s2" "" "ratio=$ratio" \
		"cpu_ratio=${cratio:-na}" "tenants=$NT" "one_secs=$s1" "runs=$REPS"
fi

# ------------------------------------------------------------------ report
bench_summary "$BENCH_STAGE: upgrade 0.7.1 -> 0.8.1 (3 hops, Lua), 1 x $N profiles" \
	"against $NT tenants x $PER ($((b1 / 1048576)) MiB and $((b2 / 1048576)) MiB of" \
	"data dir), medians of $REPS alternating runs, fsync per batch"
bench_row_header
bench_row "upgrade, 1 tenant x $N" "$(bench_rate "$N" "${s1:-0}")" "$one_rss" \
	"${s1:+$(printf '%.2f s' "$s1")}${c1:+, cpu $c1 s}"
bench_row "upgrade, $NT tenants x $PER" "$(bench_rate "$NM" "${s2:-0}")" "$many_rss" \
	"${s2:+$(printf '%.2f s' "$s2")}${c2:+, cpu $c2 s}"
[ -n "$cratio" ] && bench_summary "  cpu time (user + sys) many/one: ${cratio}x"
if [ -z "$ratio" ]; then v="not measured"
elif awk -v r="$ratio" 'BEGIN { exit !(r <= 1.2) }'; then v="met (${ratio}x)"
else v="missed (${ratio}x)"; fi
bench_summary "  target: $NT tenants x $PER take <= 1.2x the time of 1 x $N: $v"
exit "$status"
