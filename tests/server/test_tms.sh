#!/usr/bin/env bash
# test_tms.sh - multi-tenant mode against real servers (issue 6 §1,
# docs/tenants.md): a real tenant manager (`ferryd --tms`) and a real
# MULTI_TENANT=yes ferryd following it over HTTP. Start-up errors for
# missing settings; the TMS's routes, auth and key issuing (keys at rest
# only as hashes); a tenant created in the TMS appears in the consumer
# with its index set and a working key; the TMS killed (the consumer keeps
# serving, says so once in its log and in /info/version, and survives its
# own restart during the outage); the TMS back (recovery logged); a tenant
# deleted in the TMS keeps its data in the consumer (its key goes with the
# mirror); garbage and a wrong API key from the TMS's side.
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.1.0 FERRY_TMS_REFRESH=1
TKEY=tms-api-key-0123456789abcdef # the TMS's admin key = its clients' API key
TMS_PID="" X_PID=""
trap 'kill -9 $SRV_PID $TMS_PID $X_PID 2>/dev/null' EXIT

# boot LOG PORT ARGS... : starts ferryd with the caller's environment on
# PORT (0: any free one); sets BOOT_PID and BOOT_URL.
boot() {
  local log=$1 port=$2 p try t; shift 2
  for try in $(seq 1 20); do
    if [ "$port" = 0 ]; then p=$(free_port); else p=$port; fi
    FERRY_LISTEN=127.0.0.1:$p "$FERRYD" "$@" >/dev/null 2>>"$log" &
    BOOT_PID=$! BOOT_URL=http://127.0.0.1:$p
    for t in $(seq 1 100); do
      curl -s -o /dev/null "$BOOT_URL/" && return 0
      kill -0 "$BOOT_PID" 2>/dev/null || break
      sleep 0.05
    done
    wait "$BOOT_PID" 2>/dev/null
    grep -q "cannot listen" "$log" || return 1
    [ "$port" = 0 ] || sleep 0.5 # a fixed port: give the kernel a moment
  done
  return 1
}
tms_start() { # $1: port (0 the first time)
  FERRY_DATA=$TMP/tms FERRY_ADMIN_KEY=$TKEY boot "$TMP/tms.log" "$1" --tms || return 1
  TMS_PID=$BOOT_PID TMS=$BOOT_URL TMS_PORT=${BOOT_URL##*:}
}
# treq METHOD PATH [BODY]: a request to the TMS with its key
treq() { local u=$URL; URL=$TMS; req "$1" "$2" "${3-}" -H "Authorization: Bearer $TKEY"; URL=$u; }
# until_ok SECONDS CMD...: polls CMD every 0.2 s; 0 once it succeeds
until_ok() {
  local n=$(( $1 * 5 )) i; shift
  for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
tm() { areq GET /info/version; jget "$body" ".tenant_manager.$1"; }
tm_is() { [ "$(tm "$2")" = "$1" ]; }
tenants_here() { "$FERRY" tenant list | paste -sd, -; }
has_tenant() { "$FERRY" tenant list | grep -qx "$1"; }
key_here() { "$FERRY" tenant key list --json | jq -e --arg h "$1" 'any(.sha256 == $h)' >/dev/null; }
key_gone() { ! key_here "$1"; }
consumer() { MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=$TMS MULTI_TENANT_MANAGER_API_KEY=$TKEY srv_start; }

# --- start-up errors ---------------------------------------------------
MULTI_TENANT=yes "$FERRYD" >/dev/null 2>"$TMP/e1.log"
same "MULTI_TENANT=yes alone: exit 1" "$?" 1
has "  names both settings" "$(cat "$TMP/e1.log")" \
  "MULTI_TENANT=yes needs MULTI_TENANT_MANAGER_URL and MULTI_TENANT_MANAGER_API_KEY"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=http://127.0.0.1:1 "$FERRYD" >/dev/null 2>"$TMP/e2.log"
same "no API key: exit 1" "$?" 1
has "  names it" "$(cat "$TMP/e2.log")" "needs MULTI_TENANT_MANAGER_API_KEY:"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_API_KEY=k "$FERRYD" >/dev/null 2>"$TMP/e3.log"
same "no URL: exit 1" "$?" 1
has "  names it" "$(cat "$TMP/e3.log")" "needs MULTI_TENANT_MANAGER_URL:"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=tms:9200 MULTI_TENANT_MANAGER_API_KEY=k \
  "$FERRYD" >/dev/null 2>"$TMP/e4.log"
same "URL without a scheme: exit 1" "$?" 1
has "  says so" "$(cat "$TMP/e4.log")" "must start with http:// or https://"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=http://x MULTI_TENANT_MANAGER_API_KEY=k \
  FERRY_TMS_REFRESH=0 "$FERRYD" >/dev/null 2>"$TMP/e5.log"
same "FERRY_TMS_REFRESH=0: exit 1" "$?" 1
FERRY_ADMIN_KEY= "$FERRYD" --tms >/dev/null 2>"$TMP/e6.log"
same "--tms without FERRY_ADMIN_KEY: exit 1" "$?" 1
has "  says why" "$(cat "$TMP/e6.log")" "--tms needs FERRY_ADMIN_KEY"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=http://x MULTI_TENANT_MANAGER_API_KEY=k \
  "$FERRYD" --tms >/dev/null 2>"$TMP/e7.log"
same "--tms with MULTI_TENANT=yes: exit 1" "$?" 1
[ ! -e "$FERRY_DATA" ]; same "  no data dir was made by a refused start" "$?" 0

# --- the tenant manager ------------------------------------------------
tms_start 0 || { bad "ferryd --tms starts"; finish; exit 1; }
ok "ferryd --tms starts"
URL_SAVE=$URL; URL=$TMS; req GET /; URL=$URL_SAVE
same "TMS: GET / without its key -> 401" "$code" 401
treq GET /
same "TMS: GET / -> 200, mode tms" "$code $(jget "$body" .mode)" "200 tms"
treq GET /_cat/indices
same "TMS: other routes -> 400" "$code" 400
has "  not served in --tms mode" "$(jget "$body" .error.reason)" "not served in --tms mode"
treq PUT /profile '{}'
same "TMS: no document API (PUT index -> 400)" "$code" 400
treq PUT /tenants '{}'
same "TMS: PUT /tenants -> 405" "$code" 405
allow() { curl -s -o /dev/null -D - -X "$1" -H "Authorization: Bearer $TKEY" "$TMS$2" | tr -d '\r' | sed -n 's/^[Aa]llow: //p'; }
same "  Allow: GET, HEAD, POST" "$(allow PUT /tenants)" "GET, HEAD, POST"
same "TMS: GET /tenants/x -> 405 Allow: DELETE" "$(allow GET /tenants/x)" "DELETE"
treq POST /tenants '{"name":"acme"}'
same "TMS: POST /tenants -> 201" "$code" 201
ACME_KEY=$(jget "$body" .key)
[[ $ACME_KEY =~ ^fk_[0-9a-f]{40}$ ]]; same "  the key is fk_ + 40 hex" "$?" 0
same "  its sha256" "$(jget "$body" .sha256)" "$(sha "$ACME_KEY")"
treq POST /tenants '{"name":"acme"}'
same "TMS: the same tenant again -> 400" "$code/$(jget "$body" .error.type)" 400/resource_already_exists_exception
treq POST /tenants '{"name":"Bad Name"}'
same "TMS: a bad name -> 400" "$code" 400
treq GET /tenants
same "TMS: GET /tenants lists tenants" "$(jget "$body" '[.tenants[].name] | join(",")')" "acme,default"
same "  with created_ms" "$(jget "$body" '.tenants[0].created_ms > 0')" true
same "  and the key by hash, scoped to acme" \
  "$(jget "$body" '.keys[] | "\(.sha256) \(.tenants | join(","))"')" "$(sha "$ACME_KEY") acme"
same "  and generated_ms" "$(jget "$body" '.generated_ms > 0')" true
case "$body" in *"${ACME_KEY#fk_}"*) bad "  the key itself is never listed" ;; *) ok "  the key itself is never listed" ;; esac
if grep -qa "${ACME_KEY#fk_}" "$TMP/tms/data.mdb"; then bad "TMS: only the hash is stored"
else ok "TMS: only the hash is stored (the data file lacks the key)"; fi

