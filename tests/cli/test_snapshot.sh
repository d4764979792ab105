#!/usr/bin/env bash
# tests/cli/test_snapshot.sh - `ferry snapshot` end to end against the real
# binary: repositories (missing and read-only paths), create / list / show /
# verify, a small incremental after 1 % of the documents changed, restores
# (rename, clash, whole deployment into an empty data dir), a damaged
# chunk (named by verify, refused by restore, left out with --partial), a
# truncated manifest and a newer format; then `kill -9` at random points
# of create, delete and restore, each followed by a retry that succeeds
# and a `snapshot verify` that passes, and a repository that holds exactly
# the chunks its snapshots need.
#
#   B=build bash tests/cli/test_snapshot.sh      (or B=build-san)
#   SNAP_DOCS=100000 SNAP_ROUNDS=10 SNAP_SEED=7 ... to vary
. "$(dirname "$0")/lib.sh"
data_suite

T="timeout 120"
N=${SNAP_DOCS:-60000}
ROUNDS=${SNAP_ROUNDS:-6}
SEED=${SNAP_SEED:-$$}
RANDOM=$SEED
echo "# seed $SEED, $N profiles, $ROUNDS kill rounds per operation"

run() { out=$("$@" 2>"$TMP/.err"); rc=$?; err=$(cat "$TMP/.err"); }
hash_of() { $T "$FERRY" export "$1" --quiet | sha256sum | cut -c1-64; }
# the same in data dir $1
hash_in() { FERRY_DATA=$1 $T "$FERRY" export "$2" --quiet | sha256sum | cut -c1-64; }
in_dir() { local d=$1; shift; env FERRY_DATA="$d" "$@"; }
count() { $T "$FERRY" index list --json | jq -r --arg n "$1" \
  'map(select(.name == $n or .alias == $n)) | .[0].docs // 0'; }
# chunks the snapshots of repository dir $1 need, and those it holds
needed() { for s in $("$FERRY" snapshot list "$1" --json | jq -r '.[].name'); do
    "$FERRY" snapshot show "$1" "$s" --json | jq -r '.indices[].parts[].chunks[].sha256'
  done | sort -u; }
