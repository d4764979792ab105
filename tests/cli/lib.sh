# tests/cli/lib.sh - helpers for black-box tests of the `ferry` binary.
# Source it; call `check NAME CMD...` / `expect_fail CODE NAME CMD...`;
# end with `finish`, which prints "N passed, N failed". Suites that
# generate data start with `data_suite` (below).
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FERRY=$ROOT/$B/ferry
GEN=$ROOT/$B/cdp-gen
TMP=$(mktemp -d "${FERRY_TEST_TMP:-/tmp}/cli.XXXXXX")
export FERRY_DATA=$TMP/data
_pass=0 _fail=0

ok()   { _pass=$((_pass + 1)); echo "ok   - $1"; }
bad()  { _fail=$((_fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && echo "       $2"; }
# check NAME CMD... : CMD must exit 0
check() { local n=$1; shift; if out=$("$@" 2>&1); then ok "$n"; else bad "$n" "exit $?: $out"; fi; }
# expect_fail CODE NAME CMD... : CMD must exit CODE; its stderr is in $err
expect_fail() {
  local code=$1 n=$2; shift 2
  err=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ "$rc" -eq "$code" ]; then ok "$n"; else bad "$n" "wanted exit $code, got $rc: $err"; fi
}
# same NAME A B : strings equal
same() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got '$2', wanted '$3'"; fi; }
# has NAME HAYSTACK NEEDLE
has() { case "$2" in *"$3"*) ok "$1" ;; *) bad "$1" "'$3' not in: $2" ;; esac; }
finish() {
  rm -rf "$TMP"
  echo "$_pass passed, $_fail failed"
  [ "$_fail" -eq 0 ]
}

# data_suite: the start of a suite that generates data and runs ferry
# in the background: needs jq, the built ferry and cdp-gen; C collation;
# on exit kills $bg (the background job left running, if any) and
# removes $TMP.
data_suite() {
  command -v jq >/dev/null || { echo "needs jq"; exit 1; }
  [ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "no $FERRY or $GEN: run make"; exit 1; }
  export LC_ALL=C
  bg=""
  trap '[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$TMP"' EXIT
}