# --- a MULTI_TENANT ferryd following it --------------------------------
check "consumer data: init" "$FERRY" init
check "consumer data: profile index" "$FERRY" index create profile
check "consumer data: event index" "$FERRY" index create event
check "consumer data: a default doc" "$FERRY" doc put profile d1 --body '{"n":1}'
consumer || { bad "the MULTI_TENANT ferryd starts"; finish; exit 1; }
ok "the MULTI_TENANT ferryd starts"
if until_ok 10 has_tenant acme; then ok "the TMS's tenant appears in the consumer"
else bad "the TMS's tenant appears in the consumer" "$(tenants_here); $(tail -3 "$TMP/ferryd.log")"; fi
same "  with its index set" \
  "$("$FERRY" index list 'v0_1_0.acme.*' --json | jq -r '[.[].index] | join(",")')" \
  "v0_1_0.acme.event,v0_1_0.acme.profile"
until_ok 5 key_here "$(sha "$ACME_KEY")"; same "  its key is mirrored (source tms)" \
  "$("$FERRY" tenant key list --json | jq -r '.[] | "\(.tenants[0]) \(.source)"')" "acme tms"
until_ok 5 tm_is true ok
areq GET /info/version
same "/info/version: multi_tenant, manager ok" "$(jget "$body" '[.multi_tenant, .tenant_manager.ok, .tenant_manager.error] | map(tostring) | join(" ")')" "true true null"
same "  url, tenants listed" "$(jget "$body" '"\(.tenant_manager.url) \(.tenant_manager.listed)"')" "$TMS 2"
has "the log names the manager" "$(cat "$TMP/ferryd.log")" "following the tenant manager at $TMS"
has "  and the added tenant" "$(cat "$TMP/ferryd.log")" "added tenant acme"

