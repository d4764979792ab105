# tests/cli/upgrade_lib.sh - helpers the upgrade suites share. Source it
# after lib.sh; it expects $T (a timeout prefix) and $TMP.
#   run CMD...     runs CMD: stdout in $out, stderr in $err, exit in $rc
#   use NAME       FERRY_DATA=$TMP/NAME
#   fresh NAME     a copy of $TMP/base as $TMP/NAME, made current
#   hashes V       every index of data version V: "name docs sha256"
#   listing        indices with alias and docs, one JSON line
#   resolve ALIAS  the physical index ALIAS points at
#   release        "release data_version" of the active version
run() { out=$("$@" 2>"$TMP/.err"); rc=$?; err=$(cat "$TMP/.err"); }
use() { export FERRY_DATA=$TMP/$1; }
fresh() { rm -rf "${TMP:?}/$1"; cp -a "$TMP/base" "$TMP/$1"; use "$1"; }
hashes() {
  $T "$FERRY" index list --json | jq -r --arg v "$1" \
    '.[] | select(.version == $v) | "\(.index) \(.docs)"' |
  while read -r ix n; do
    echo "$ix $n $($T "$FERRY" export "$ix" --quiet | sha256sum | cut -c1-64)"
  done
}
listing() { $T "$FERRY" index list --json | jq -c 'map({index, alias, docs})'; }
resolve() { $T "$FERRY" index list --json | jq -r --arg a "$1" '.[] | select(.alias == $a) | .index'; }
release() { $T "$FERRY" status --json | jq -r '"\(.release) \(.data_version)"'; }
