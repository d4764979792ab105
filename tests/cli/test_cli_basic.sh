#!/usr/bin/env bash
# tests/cli/test_cli_basic.sh - black-box tests of the `ferry` command's
# basics: init, status, versions, tenants, index create/list/delete, single
# documents, --help of every command, exit codes and error messages.
#
#   B=build bash tests/cli/test_cli_basic.sh      (or B=build-san)
#
# Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 exists, 5 not init.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[ -x "$FERRY" ] || { echo "no $FERRY: run make"; exit 1; }

# run CMD... : stdout in $out, stderr in $err, exit code in $rc
run() {
  out=$("$@" 2>"$TMP/.err"); rc=$?
  err=$(cat "$TMP/.err")
}
# jqis NAME JSON FILTER WANT : jq -r FILTER on JSON equals WANT
jqis() { same "$1" "$(printf '%s' "$2" | jq -r "$3" 2>&1)" "$4"; }
# docs/bytes of an index (by physical name or alias) from `index list --json`
ixfield() { "$FERRY" index list --json | jq -r --arg n "$1" \
  "map(select(.index == \$n or .alias == \$n)) | .[0].$2 // \"none\""; }
rep() { printf "%${2}s" "" | tr ' ' "$1"; } # rep CHAR N

# ------------------------------------------------------------ before init
expect_fail 5 "status before init (no dir) -> 5" "$FERRY" status
has "status before init says ferry init" "$err" "ferry init"
expect_fail 5 "index list before init -> 5" "$FERRY" index list
has "index list before init says ferry init" "$err" "ferry init"
expect_fail 5 "versions before init -> 5" "$FERRY" versions
expect_fail 5 "tenant add before init -> 5" "$FERRY" tenant add acme
expect_fail 5 "doc get before init -> 5" "$FERRY" doc get profile 1
expect_fail 5 "export before init -> 5" "$FERRY" export profile
echo '{"id":"1"}' >"$TMP/one.ndjson"
expect_fail 5 "import before init -> 5" "$FERRY" import profile "$TMP/one.ndjson"
has "import before init says ferry init" "$err" "ferry init"

# The same in a data directory that exists but was never initialised (a
# mounted volume): every command must say "run ferry init" (exit 5).
EMPTY=$TMP/empty
mkdir -p "$EMPTY"
FERRY_DATA=$EMPTY expect_fail 5 "status in empty dir -> 5" "$FERRY" status
has "status in empty dir says ferry init" "$err" "ferry init"
FERRY_DATA=$EMPTY expect_fail 5 "export in empty dir -> 5" "$FERRY" export profile
has "export in empty dir says ferry init" "$err" "ferry init"
FERRY_DATA=$EMPTY expect_fail 5 "doc get in empty dir -> 5" "$FERRY" doc get profile 1
FERRY_DATA=$EMPTY expect_fail 5 "doc put in empty dir -> 5" \
  "$FERRY" doc put profile 1 --body '{}'
FERRY_DATA=$EMPTY expect_fail 5 "index delete in empty dir -> 5" \
  "$FERRY" index delete v0_1_0.default.profile
FERRY_DATA=$EMPTY expect_fail 5 "tenant list in empty dir -> 5" "$FERRY" tenant list
FERRY_DATA=$EMPTY expect_fail 5 "index list in empty dir -> 5" "$FERRY" index list
FERRY_DATA=$EMPTY check "init in an existing empty dir" "$FERRY" init

# ------------------------------------------------------------ init
expect_fail 2 "init --data-parts x -> 2" "$FERRY" init --data-parts x
has "--data-parts message" "$err" "--data-parts"
expect_fail 2 "init --data-parts 0 -> 2" "$FERRY" init --data-parts 0
expect_fail 2 "init --data-parts 5 -> 2" "$FERRY" init --data-parts 5
expect_fail 2 "init --data-parts without value -> 2" "$FERRY" init --data-parts
expect_fail 2 "init unknown option -> 2" "$FERRY" init --bogus
[ ! -e "$FERRY_DATA" ] && ok "usage errors create no data dir" ||
  bad "usage errors create no data dir" "$FERRY_DATA exists"