# acme's key reaches acme's data (isolation, issue 6 §2)
AK=(-H "Authorization: Bearer $ACME_KEY")
req PUT /profile/_doc/a1 '{"who":"acme"}' "${AK[@]}"
same "acme's key writes acme.profile" "$code $(jget "$body" ._index)" "201 v0_1_0.acme.profile"
req GET /profile/_doc/d1 "" "${AK[@]}"
same "  and does not see default's doc" "$code" 404
req GET /default.profile/_doc/d1 "" "${AK[@]}"
same "  nor reach default's index" "$code" 403
req GET /profile/_count "" -H "Authorization: Bearer fk_0000000000000000000000000000000000000000"
same "an unknown key -> 401" "$code" 401
req GET /profile/_count ""
same "no key on a MULTI_TENANT server -> 401" "$code" 401

# a tenant created while the consumer runs
treq POST /tenants '{"name":"beta"}'
BETA_KEY=$(jget "$body" .key)
if until_ok 8 has_tenant beta; then ok "a tenant added later appears too"
else bad "a tenant added later appears too" "$(tenants_here)"; fi
until_ok 5 key_here "$(sha "$BETA_KEY")"; same "  with its key" "$?" 0

# --- outage ------------------------------------------------------------
kill -9 "$TMS_PID"; wait "$TMS_PID" 2>/dev/null; TMS_PID=""
until_ok 6 tm_is false ok
same "TMS down: /info/version says ok:false" "$(tm ok)" false
areq GET /info/version
has "  with the reason" "$(jget "$body" .tenant_manager.error)" "cannot reach it"
same "  last_ok_ms kept" "$(jget "$body" '.tenant_manager.last_ok_ms > 0')" true
sleep 2.5 # a few more failed refreshes
same "the outage is logged once" "$(grep -c "cannot reach it" "$TMP/ferryd.log")" 1
has "  saying the last list is served" "$(grep "cannot reach it" "$TMP/ferryd.log")" "serving the last known"
req GET /profile/_doc/a1 "" "${AK[@]}"
same "the consumer keeps serving acme" "$code $(jget "$body" ._source.who)" "200 acme"
same "  and keeps every tenant" "$(tenants_here)" "acme,beta,default"
srv_stop
consumer || bad "the consumer restarts while the TMS is down"
until_ok 5 tm_is false ok
same "  after the restart: ok:false" "$(tm ok)" false
req GET /profile/_doc/a1 "" "${AK[@]}"
same "  acme's key still works (the mirror is in the catalog)" "$code" 200
same "  every tenant still there" "$(tenants_here)" "acme,beta,default"

