#!/usr/bin/env bash
# test_restdoc.sh - keeps docs/rest-api.md true: runs every line of its
# ```sh blocks, in order, against a real ferryd at release 0.8.1, with
# localhost:9200 pointing at the test server. A curl line must answer the
# status of its trailing "# -> NNN" comment, or a 2xx; any other line must
# exit 0. Sections that need more (migrations, repositories) set up what
# they need in their own lines; $DOC_TMP is a scratch dir for them, and
# $FERRY_MIGRATIONS points at the example migrations.
source "$(dirname "$0")/lib.sh"
export FERRY_RELEASE=0.8.1
export DOC_TMP=$TMP/doc
export FERRY_MIGRATIONS=$ROOT/examples/cdp/migrations
mkdir -p "$DOC_TMP"
DOC=$ROOT/docs/rest-api.md

srv_start || { bad "ferryd starts"; finish; exit 1; }
hostport=${URL#http://}

n=0
while IFS= read -r line; do
  n=$((n + 1))
  want=""
  if [[ $line =~ \#\ -\>\ ([0-9]{3})[[:space:]]*$ ]]; then want=${BASH_REMATCH[1]}; fi
  cmd=${line//localhost:9200/$hostport}
  if [[ $cmd == curl* ]]; then
    got=$(eval "${cmd%%#*} -o \"\$TMP/out\" -w '%{http_code}'" 2>&1)
    if { [ -n "$want" ] && [ "$got" = "$want" ]; } ||
       { [ -z "$want" ] && [[ $got == 2?? ]]; }; then
      ok "doc example: ${line:0:90}"
    else
      bad "doc example: $line" "got $got, wanted ${want:-2xx}: $(head -c 300 "$TMP/out")"
    fi
  else
    if out=$(eval "$cmd" 2>&1); then ok "doc step: ${line:0:90}"
    else bad "doc step: $line" "$out"; fi
  fi
done < <(awk '/^```sh$/ { on = 1; next } /^```/ { on = 0 } on && NF' "$DOC")
# "sh maint" blocks need the CDP demo data: tests/server/test_maint.sh runs
# them; check that each command there is the one the document shows.
join_lines() { sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$@"; }
maint=$(join_lines "$ROOT/tests/server/test_maint.sh")
m=0
while IFS= read -r line; do
  m=$((m + 1))
  cmd=${line//\$URL/\$URL}
  case "$maint" in *"$cmd"*) ok "maint example is run by test_maint.sh: ${line:0:70}" ;;
    *) bad "maint example not run by test_maint.sh" "$line" ;; esac
done < <(awk '/^```sh maint$/ { on = 1; next } /^```/ { on = 0 } on && NF' "$DOC" | join_lines)
[ "$m" -ge 8 ] && ok "$m maintenance examples checked" || bad "maintenance examples found" "$m"
[ "$n" -gt 10 ] && ok "the document has $n runnable example lines" || bad "examples found" "$n"
srv_stop
finish