run "$FERRY" init --version nope
[ "$rc" -ne 0 ] && ok "init with a bad version fails" || bad "init bad version" "rc 0"

run "$FERRY" init --version 0.7.1.3 --json
same "init --json exit 0" "$rc" 0
jqis "init --json release" "$out" .release 0.7.1.3
jqis "init --json data_version" "$out" .data_version 0.7.1
jqis "init --json data_parts" "$out" .data_parts 3
jqis "init --json data_dir" "$out" .data_dir "$FERRY_DATA"
expect_fail 4 "init twice -> 4" "$FERRY" init --version 0.7.1.3
has "init twice says already initialised" "$err" "already initialised"
has "init twice names the data dir" "$err" "$FERRY_DATA"

run env FERRY_DATA="$TMP/parts2" "$FERRY" init --version 0.8.1.4 --data-parts 2 --json
jqis "init --data-parts 2: data version" "$out" .data_version 0.8
jqis "init --data-parts 2: data_parts" "$out" .data_parts 2
FERRY_RELEASE=1.2.3 run env FERRY_DATA="$TMP/relenv" "$FERRY" init --json
jqis "init takes FERRY_RELEASE" "$out" .release 1.2.3

for bad_dir in /proc/x /proc/ferry-test/x; do
  run env FERRY_DATA=$bad_dir "$FERRY" init
  [ "$rc" -ne 0 ] && ok "init in $bad_dir fails" || bad "init in $bad_dir fails" "rc 0"
  has "init in $bad_dir names the path" "$err" "$bad_dir"
done
run env FERRY_DATA=/proc "$FERRY" init # exists, but no file can be made there
[ "$rc" -ne 0 ] && ok "init in /proc fails" || bad "init in /proc fails" "rc 0"
has "init in /proc names the path" "$err" "/proc"
echo x >"$TMP/afile"
run env FERRY_DATA="$TMP/afile" "$FERRY" init
[ "$rc" -ne 0 ] && ok "init on a file fails" || bad "init on a file fails" "rc 0"
has "init on a file names the path" "$err" "$TMP/afile"
check "--data DIR overrides FERRY_DATA" env FERRY_DATA=/nonexistent \
  "$FERRY" --data "$FERRY_DATA" status

# ------------------------------------------------------------ status, versions
run "$FERRY" status
same "status exit 0" "$rc" 0
has "status shows the release" "$out" "0.7.1.3"
has "status shows the data version" "$out" "data version 0.7.1"
has "status shows the data dir" "$out" "$FERRY_DATA"
run "$FERRY" status --json
jqis "status --json release" "$out" .release 0.7.1.3
jqis "status --json data_version" "$out" .data_version 0.7.1
jqis "status --json data_parts" "$out" .data_parts 3
jqis "status --json indices" "$out" .indices 0
jqis "status --json index_budget" "$out" .index_budget 1000
jqis "status --json tenants" "$out" .tenants 1
jqis "status --json docs" "$out" .docs 0
jqis "status --json bytes" "$out" .bytes 0
jqis "status --json purge_pending" "$out" .purge_pending false
jqis "status --json file_bytes > 0" "$out" '.file_bytes > 0' true
expect_fail 2 "status bad option -> 2" "$FERRY" status --bogus

run "$FERRY" versions
has "versions lists 0.7.1" "$out" "0.7.1"
has "versions shows active" "$out" "active"
run "$FERRY" versions --json
jqis "versions --json is one version" "$out" length 1
jqis "versions --json data_version" "$out" '.[0].data_version' 0.7.1
jqis "versions --json state" "$out" '.[0].state' active
jqis "versions --json release" "$out" '.[0].release' 0.7.1.3
jqis "versions --json history has init" "$out" '.[0].history[0].event' init
jqis "versions --json activated is a time" "$out" \
  '.[0].activated | test("^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T")' true

