#!/usr/bin/env bash
# tests/browser/run.sh - the maintenance page in a real browser. Installs
# the test's node dependency (playwright-core, pinned in package-lock.json)
# into tests/browser/node_modules, builds demo data at 0.7.1 with the
# examples/cdp migrations and a snapshot repository, starts a real ferryd
# on 127.0.0.1 with FERRY_RELEASE=0.8.1 (a pending major upgrade), and runs
# test_page.mjs against it in Debian's chromium. Screenshots go to
# $B/browser/*.png. Prints "N passed, N failed".
#
# FERRY_BROWSER=skip skips it (exit 0); otherwise a missing chromium, node
# or npm is a failure: `scripts/deps browser` installs them.
# BROWSER_DOCS sets the profiles and events per tenant (default 40000).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
export B

if [ "${FERRY_BROWSER:-}" = skip ]; then
  echo "tests/browser: skipped because FERRY_BROWSER=skip"
  exit 0
fi

die() {
  echo "tests/browser: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] ||
  die "no browser at $CHROMIUM: install Debian's chromium with 'scripts/deps browser' (as root), or run with FERRY_BROWSER=skip to skip this test"
command -v node >/dev/null && command -v npm >/dev/null ||
  die "node and npm are needed: 'scripts/deps browser' installs them"
command -v curl >/dev/null || die "curl is needed to start the server (apt-get install curl)"
for b in ferry ferryd cdp-gen; do
  [ -x "$B/$b" ] || die "$B/$b is missing: build it first (make $B/ferry $B/ferryd $B/cdp-gen)"
done

# node dependencies, from the lock file, only when missing or stale
want=$(node -p "require('./tests/browser/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./tests/browser/node_modules/playwright-core/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ]; then
  echo "tests/browser: installing playwright-core $want (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) ||
    die "npm ci failed in tests/browser (is the npm registry reachable?)"
fi

# shellcheck source=../server/lib.sh
source tests/server/lib.sh
export FERRY_DATA=$TMP/data
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
export FERRY_RELEASE=0.8.1
unset FERRY_AUTO_UPGRADE
N=${BROWSER_DOCS:-40000}
SHOTS=$ROOT/$B/browser
log=$TMP/setup.log

cleanup() {
  [ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# 0.7.1 with two tenants, as examples/demo.sh builds it, and a repository
# for the snapshot every major upgrade takes first
demo_data() {
  local t
  "$FERRY" init --version 0.7.1 && "$FERRY" tenant add acme || return 1
  for t in default acme; do
    "$GEN" --type profile --count "$N" --tenant "$t" >"$TMP/p.ndjson" &&
    "$GEN" --type event --count "$N" --tenant "$t" --profiles "$N" >"$TMP/e.ndjson" &&
    "$GEN" --type session --count $((N / 2)) --tenant "$t" --profiles "$N" >"$TMP/s.ndjson" &&
    "$FERRY" import "$t.profile" "$TMP/p.ndjson" --quiet &&
    "$FERRY" import "$t.event" "$TMP/e.ndjson" --quiet &&
    "$FERRY" import "$t.session" "$TMP/s.ndjson" --quiet || return 1
  done
  rm -f "$TMP"/*.ndjson && mkdir -p "$TMP/backups" &&
  "$FERRY" snapshot repo add backups "$TMP/backups"
}
echo "tests/browser: demo data ($N profiles and events per tenant) in $TMP"
demo_data >"$log" 2>&1 || { cat "$log" >&2; die "could not build the demo data"; }

srv_start || { tail -20 "$TMP/ferryd.log" >&2; die "ferryd did not start"; }
echo "tests/browser: ferryd on $URL (pid $SRV_PID), chromium $CHROMIUM"
rm -f "$SHOTS"/*.png

FERRY_URL=$URL FERRY_BIN=$FERRY SHOTS=$SHOTS CHROMIUM=$CHROMIUM node tests/browser/test_page.mjs
rc=$?
srv_stop
if [ "$rc" -ne 0 ]; then
  echo "--- ferryd log (last 30 lines)"
  tail -30 "$TMP/ferryd.log"
fi
exit "$rc"