# --- recovery ----------------------------------------------------------
tms_start "$TMS_PORT" || bad "the TMS restarts on its port" "$(tail -3 "$TMP/tms.log")"
if until_ok 8 tm_is true ok; then ok "TMS back: ok:true again"
else bad "TMS back: ok:true again" "$(tm error)"; fi
has "  the recovery is logged" "$(cat "$TMP/ferryd.log")" "tenant manager is back at $TMS"

# --- a tenant deleted in the TMS ---------------------------------------
treq DELETE /tenants/acme
same "TMS: DELETE /tenants/acme -> 200" "$code $(jget "$body" .keys_revoked)" "200 1"
treq GET /tenants
same "  gone from the TMS" "$(jget "$body" '[.tenants[].name] | join(",")')" "beta,default"
if until_ok 6 key_gone "$(sha "$ACME_KEY")"; then ok "consumer: acme's key goes with the mirror"
else bad "consumer: acme's key goes with the mirror"; fi
same "  but tenant acme stays" "$(tenants_here)" "acme,beta,default"
areq GET /acme.profile/_doc/a1
same "  and so does its data" "$code $(jget "$body" ._source.who)" "200 acme"
has "  the log says so" "$(cat "$TMP/ferryd.log")" "tenant acme is no longer listed by the tenant manager; its data stays"
req GET /profile/_doc/a1 "" "${AK[@]}"
same "  the revoked key -> 401" "$code" 401
treq DELETE /tenants/acme
same "TMS: deleting it again -> 404" "$code" 404
treq DELETE /tenants/default
same "TMS: default cannot go -> 403" "$code" 403
# a tenant whose indices hold documents needs ?force=true
treq POST /tenants '{"name":"gamma"}'
FERRY_DATA=$TMP/tms "$FERRY" index create gamma.notes >/dev/null
FERRY_DATA=$TMP/tms "$FERRY" doc put gamma.notes n1 --body '{"x":1}' >/dev/null
treq DELETE /tenants/gamma
same "TMS: a tenant with documents -> 403" "$code" 403
has "  says --force" "$(jget "$body" .error.reason)" "force"
treq DELETE "/tenants/gamma?force=true"
same "  ?force=true removes it" "$code" 200
srv_stop

# --- garbage and a wrong key -------------------------------------------
# a plain ferryd is no tenant manager: its GET /tenants has no keys
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=$TMS MULTI_TENANT_MANAGER_API_KEY=wrong-key-0123456789 \
  FERRY_DATA=$TMP/x boot "$TMP/x.log" 0 || bad "a consumer with a wrong key starts"