# ------------------------------------------------------------ tenants
check "tenant add acme" "$FERRY" tenant add acme
run "$FERRY" tenant list --json
jqis "tenant list --json" "$out" 'sort | join(",")' "acme,default"
expect_fail 4 "tenant add twice -> 4" "$FERRY" tenant add acme
expect_fail 2 "tenant add Acme (uppercase) -> 2" "$FERRY" tenant add Acme
has "tenant uppercase message" "$err" "uppercase"
expect_fail 2 "tenant add 64 chars -> 2" "$FERRY" tenant add "$(rep t 64)"
has "tenant too long message" "$err" "64 characters"
check "tenant add 63 chars" "$FERRY" tenant add "$(rep t 63)"

# ------------------------------------------------------------ index create
run "$FERRY" index create profile
same "index create logical exit 0" "$rc" 0
has "index create says created" "$out" "created index"
same "logical -> physical of active version" "$(ixfield default.profile index)" \
  "v0_7_1.default.profile"
check "index create alias form acme.profile" "$FERRY" index create acme.profile
same "acme.profile -> v0_7_1.acme.profile" "$(ixfield acme.profile index)" \
  "v0_7_1.acme.profile"
check "index create physical v0_7_1.acme.x" "$FERRY" index create v0_7_1.acme.x
same "physical of the active version gets its alias" \
  "$(ixfield v0_7_1.acme.x alias)" "acme.x"
check "index create physical of an older version" "$FERRY" index create v0_6_0.acme.old
same "older-version physical has no alias" "$(ixfield v0_6_0.acme.old alias)" ""
same "older-version physical has its version" \
  "$(ixfield v0_6_0.acme.old version)" "0.6.0"
check "index create with a body" "$FERRY" index create event \
  --body '{"settings":{"number_of_shards":1},"mappings":{"properties":{"age":{"type":"integer"}}}}'
printf '{"mappings":{}}' >"$TMP/body.json"
check "index create --body-file" "$FERRY" index create session --body-file "$TMP/body.json"

expect_fail 3 "index create for unknown tenant -> 3" "$FERRY" index create foo.x
has "unknown tenant message names it" "$err" "foo"
has "unknown tenant message says tenant add" "$err" "tenant add"
expect_fail 3 "physical for unknown tenant -> 3" "$FERRY" index create v0_7_1.foo.x
expect_fail 2 "index create Profile (uppercase) -> 2" "$FERRY" index create Profile
has "uppercase message" "$err" "uppercase"
expect_fail 2 "index create 'a b' (space) -> 2" "$FERRY" index create "a b"
has "space message names the character" "$err" "character 2"
expect_fail 2 "index create 256-byte name -> 2" "$FERRY" index create "$(rep a 256)"
has "too long message" "$err" "256 bytes"
# (A 64-character "logical" name is a valid Elasticsearch index name, so
# it is created as an unversioned index without alias (FNAME_OTHER in
# src/core/names.h); not asserted here.)
expect_fail 2 "index create _x (leading _) -> 2" "$FERRY" index create _x
expect_fail 2 "index create a*b -> 2" "$FERRY" index create 'a*b'
expect_fail 4 "index create twice -> 4" "$FERRY" index create profile
has "exists message names the physical index" "$err" "v0_7_1.default.profile"
expect_fail 4 "create physical of an existing alias target -> 4" \
  "$FERRY" index create v0_7_1.acme.profile
expect_fail 1 "index create with invalid --body -> 1" \
  "$FERRY" index create bodybad --body '{"settings":'
has "invalid body message has a byte offset" "$err" "at byte 12"
expect_fail 1 "index create with a non-object --body -> 1" \
  "$FERRY" index create bodybad --body '[1]'
