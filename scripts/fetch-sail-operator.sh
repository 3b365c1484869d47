#!/usr/bin/env bash
# Download the Sail Operator's source at the commit the project's shared/sail-operator snapshot holds, into
# build/sail-operator, for machines that reach GitHub and have no copy of the snapshot (tests/harness/harness.py
# sail_operator_source() finds it there). The tree is checked against the snapshot's pinned sha256 (every kept file
# but go.mod and go.sum); those two come from tests/harness/sail-operator/, whose replace lines pin modules the Go
# module proxy serves (the snapshot's SNAPSHOT.md says which and why).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
commit=328df99dc9fc973a7dd0c6442145dc86459a1481
# sha256 of `sha256sum` over the kept files in path order (see tree_sum below), as measured on the snapshot.
tree_sha256=eeb0e85947d9bdcf3249dfa5a0935e3d9ce1700f0749be3538f46dcce2d34587
kept=(api cmd controllers pkg resources chart LICENSE)
dest="$root/build/sail-operator"

tree_sum() {
  (cd "$1" && find "${kept[@]}" -type f ! -path 'chart/samples/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

if [ -f "$dest/go.mod" ] && [ "$(tree_sum "$dest")" = "$tree_sha256" ]; then
  echo "fetch-sail-operator: $dest is already the pinned source"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 3 -o "$work/src.tar.gz" "https://codeload.github.com/istio-ecosystem/sail-operator/tar.gz/$commit"
mkdir "$work/src"
tar -xzf "$work/src.tar.gz" -C "$work/src" --strip-components=1
rm -rf "$work/src/chart/samples"
got=$(tree_sum "$work/src")
if [ "$got" != "$tree_sha256" ]; then
  echo "fetch-sail-operator: the source of $commit has sha256 $got, not the pinned $tree_sha256" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
(cd "$work/src" && cp -r "${kept[@]}" "$dest/")
cp "$root/tests/harness/sail-operator/go.mod" "$root/tests/harness/sail-operator/go.sum" "$dest/"
echo "fetch-sail-operator: the Sail Operator's source ($commit) in $dest"