held() { find "$1/chunks" -type f -name '????????????????????????????????????????????????????????????????' -printf '%f\n' | sort; }
pause() { local ms=$1; sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"; }

# ------------------------------------------------------------ setup
check "init" $T "$FERRY" init --version 0.7.1
check "tenant" $T "$FERRY" tenant add acme
"$GEN" --type profile --count "$N" >"$TMP/p.ndjson"
"$GEN" --type profile --count "$N" --update-every 100 >"$TMP/p2.ndjson"
"$GEN" --type profile --count 3000 --tenant acme >"$TMP/a.ndjson"
check "import profiles" $T "$FERRY" import profile "$TMP/p.ndjson" --quiet
check "import acme" $T "$FERRY" import acme.profile "$TMP/a.ndjson" --quiet
check "index with a body" $T "$FERRY" index create acme.event \
  --body '{"mappings":{"properties":{"at":{"type":"date"}}}}'
check "release recorded" $T "$FERRY" upgrade run --to 0.7.1.1

# ------------------------------------------------------------ usage
run $T "$FERRY" snapshot --help
same "snapshot --help exits 0" "$rc" 0
has "help names restore --all" "$out" "restore REPO NAME --all"
expect_fail 2 "unknown snapshot command" $T "$FERRY" snapshot frob
expect_fail 2 "create needs a repository" $T "$FERRY" snapshot create
expect_fail 2 "unknown option" $T "$FERRY" snapshot list x --frob
expect_fail 2 "rename options go together" $T "$FERRY" snapshot restore b s \
  --rename-pattern x

# ------------------------------------------------------------ repositories
R=$TMP/repo
mkdir -p "$R"
expect_fail 3 "repo add: missing path" $T "$FERRY" snapshot repo add m "$TMP/nope"
has "missing path: says so" "$err" "does not exist"
mkdir -p "$TMP/ro"
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  err=$(unshare -m sh -c "mount -t tmpfs -o ro none '$TMP/ro' && exec $FERRY snapshot repo add ro '$TMP/ro'" 2>&1 >/dev/null)
  rc=$?
else
  chmod 555 "$TMP/ro"
  err=$("$FERRY" snapshot repo add ro "$TMP/ro" 2>&1 >/dev/null); rc=$?
fi
same "repo add: read-only path fails" "$rc" 1
has "read-only path: one clear line" "$err" "cannot write in repository path"
same "read-only path: one line" "$(printf '%s\n' "$err" | wc -l)" 1
check "repo add" $T "$FERRY" snapshot repo add b "$R" --chunk-size 16K
expect_fail 4 "repo add: name taken" $T "$FERRY" snapshot repo add b "$R"
expect_fail 2 "repo add: bad name" $T "$FERRY" snapshot repo add B "$R"
run $T "$FERRY" snapshot repo list --json
same "repo list --json" "$(printf '%s' "$out" | jq -r '.[0].name + " " + .[0].path')" "b $R"
check "repo add: the same directory under a second name" \
  $T "$FERRY" snapshot repo add b2 "$R"
check "repo remove" $T "$FERRY" snapshot repo remove b2
expect_fail 3 "repo remove: unknown" $T "$FERRY" snapshot repo remove b2
expect_fail 3 "create: unknown repository" $T "$FERRY" snapshot create nope

# ------------------------------------------------------------ create, list, show, verify
run $T "$FERRY" snapshot create b s1 --json
same "create s1: exit 0" "$rc" 0
same "create s1: all documents" "$(printf '%s' "$out" | jq .docs)" $((N + 3000))
s1_new=$(printf '%s' "$out" | jq .new_bytes)
s1_hash=$(hash_of profile)
expect_fail 4 "create: name taken" $T "$FERRY" snapshot create b s1
expect_fail 3 "create: pattern matching nothing" $T "$FERRY" snapshot create b x --indices 'nothing*'
expect_fail 2 "create: bad name" $T "$FERRY" snapshot create b 'Bad Name'
run $T "$FERRY" snapshot list b --json
same "list: one snapshot, ok" "$(printf '%s' "$out" | jq -r '.[] | .name + " " + .state')" "s1 ok"
run $T "$FERRY" snapshot show b s1 --json
same "show --json: format 2" "$(printf '%s' "$out" | jq .format)" 2
same "show --json: 3 indices" "$(printf '%s' "$out" | jq '.indices | length')" 3
same "show --json: catalog versions" "$(printf '%s' "$out" | jq -r '.catalog.settings.release')" 0.7.1.1
run $T "$FERRY" snapshot show b s1
has "show: lists the index" "$out" "v0_7_1.default.profile"
check "verify s1" $T "$FERRY" snapshot verify b s1
run $T "$FERRY" snapshot list "$R"
has "list by path, no registration needed" "$out" "s1"
# a progress bar with bytes, rate and ETA on a terminal
mkdir -p "$TMP/repo-tty"
check "repo for the tty test" $T "$FERRY" snapshot repo add tty "$TMP/repo-tty" --chunk-size 16K
out=$(script -qec "$FERRY snapshot create tty t1" /dev/null 2>&1)
has "tty: rate in MiB/s" "$out" "MiB/s"
has "tty: redraws in place" "$out" $'\033[K'

# ------------------------------------------------------------ 1 % changed
check "re-import with every 100th changed" $T "$FERRY" import profile "$TMP/p2.ndjson" --quiet
run $T "$FERRY" snapshot create b s2 --json
same "create s2: exit 0" "$rc" 0
s2_new=$(printf '%s' "$out" | jq .new_bytes)
echo "#    s1 stored $s1_new bytes; s2 after 1 % changed: $s2_new new bytes"
if [ "$s2_new" -gt 0 ] && [ $((s2_new * 20)) -lt "$s1_new" ]; then
  ok "incremental stores under 5 % of the full size"
else bad "incremental stores under 5 % of the full size" "$s2_new of $s1_new"; fi
s2_hash=$(hash_of profile)
run $T "$FERRY" snapshot show b s2
has "show: base + 1 delta" "$out" "base + 1 delta"

# ------------------------------------------------------------ restore
before=$($T "$FERRY" index list --json | jq length)
expect_fail 4 "restore onto existing indices is refused" $T "$FERRY" snapshot restore b s1
has "clash: names the index" "$err" "already exists"
same "clash: nothing written" "$($T "$FERRY" index list --json | jq length)" "$before"
check "restore s1 renamed" $T "$FERRY" snapshot restore b s1 --indices default.profile \
  --rename-pattern 'profile$' --rename-replacement old
same "restored s1 == profile at s1" "$(hash_of default.old)" "$s1_hash"
check "restore s2 renamed with a group" $T "$FERRY" snapshot restore b s2 \
  --indices 'default.profile' --rename-pattern '^(v[0-9_]+)\.default\.(.*)$' \
  --rename-replacement '$1.default.$2_s2'
same "restored s2 == profile at s2" "$(hash_of default.profile_s2)" "$s2_hash"
expect_fail 2 "rename to a non-physical name" $T "$FERRY" snapshot restore b s2 \
  --indices default.profile --rename-pattern '^v' --rename-replacement 'x'
# whole deployment into an empty data dir
DR=$TMP/dr
expect_fail 5 "an empty data dir is uninitialised" in_dir "$DR" $T "$FERRY" status
check "restore --all into an empty data dir" env FERRY_DATA="$DR" $T "$FERRY" snapshot restore "$R" s2 --all
src=$($T "$FERRY" index list --json | jq -c 'map(select(.name | test("old|_s2") | not)) | map({name, alias, docs})')
dst=$(in_dir "$DR" $T "$FERRY" index list --json | jq -c 'map({name, alias, docs})')
same "restore --all: same indices, aliases, counts" "$dst" "$src"
same "restore --all: profile content" "$(hash_in "$DR" profile)" "$s2_hash"
same "restore --all: acme content" "$(hash_in "$DR" acme.profile)" "$(hash_of acme.profile)"
same "restore --all: versions with history" \
  "$(in_dir "$DR" $T "$FERRY" versions --json | jq -c 'map({data_version, release, state, history})')" \
  "$($T "$FERRY" versions --json | jq -c 'map({data_version, release, state, history})')"
same "restore --all: tenants" "$(in_dir "$DR" $T "$FERRY" tenant list --json)" "$($T "$FERRY" tenant list --json)"
check "restore --all: the deployment takes writes" in_dir "$DR" $T "$FERRY" doc put profile z1 --body '{"ok":1}'
expect_fail 4 "restore --all into an initialised dir is refused" \
  in_dir "$DR" $T "$FERRY" snapshot restore "$R" s2 --all

# ------------------------------------------------------------ damage
# (in a copy, so the kill rounds below start from a sound repository)
C=$TMP/copy
cp -a "$R" "$C"
chunk=$("$FERRY" snapshot show "$C" s1 --json | jq -r '.indices[] | select(.name == "v0_7_1.default.profile") | .parts[0].chunks[5].sha256')
recs=$("$FERRY" snapshot show "$C" s1 --json | jq -r '.indices[] | select(.name == "v0_7_1.default.profile") | .parts[0].chunks[5].records')
f=$C/chunks/${chunk:0:2}/$chunk
printf '\x5a' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 2 )) conv=notrunc status=none
expect_fail 1 "verify: a damaged chunk fails" $T "$FERRY" snapshot verify "$C"
has "verify: names the chunk" "$err" "chunks/${chunk:0:2}/$chunk"
same "verify: one line" "$(printf '%s\n' "$err" | wc -l)" 1
expect_fail 1 "restore: refused over a damaged chunk" $T "$FERRY" snapshot restore "$C" s1 \
  --indices default.profile --rename-pattern 'profile$' --rename-replacement dmg