same "invalid body created nothing" "$(ixfield default.bodybad index)" none
expect_fail 1 "index create --body-file missing -> 1" \
  "$FERRY" index create bodybad --body-file "$TMP/nope.json"
has "missing body file named" "$err" "$TMP/nope.json"
expect_fail 2 "index create without a name -> 2" "$FERRY" index create
expect_fail 2 "index unknown subcommand -> 2" "$FERRY" index frob

run "$FERRY" status --json
jqis "status counts the indices" "$out" .indices 6
run "$FERRY" versions --json
jqis "versions counts indices of 0.7.1" "$out" \
  'map(select(.data_version == "0.7.1"))[0].indices' 5

# ------------------------------------------------------------ documents
expect_fail 2 "doc put with the body as an argument -> 2" "$FERRY" doc put profile a '{"n":0}'
has "  says where a body goes" "$err" "a body goes in --body '{\"n\":0}' or on stdin"
run "$FERRY" doc put profile a --body '{"n":1}'
same "doc put exit 0" "$rc" 0
jqis "doc put result created" "$out" .result created
jqis "doc put _id" "$out" ._id a
jqis "doc put _seq_no 1" "$out" ._seq_no 1
run "$FERRY" doc put profile a --body '{"n":2}'
jqis "doc put again: updated" "$out" .result updated
jqis "doc put again: seq 2" "$out" ._seq_no 2
run "$FERRY" doc get profile a
same "doc get returns the latest body" "$out" '{"n":2}'
run "$FERRY" doc get default.profile a
same "doc get via the alias" "$out" '{"n":2}'
run "$FERRY" doc get v0_7_1.default.profile a
same "doc get via the physical name" "$out" '{"n":2}'
run "$FERRY" doc get profile a --json
jqis "doc get --json _index is physical" "$out" ._index v0_7_1.default.profile
jqis "doc get --json found" "$out" .found true
jqis "doc get --json _source" "$out" ._source.n 2
jqis "doc get --json _seq_no" "$out" ._seq_no 2
expect_fail 4 "doc put --create on an existing id -> 4" \
  "$FERRY" doc put profile a --create --body '{"n":3}'
has "create conflict names the id" "$err" "'a'"
run "$FERRY" doc get profile a
same "create conflict left the body" "$out" '{"n":2}'
check "doc put --create on a new id" "$FERRY" doc put profile b --create --body '{"n":1}'
printf '{"from":"stdin"}' >"$TMP/stdin.json"
run "$FERRY" doc put profile s <"$TMP/stdin.json"
same "doc put from stdin exit 0" "$rc" 0
same "doc put from stdin stored" "$("$FERRY" doc get profile s)" '{"from":"stdin"}'
body=' { "sp" : [1, 2.50, "x\u00e9"] } '
check "doc put keeps the body byte-exact (put)" "$FERRY" doc put profile exact --body "$body"
same "doc put keeps the body byte-exact" "$("$FERRY" doc get profile exact)" "$body"

expect_fail 3 "doc get of a missing id -> 3" "$FERRY" doc get profile nope
has "missing doc message names the id" "$err" "nope"
expect_fail 3 "doc get in a missing index -> 3" "$FERRY" doc get nosuch a
expect_fail 3 "doc put into a missing index -> 3" "$FERRY" doc put nosuch a --body '{}'
expect_fail 3 "doc delete of a missing id -> 3" "$FERRY" doc delete profile nope
run "$FERRY" doc delete profile b
same "doc delete exit 0" "$rc" 0
jqis "doc delete result" "$out" .result deleted
expect_fail 3 "doc get after delete -> 3" "$FERRY" doc get profile b
expect_fail 3 "doc delete twice -> 3" "$FERRY" doc delete profile b
check "doc put after delete" "$FERRY" doc put profile b --create --body '{"again":1}'