X_PID=$BOOT_PID
xtm() { local u=$URL; URL=$BOOT_URL; tm "$1"; URL=$u; }
xtm_has() { case "$(xtm error)" in *"$1"*) return 0 ;; esac; return 1; }
until_ok 5 xtm_has "HTTP 401"; has "wrong API key: the error says 401" "$(xtm error)" "answered HTTP 401"
has "  and what to check" "$(xtm error)" "check MULTI_TENANT_MANAGER_API_KEY"
kill "$X_PID"; wait "$X_PID" 2>/dev/null
srv_start || bad "a plain ferryd starts"
PLAIN=$URL
# the same /tenants handlers on a plain ferryd: keys on request
areq GET /tenants
same "plain ferryd: GET /tenants keeps its shape" "$(jget "$body" 'keys | join(",")')" "tenants"
areq POST /tenants '{"name":"delta","key":"yes"}'
same "  POST with a non-boolean key -> 400" "$code" 400
areq POST /tenants '{"name":"delta"}'
same "  POST without key: no key" "$code $(jget "$body" .key)" "201 null"
areq POST /tenants '{"name":"omega","key":true}'
OMEGA_KEY=$(jget "$body" .key)
same "  POST with key:true -> a key" "$code $(jget "$body" .sha256)" "201 $(sha "$OMEGA_KEY")"
areq GET "/tenants?keys=true"
same "  GET ?keys=true lists it" "$(jget "$body" '.keys[] | select(.tenants == ["omega"]) | .sha256')" "$(sha "$OMEGA_KEY")"
req PUT /profile/_doc/o1 '{"who":"omega"}' -H "Authorization: Bearer $OMEGA_KEY"
same "  the key writes omega's index" "$code $(jget "$body" ._index)" "201 v0_1_0.omega.profile"
areq DELETE /tenants/omega
same "  DELETE /tenants/omega with a document -> 403" "$code" 403
areq DELETE "/tenants/omega?force=true"
same "  ?force=true -> 200, its key revoked" "$code $(jget "$body" .keys_revoked)" "200 1"
req GET /profile/_doc/o1 "" -H "Authorization: Bearer $OMEGA_KEY"
same "  the key is refused now" "$code" 401
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=$PLAIN MULTI_TENANT_MANAGER_API_KEY=$FERRY_ADMIN_KEY \
  FERRY_DATA=$TMP/x boot "$TMP/x.log" 0 || bad "a consumer of a plain ferryd starts"
X_PID=$BOOT_PID
until_ok 5 xtm_has "not a tenant list"; has "garbage: the error says so" "$(xtm error)" "not a tenant list"
same "  ok:false" "$(xtm ok)" false
kill "$X_PID"; wait "$X_PID"; same "  it stops cleanly" "$?" 0
srv_stop
# a TMS that accepts and never answers: shutdown does not wait for it
kill -STOP "$TMS_PID"
MULTI_TENANT=yes MULTI_TENANT_MANAGER_URL=$TMS MULTI_TENANT_MANAGER_API_KEY=$TKEY \
  FERRY_DATA=$TMP/x boot "$TMP/x.log" 0 || bad "a consumer of a hung TMS starts"
X_PID=$BOOT_PID
sleep 0.5
t0=$(date +%s%N); kill "$X_PID"; wait "$X_PID"; rc=$?; t1=$(date +%s%N)
same "  SIGTERM during a hung refresh: exit 0" "$rc" 0
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 1500 ]; then ok "  and it stops promptly (${ms} ms)"; else bad "  and it stops promptly" "${ms} ms"; fi
kill -CONT "$TMS_PID"
kill "$TMS_PID"; wait "$TMS_PID"; same "the TMS stops cleanly" "$?" 0
TMS_PID=""
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP/tms.log" "$TMP/x.log"; then
  bad "no sanitizer report from the TMS or the extra consumers" "$(grep -hm3 -E "Sanitizer|runtime error" "$TMP/tms.log" "$TMP/x.log")"
else ok "no sanitizer report from the TMS or the extra consumers"; fi
finish