has "restore: names the chunk" "$err" "$chunk"
same "restore: nothing written" "$(count default.dmg)" 0
run $T "$FERRY" snapshot restore "$C" s1 --indices default.profile --partial \
  --rename-pattern 'profile$' --rename-replacement dmg
same "restore --partial: exit 0" "$rc" 0
has "restore --partial: warns about what it left out" "$err" "left out $recs records"
same "restore --partial: the rest is there" "$(count default.dmg)" $((N - recs))
# a truncated manifest
m=$C/snapshots/s2.json
truncate -s $(( $(stat -c %s "$m") / 2 )) "$m"
expect_fail 1 "show: truncated manifest" $T "$FERRY" snapshot show "$C" s2
has "truncated: says so" "$err" "truncated"
run $T "$FERRY" snapshot list "$C" --json
same "list: the truncated one is damaged" "$(printf '%s' "$out" | jq -r '.[] | select(.name == "s2") | .state')" damaged
expect_fail 1 "restore --all of a truncated manifest" \
  in_dir "$TMP/dr2" $T "$FERRY" snapshot restore "$C" s2 --all
# a newer format
printf '{"format":3,"chunk_size":1048576}\n' >"$C/config.json"
expect_fail 1 "a repository of a newer format is refused" $T "$FERRY" snapshot list "$C"
has "newer format: says so" "$err" "newer than this ferry"
expect_fail 1 "create into a newer format is refused" $T "$FERRY" snapshot create "$C" n1

# ------------------------------------------------------------ kill -9 create
for r in $(seq 1 "$ROUNDS"); do
  ms=$((5 + RANDOM % 120))
  "$FERRY" snapshot create b k$r --quiet >/dev/null 2>&1 &
  bg=$!; pause "$ms"
  if kill -9 "$bg" 2>/dev/null; then killed=1; else killed=0; fi
  wait "$bg" 2>/dev/null; bg=""
  state=$("$FERRY" snapshot list b --json | jq -r --arg n "k$r" '.[] | select(.name == $n) | .state')
  echo "#    create round $r: kill at ${ms} ms, killed=$killed, listed='${state}'"
  [ -z "$state" ] || same "create round $r: a listed snapshot is whole" "$state" ok
  check "create round $r: verify after the kill" $T "$FERRY" snapshot verify b
  if [ -z "$state" ]; then
    check "create round $r: run again" $T "$FERRY" snapshot create b k$r --quiet
  fi
  check "create round $r: verify k$r" $T "$FERRY" snapshot verify b k$r
  # change a little for the next round (deltas and new chunks)
  $T "$FERRY" doc put profile round-$r --body "{\"round\":$r}" >/dev/null