before=$(ixfield default.profile docs)
for bodyx in '{"n":1,}' '{"n":' '{"n":1}x' '[1,2]' '"str"' ''; do
  run "$FERRY" doc put profile badbody --body "$bodyx"
  if [ "$rc" -ne 0 ]; then ok "invalid body '$bodyx' refused"
  else bad "invalid body '$bodyx' refused" "rc 0"; fi
done
run "$FERRY" doc put profile badbody --body '{"n":1,}'
has "invalid JSON message has the byte offset" "$err" "byte 7"
expect_fail 3 "nothing written for an invalid body" "$FERRY" doc get profile badbody
same "count unchanged after invalid bodies" "$(ixfield default.profile docs)" "$before"

ids=()
for i in 1 2 3 4 5; do
  run "$FERRY" doc put profile --body "{\"gen\":$i}"
  ids+=("$(printf '%s' "$out" | jq -r ._id)")
done
gen_ok=1
for id in "${ids[@]}"; do
  [[ "$id" =~ ^[-0-9A-Za-z_]{20}$ ]] || { gen_ok=0; bad "generated id is 20 chars" "'$id'"; }
done
[ $gen_ok = 1 ] && ok "generated ids are 20 id characters"
sorted=$(printf '%s\n' "${ids[@]}" | LC_ALL=C sort)
same "generated ids sort in creation order" "$sorted" "$(printf '%s\n' "${ids[@]}")"
same "generated ids are distinct" "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" 5
same "generated id is retrievable" "$("$FERRY" doc get profile "${ids[2]}")" '{"gen":3}'

id512=$(rep i 512)
run "$FERRY" doc put profile "$id512" --body '{"long":512}'
same "512-byte id accepted" "$rc" 0
same "512-byte id readable" "$("$FERRY" doc get profile "$id512" 2>&1)" '{"long":512}'
id507=$(rep j 507)
check "507-byte id accepted" "$FERRY" doc put profile "$id507" --body '{"long":507}'
run "$FERRY" doc put profile "$(rep i 513)" --body '{"long":513}'
[ "$rc" -ne 0 ] && ok "513-byte id refused" || bad "513-byte id refused" "rc 0"
has "513-byte id message" "$err" "513 bytes"
has "513-byte id message gives the limit" "$err" "512"
run "$FERRY" doc put profile $'bad\xffid' --body '{}'
[ "$rc" -ne 0 ] && ok "non-UTF-8 id refused" || bad "non-UTF-8 id refused" "rc 0"
has "non-UTF-8 id message" "$err" "UTF-8"

uid='Zoë-Wrocław-日本-😀'
check "UTF-8 id put" "$FERRY" doc put profile "$uid" --body '{"utf":"ok"}'
same "UTF-8 id get" "$("$FERRY" doc get profile "$uid")" '{"utf":"ok"}'
run "$FERRY" doc get profile "$uid" --json
jqis "UTF-8 id in --json" "$out" ._id "$uid"
run "$FERRY" export profile --format bulk --quiet
has "UTF-8 id in bulk export" "$out" "\"_id\":\"$uid\""
check "UTF-8 id delete" "$FERRY" doc delete profile "$uid"

expect_fail 2 "doc without subcommand -> 2" "$FERRY" doc
expect_fail 2 "doc unknown subcommand -> 2" "$FERRY" doc frob profile
expect_fail 2 "doc get without id -> 2" "$FERRY" doc get profile
expect_fail 2 "doc put unknown option -> 2" "$FERRY" doc put profile x --bogus

# ------------------------------------------------------------ index list
"$FERRY" doc put acme.profile p1 --body '{"abc":1}' >/dev/null
"$FERRY" doc put acme.profile p2 --body '{"abcdef":22}' >/dev/null
run "$FERRY" index list --json
same "index list --json exit 0" "$rc" 0
jqis "index list --json all" "$out" length 6
jqis "index list --json sorted by name" "$out" \
  '[.[].index] == ([.[].index] | sort)' true
jqis "index list --json tenant/name" "$out" \
  'map(select(.index == "v0_7_1.acme.profile"))[0] | "\(.tenant)/\(.name)/\(.version)"' \
  "acme/profile/0.7.1"
