# tests/server/lib.sh - helpers for black-box tests of a real ferryd on
# 127.0.0.1. Source it after setting any FERRY_* you need; it brings the
# CLI helpers (check, expect_fail, same, has, finish, $FERRY, $TMP).
#
#   srv_start            start ferryd on a free port; sets $URL, $SRV_PID
#   srv_stop [SIG]       stop it (default TERM) and wait; $SRV_RC = exit code
#   req METHOD PATH [BODY [curl args...]]
#                        sets $code (HTTP status) and $body (response);
#                        BODY "" sends none
#   areq ...             the same with the admin key
#   jget JSON FILTER     jq -r FILTER on JSON
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
FERRYD=$ROOT/$B/ferryd
export FERRY_ADMIN_KEY=${FERRY_ADMIN_KEY-test-admin-key-0123456789}
export FERRY_ACCESS_LOG=${FERRY_ACCESS_LOG-$TMP/access.log}
SRV_PID="" URL="" SRV_RC=""

# free_port: a random port below the kernel's ephemeral range, so no client
# socket (curl's, ferryd's own) can be holding it as its source port; a
# server restarted on the same port then finds it free. (A CI run once lost
# a restart on port 35592 to exactly that.)
free_port() {
  local lo
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  [ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
  echo $((10000 + RANDOM % (lo - 10000)))
}

srv_start() {
  local i port
  for i in $(seq 1 30); do
    port=$(free_port)
    FERRY_LISTEN=127.0.0.1:$port "$FERRYD" >>"$TMP/ferryd.out" 2>>"$TMP/ferryd.log" &
    SRV_PID=$!
    URL=http://127.0.0.1:$port
    local t
    for t in $(seq 1 100); do
      if curl -s -o /dev/null "$URL/" 2>/dev/null; then return 0; fi
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$SRV_PID" 2>/dev/null; then
      echo "ferryd started but does not answer on $URL" >&2; return 1
    fi
    wait "$SRV_PID" 2>/dev/null
    grep -q "cannot listen" "$TMP/ferryd.log" || { tail -5 "$TMP/ferryd.log" >&2; return 1; }
  done
  echo "no free port found" >&2
  return 1
}

srv_stop() {
  local sig=${1:-TERM}
  [ -n "$SRV_PID" ] || return 0
  kill -"$sig" "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
  SRV_RC=$?
  SRV_PID=""
  # every clean stop is checked: exit 0 and no sanitizer report (SAN=1)
  if [ "$sig" = TERM ] && [ "$SRV_RC" -ne 0 ]; then
    bad "ferryd exits 0 on SIGTERM" "exit $SRV_RC; log: $(tail -5 "$TMP/ferryd.log")"
  fi
  if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP/ferryd.log" 2>/dev/null; then
    bad "no sanitizer report from ferryd" "$(grep -m3 -E "Sanitizer|runtime error" "$TMP/ferryd.log")"
    : > "$TMP/ferryd.log"
  fi
}

req() {
  local m=$1 p=$2; shift 2
  local data=()
  if [ $# -gt 0 ]; then [ -n "$1" ] && data=(--data-binary "$1"); shift; fi
  body=$(curl -s -X "$m" -H 'Content-Type: application/json' "${data[@]}" \
    -w '\n%{http_code}' "$@" "$URL$p")
  code=${body##*$'\n'}
  body=${body%$'\n'*}
}

areq() {
  local m=$1 p=$2 d=${3-}; shift 2; [ $# -gt 0 ] && shift
  req "$m" "$p" "$d" -H "Authorization: Bearer $FERRY_ADMIN_KEY" "$@"
}

jget() { printf '%s' "$1" | jq -r "$2" 2>/dev/null; }

# Stop a server left running when a suite exits early.
trap '[ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null' EXIT
