#!/usr/bin/env bash
# tests/cli/test_cdp_gen.sh - black-box tests of the CDP data generator
# (examples/cdp/gen.c, built as $B/cdp-gen): determinism, valid JSON, sizes,
# exact counts, the _bulk format, --update-every and option errors.
# Self-contained: needs bash, jq, sha256sum and awk. B is the build dir
# (default "build").
#
#   B=build tests/cli/test_cdp_gen.sh
set -u

B=${B:-build}
GEN=$B/cdp-gen
pass=0
fail=0

if [ ! -x "$GEN" ]; then
	echo "test_cdp_gen: $GEN not found or not executable (run make)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
command -v jq >/dev/null || { echo "test_cdp_gen: jq is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1${2:+ ($2)}"; }
# expect_eq DESC WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want '$2', got '$3'"; fi
}
# expect_ne DESC A B
expect_ne() {
	if [ "$2" != "$3" ]; then ok "$1"; else not_ok "$1" "both '$2'"; fi
}
sha() { "$GEN" "$@" | sha256sum | cut -d' ' -f1; }
lines() { wc -l <"$1" | tr -d ' '; }

# ---------------------------------------------------------------- determinism
for t in profile event session; do
	a=$(sha --type "$t" --count 5000 --seed 7)
	b=$(sha --type "$t" --count 5000 --seed 7)
	expect_eq "$t: same arguments give the same bytes" "$a" "$b"
	c=$(sha --type "$t" --count 5000 --seed 8)
	expect_ne "$t: another seed gives other bytes" "$a" "$c"
	d=$(sha --type "$t" --count 5000 --seed 7 --tenant acme)
	expect_ne "$t: another tenant gives other bytes" "$a" "$d"
done
a=$(sha --count 3000 --format bulk --index idx --update-every 10 --update-seed 3)
b=$(sha --count 3000 --format bulk --index idx --update-every 10 --update-seed 3)
expect_eq "bulk + update: same arguments give the same bytes" "$a" "$b"
# Default seed is stable: a fixed first id guards against accidental changes
# of the PRNG (that would silently change every benchmark's data).
first=$("$GEN" --count 1 | jq -r .id)
expect_eq "first profile id of the default seed is pinned" \
	"9de73eb7-b61b-4460-82d1-57cee3b963b5" "$first"
"$GEN" --count 1000 >"$tmp/p1k"
"$GEN" --count 2000 | head -n 1000 >"$tmp/p2k"
if cmp -s "$tmp/p1k" "$tmp/p2k"; then ok "document n does not depend on --count"
else not_ok "document n does not depend on --count"; fi
"$GEN" --count 1000 --tenant acme | jq -r .id | sort >"$tmp/ids.acme"
jq -r .id "$tmp/p1k" | sort >"$tmp/ids.default"
expect_eq "tenants share no ids" 0 "$(comm -12 "$tmp/ids.acme" "$tmp/ids.default" | wc -l | tr -d ' ')"

