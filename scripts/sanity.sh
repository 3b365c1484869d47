#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/multimesh/istio: run it on a copy of the
# repository's files (tracked and new, not ignored) under build/sanity/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/build/sanity/ansible_collections/multimesh/istio"
rm -rf "$root/build/sanity"
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$dest")
# Dependencies beside it, where ansible-test looks for them (modules use kubernetes.core's doc fragment and arg spec).
cp -a "$root/build/collections/ansible_collections/kubernetes" "$root/build/sanity/ansible_collections/"
cd "$dest"
# The copy sits inside this repository's ignored build/: give it its own git index so ansible-test lists its files.
git init -q && git add -A
export PATH="$root/.venv/bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ansible-test sanity --python 3.11 --color no "$@" 2>&1 | tee "$log"
# A sanity test whose tool is missing is skipped with only a warning: treat that as a failure.
if grep -E 'Required program .* not found|Skipping sanity test' "$log"; then
  echo "sanity: a test was skipped for a missing tool (see above)" >&2
  exit 1
fi