jqis "index list --json docs of acme.profile" "$out" \
  'map(select(.alias == "acme.profile"))[0].docs' 2
b1='{"abc":1}' b2='{"abcdef":22}'
jqis "index list --json bytes of acme.profile" "$out" \
  'map(select(.alias == "acme.profile"))[0].bytes' $((${#b1} + ${#b2}))
jqis "index list --json seq of acme.profile" "$out" \
  'map(select(.alias == "acme.profile"))[0].seq' 2
# docs and bytes of default.profile, from an export of it
exp=$("$FERRY" export profile --quiet)
ndocs=$(printf '%s\n' "$exp" | wc -l)
nbytes=$(($(printf '%s\n' "$exp" | wc -c) - ndocs))
same "index list docs == exported docs" "$(ixfield default.profile docs)" "$ndocs"
same "index list bytes == exported body bytes" "$(ixfield default.profile bytes)" "$nbytes"
run "$FERRY" status --json
jqis "status docs == sum over indices" "$out" .docs $((ndocs + 2))
jqis "status bytes == sum over indices" "$out" .bytes $((nbytes + ${#b1} + ${#b2}))

names() { "$FERRY" index list "$@" --json | jq -r '[.[].index] | join(" ")'; }
same "pattern 'acme.*' (aliases)" "$(names 'acme.*')" \
  "v0_7_1.acme.profile v0_7_1.acme.x"
same "pattern 'v0_6_*'" "$(names 'v0_6_*')" "v0_6_0.acme.old"
same "pattern '*.acme.*'" "$(names '*.acme.*')" \
  "v0_6_0.acme.old v0_7_1.acme.profile v0_7_1.acme.x"
same "pattern with exclusion" "$(names 'v0_7_1.*,-*.acme.*')" \
  "v0_7_1.default.event v0_7_1.default.profile v0_7_1.default.session"
same "pattern with two alternatives" "$(names 'acme.x,default.event')" \
  "v0_7_1.acme.x v0_7_1.default.event"
same "pattern '?' matches one char" "$(names 'acme.?')" "v0_7_1.acme.x"
same "pattern matching nothing" "$(names 'zzz*')" ""
same "pattern '*' is all" "$(names '*' | wc -w)" 6
run "$FERRY" index list 'acme.*'
has "index list text shows the alias" "$out" "acme.profile"
has "index list text has a header" "$out" "INDEX"

# ------------------------------------------------------------ index delete
expect_fail 1 "index delete via alias refused" "$FERRY" index delete acme.profile
has "alias refusal names the physical index" "$err" "v0_7_1.acme.profile"
has "alias refusal mentions --force" "$err" "--force"
expect_fail 1 "index delete via logical name refused" "$FERRY" index delete profile
has "logical refusal names the physical index" "$err" "v0_7_1.default.profile"
same "refused delete kept the docs" "$(ixfield acme.profile docs)" 2
check "index delete by physical name" "$FERRY" index delete v0_7_1.acme.profile
expect_fail 3 "deleted alias no longer resolves (doc get)" "$FERRY" doc get acme.profile p1
expect_fail 3 "deleted physical no longer resolves" "$FERRY" doc get v0_7_1.acme.profile p1
expect_fail 3 "deleted index: export -> 3" "$FERRY" export acme.profile
same "deleted index not listed" "$(names 'acme.*')" "v0_7_1.acme.x"
expect_fail 3 "delete twice -> 3" "$FERRY" index delete v0_7_1.acme.profile
check "recreate after delete" "$FERRY" index create acme.profile
same "recreated index is empty" "$(ixfield acme.profile docs)" 0
expect_fail 3 "old doc gone from the recreated index" "$FERRY" doc get acme.profile p1
check "index delete --force via alias" "$FERRY" index delete acme.x --force
same "forced delete removed the index" "$(ixfield v0_7_1.acme.x index)" none
check "index delete older-version physical" "$FERRY" index delete v0_6_0.acme.old
expect_fail 3 "index delete of a missing index -> 3" "$FERRY" index delete v0_7_1.acme.zzz
expect_fail 2 "index delete without a name -> 2" "$FERRY" index delete
run "$FERRY" status --json
jqis "status after deletes: indices" "$out" .indices 4
jqis "status after deletes: no purge pending" "$out" .purge_pending false

# ------------------------------------------------------------ progress
# On a terminal a bar redrawn in place with count, rate and ETA; otherwise
# one closing line. Counts and rates are grouped in thousands alike.
if [ -x "$GEN" ] && command -v script >/dev/null; then
  "$GEN" --type profile --count 200000 >"$TMP/prog.ndjson"
  out=$(script -qec "$FERRY import progtty $TMP/prog.ndjson" /dev/null 2>&1)
  has "tty: a bar" "$out" "progtty ["
  has "tty: redrawn in place" "$out" $'\033[K'
  has "tty: an ETA" "$out" "ETA "
  case "$out" in *[0-9],[0-9][0-9][0-9]" docs/s"*) ok "tty: rate grouped in thousands" ;;
    *) bad "tty: rate grouped in thousands" "$out" ;; esac
  run "$FERRY" import progplain "$TMP/prog.ndjson"
  case "$err" in *"progplain: 200,000 docs in "*"s ("*[0-9],[0-9][0-9][0-9]" docs/s)"*)
    ok "plain: one closing line with count and rate" ;;
    *) bad "plain: one closing line with count and rate" "$err" ;; esac
  case "$err" in *"ETA"*|*$'\r'*) bad "plain: no bar, no ETA" "$err" ;; *) ok "plain: no bar, no ETA" ;; esac
  "$FERRY" index delete progtty --force >/dev/null &&
    "$FERRY" index delete progplain --force >/dev/null ||
    bad "progress: indices deleted"
  rm -f "$TMP/prog.ndjson"