# ------------------------------------------------------------ valid JSON, ids
for t in profile event session; do
	f=$tmp/$t.ndjson
	"$GEN" --type "$t" --count 10000 >"$f"
	if jq -e . "$f" >/dev/null 2>"$tmp/jq.err"; then ok "$t: every line is valid JSON"
	else not_ok "$t: every line is valid JSON" "$(head -c 200 "$tmp/jq.err")"; fi
	expect_eq "$t: one object per line" 10000 \
		"$(jq -c 'select(type == "object")' "$f" | wc -l | tr -d ' ')"
	bad=$(jq -r .id "$f" | grep -cvE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
	expect_eq "$t: every id is a UUID-v4 string" 0 "$bad"
	expect_eq "$t: ids are unique" 10000 "$(jq -r .id "$f" | sort -u | wc -l | tr -d ' ')"
done

# ------------------------------------------------------------------- sizes
avg=$(wc -c <"$tmp/profile.ndjson" | awk '{ printf "%d", $1 / 10000 }')
if [ "$avg" -ge 200 ] && [ "$avg" -le 450 ]; then ok "profile: average size $avg B is in 200..450"
else not_ok "profile: average size in 200..450" "got $avg"; fi
n_str=$(jq -r 'select(.age | type == "string") | .id' "$tmp/profile.ndjson" | wc -l)
n_int=$(jq -r 'select(.age | type == "number") | .id' "$tmp/profile.ndjson" | wc -l)
if [ "$n_str" -gt 500 ] && [ "$n_int" -gt 500 ]; then ok "profile: age is sometimes a string, sometimes a number"
else not_ok "profile: age is sometimes a string, sometimes a number" "$n_str strings, $n_int numbers"; fi
n_leg=$(jq -r 'select(.traits.legacy) | .id' "$tmp/profile.ndjson" | wc -l)
if [ "$n_leg" -gt 500 ]; then ok "profile: some have traits.legacy"
else not_ok "profile: some have traits.legacy" "$n_leg"; fi

# ------------------------------------------------------------------ counts
for t in profile event session; do
	for n in 0 1 7 10000; do
		expect_eq "$t: --count $n gives $n lines" "$n" \
			"$("$GEN" --type "$t" --count "$n" | wc -l | tr -d ' ')"
	done
done
expect_eq "bulk: --count 123 gives 246 lines" 246 \
	"$("$GEN" --count 123 --format bulk | wc -l | tr -d ' ')"

# -------------------------------------------------------------------- bulk
for t in profile event session; do
	f=$tmp/$t.bulk
	"$GEN" --type "$t" --count 5000 --format bulk --index "v0_7_1.acme.$t" >"$f"
	bad=$(jq -n -r --arg idx "v0_7_1.acme.$t" '
		[inputs] as $a
		| range(0; $a | length; 2) as $i
		| select(($a[$i] | keys) != ["index"]
			or ($a[$i].index | keys) != ["_id", "_index"]
			or $a[$i].index._index != $idx
			or ($a[$i + 1] | type) != "object"
			or ($a[$i + 1] | has("index"))
			or $a[$i + 1].id != $a[$i].index._id)
		| $i' "$f" | wc -l | tr -d ' ')
	expect_eq "$t bulk: pairs are well formed, _id equals the doc's id" 0 "$bad"
	"$GEN" --type "$t" --count 5000 >"$tmp/$t.nd5k"
	if sed -n 'n;p' "$f" | cmp -s - "$tmp/$t.nd5k"; then ok "$t bulk: documents equal the NDJSON output"
	else not_ok "$t bulk: documents equal the NDJSON output"; fi
done
expect_eq "bulk: default _index is the type" "session" \
	"$("$GEN" --type session --count 1 --format bulk | head -n 1 | jq -r .index._index)"

# --------------------------------------------------------------- updates
for t in profile event session; do
	base=$tmp/$t.ndjson
	upd=$tmp/$t.upd
	"$GEN" --type "$t" --count 10000 --update-every 100 >"$upd"
	awk 'NR == FNR { a[FNR] = $0; next } a[FNR] != $0 { print FNR }' \
		"$base" "$upd" >"$tmp/changed"
	expect_eq "$t: --update-every 100 changes exactly 1 % of lines" 100 "$(lines "$tmp/changed")"
	expect_eq "$t: the changed lines are every 100th" 0 \
		"$(awk '$1 % 100 != 0' "$tmp/changed" | wc -l | tr -d ' ')"
	if cmp -s <(jq -r .id "$base") <(jq -r .id "$upd"); then ok "$t: updates keep ids and order"
	else not_ok "$t: updates keep ids and order"; fi
	if jq -e . "$upd" >/dev/null 2>&1; then ok "$t: updated output is valid JSON"
	else not_ok "$t: updated output is valid JSON"; fi
done
bad=$(paste -d '\n' "$tmp/profile.ndjson" "$tmp/profile.upd" | sed -n '199,200p;19999,20000p' |
	jq -n -r '[inputs] as $a | range(0; $a | length; 2) as $i
		| select($a[$i + 1].stats.visits != $a[$i].stats.visits + 1
			or $a[$i + 1].metadata.time.update == $a[$i].metadata.time.update)
		| $i' | wc -l | tr -d ' ')
expect_eq "profile update: stats.visits + 1 and a new metadata.time.update" 0 "$bad"
a=$(sha --count 1000 --update-every 10 --update-seed 1)
b=$(sha --count 1000 --update-every 10 --update-seed 2)
expect_ne "another --update-seed changes other values" "$a" "$b"

# ---------------------------------------------------------- references
"$GEN" --type session --count 500 | jq -r .profile.id | sort -u >"$tmp/sess.pids"
jq -r .id "$tmp/p1k" | head -n 500 | sort >"$tmp/p500.ids"
expect_eq "sessions refer to existing profiles" 0 \
	"$(comm -23 "$tmp/sess.pids" "$tmp/p500.ids" | wc -l | tr -d ' ')"
"$GEN" --type session --count 500 | jq -r .id | sort >"$tmp/sess.ids"
"$GEN" --type event --count 3000 --profiles 500 | jq -r .session.id | sort -u >"$tmp/ev.sids"
expect_eq "events refer to existing sessions" 0 \
	"$(comm -23 "$tmp/ev.sids" "$tmp/sess.ids" | wc -l | tr -d ' ')"

# ---------------------------------------------------------- options
"$GEN" --help >"$tmp/help" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q -- '--update-every' "$tmp/help"; then ok "--help prints the usage and exits 0"
else not_ok "--help prints the usage and exits 0" "rc=$rc"; fi
bad_args=(
	"--bogus" "--count" "--count -1" "--count 1x" "--count 99999999999999999999"
	"--type foo" "--format xml" "--tenant Acme" "--tenant -x" "--index x"
	"--format bulk --index BAD" "--update-every 0" "--update-seed 3" "--seed="
	"--profiles 0" "stray"
)
for args in "${bad_args[@]}"; do
	# shellcheck disable=SC2086 # word splitting of the argument list is wanted
	"$GEN" $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 2 ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" = 1 ]; then
		ok "bad option '$args' exits 2 with a one-line error"
	else
		not_ok "bad option '$args' exits 2 with a one-line error" \
			"rc=$rc, stderr: $(head -c 120 "$tmp/err")"
	fi
done
expect_eq "--opt=value is accepted" "$(sha --count 10 --seed 5)" "$(sha --count=10 --seed=5)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