done

# ------------------------------------------------------------ kill -9 delete
for r in $(seq 1 "$ROUNDS"); do
  ms=$((RANDOM % 25))
  "$FERRY" snapshot delete b k$r >/dev/null 2>&1 &
  bg=$!; pause "$ms"
  if kill -9 "$bg" 2>/dev/null; then killed=1; else killed=0; fi
  wait "$bg" 2>/dev/null; bg=""
  listed=$("$FERRY" snapshot list b --json | jq -r --arg n "k$r" 'map(select(.name == $n)) | length')
  pending=0; [ -e "$R/snapshots/k$r.json.deleting" ] && pending=1
  echo "#    delete round $r: kill at ${ms} ms, killed=$killed, still listed=$listed, midway=$pending"
  run $T "$FERRY" snapshot delete b k$r
  if [ "$rc" = 0 ] || { [ "$rc" = 3 ] && [ "$listed" = 0 ] && [ "$pending" = 0 ]; }; then
    ok "delete round $r: the retry finishes it (exit $rc)"
  else bad "delete round $r: the retry finishes it" "exit $rc: $err"; fi
  same "delete round $r: gone" "$("$FERRY" snapshot list b --json | jq -r --arg n "k$r" 'map(select(.name == $n)) | length')" 0
  check "delete round $r: the others verify" $T "$FERRY" snapshot verify b
done
same "after the deletes: the repository holds exactly the chunks it needs" \
  "$(held "$R" | sha256sum)" "$(needed "$R" | sha256sum)"
[ -z "$(ls -A "$R/locks")" ] && ok "no lock files left" || bad "no lock files left" "$(ls "$R/locks")"
[ ! -e "$R/lock" ] && ok "no writer lock left" || bad "no writer lock left"

# ------------------------------------------------------------ kill -9 restore
for r in $(seq 1 "$ROUNDS"); do
  ms=$((5 + RANDOM % 100))
  "$FERRY" snapshot restore b s2 --indices default.profile --quiet \
    --rename-pattern 'profile$' --rename-replacement "rr$r" >/dev/null 2>&1 &
  bg=$!; pause "$ms"
  if kill -9 "$bg" 2>/dev/null; then killed=1; else killed=0; fi
  wait "$bg" 2>/dev/null; bg=""
  done_=$($T "$FERRY" index list --json | jq -r --arg a "default.rr$r" 'map(select(.alias == $a)) | length')
  echo "#    restore round $r: kill at ${ms} ms, killed=$killed, finished=$done_, $(count v0_7_1.default.rr$r) docs"
  if [ "$done_" = 0 ]; then
    check "restore round $r: run again" $T "$FERRY" snapshot restore b s2 --quiet \
      --indices default.profile --rename-pattern 'profile$' --rename-replacement "rr$r"
  fi
  same "restore round $r: content == s2" "$(hash_of default.rr$r)" "$s2_hash"
  check "restore round $r: drop it" $T "$FERRY" index delete v0_7_1.default.rr$r
done
for r in $(seq 1 "$ROUNDS"); do
  ms=$((5 + RANDOM % 100))
  D=$TMP/dr-k$r
  env FERRY_DATA="$D" "$FERRY" snapshot restore "$R" s2 --all --quiet >/dev/null 2>&1 &
  bg=$!; pause "$ms"
  if kill -9 "$bg" 2>/dev/null; then killed=1; else killed=0; fi
  wait "$bg" 2>/dev/null; bg=""
  in_dir "$D" "$FERRY" status >/dev/null 2>&1; st=$?
  echo "#    restore --all round $r: kill at ${ms} ms, killed=$killed, status exit $st"
  if [ "$st" != 0 ]; then
    same "restore --all round $r: a half restore is uninitialised to others" "$st" 5
    check "restore --all round $r: run again" in_dir "$D" $T "$FERRY" snapshot restore "$R" s2 --all --quiet
  fi
  same "restore --all round $r: content == s2" "$(hash_in "$D" profile)" "$s2_hash"
  rm -rf "$D"
done
check "verify everything at the end" $T "$FERRY" snapshot verify b
finish