else
  echo "# skipped the progress checks: no cdp-gen or no script(1)"
fi

# ------------------------------------------------------------ help, usage
run "$FERRY" --help
same "ferry --help exit 0" "$rc" 0
has "ferry --help lists commands" "$out" "import"
has "ferry --help usage" "$out" "usage: ferry [--data DIR] <command>"
has "ferry --help lists global options" "$out" "--version    print the version"
same "ferry --help prints one usage line" "$(printf '%s\n' "$out" | grep -c 'usage:')" 1
for c in init status versions index doc import export tenant; do
  run "$FERRY" $c --help
  same "ferry $c --help exit 0" "$rc" 0
  has "ferry $c --help prints usage" "$out" "usage: ferry $c"
done
for c in "index create" "index list" "index delete" "doc put" "doc get" \
  "doc delete" "tenant add" "tenant list"; do
  run "$FERRY" $c --help
  same "ferry $c --help exit 0" "$rc" 0
  has "ferry $c --help prints usage" "$out" "usage:"
done
run "$FERRY" tenant list
case "$out" in *--help*) bad "tenant add --help added a tenant '--help'" ;; *) ok "no tenant named --help" ;; esac
run "$FERRY" --version
has "ferry --version" "$out" "ferry "
expect_fail 2 "unknown command -> 2" "$FERRY" frobnicate
has "unknown command named" "$err" "frobnicate"
expect_fail 2 "no command -> 2" "$FERRY"
expect_fail 2 "unknown global option -> 2" "$FERRY" --bogus
expect_fail 2 "index without subcommand -> 2" "$FERRY" index
expect_fail 2 "tenant unknown subcommand -> 2" "$FERRY" tenant frob
expect_fail 2 "export without index -> 2" "$FERRY" export
expect_fail 2 "export bad --format -> 2" "$FERRY" export profile --format csv
expect_fail 2 "import without file -> 2" "$FERRY" import profile

finish
