#!/usr/bin/env bash
# Download the upstream CRDs the tests validate against and install (Sail Operator 1.30.3, Istio 1.30.3) into
# build/upstream, each checked against its pinned sha256 - for machines that reach GitHub (hosted CI) and have no
# copy of the project's shared/upstream. tests/render/upstream_data.py finds them there by CRD name.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/build/upstream"
sail=https://raw.githubusercontent.com/istio-ecosystem/sail-operator/1.30.3/chart/crds
istio=https://raw.githubusercontent.com/istio/istio/1.30.3/manifests/charts/base/files
files=(
  "679c6dd941428e7bc429115336db5f376d938351cc3920c8af32462c5d880676 $sail/sailoperator.io_istios.yaml"
  "570b8f8900b7964057e436fb13c2f946e2df6a5e000e103ce30bc916a232e1e7 $sail/sailoperator.io_istiocnis.yaml"
  "b5939341f1c60810618b2165b1423fe65ba3998220730d9cc3cf43a24a463314 $sail/sailoperator.io_istiorevisions.yaml"
  "010d70d4dc09a568afcfa4cf4cb6672cbad84cd2d6f5c96b337de58a22c3ebb6 $sail/sailoperator.io_istiorevisiontags.yaml"
  "dcb43ff6b9af2f629b80b6a82597f5a91db259c757e66cc5353ac007da28351a $istio/crd-all.gen.yaml"
)
mkdir -p "$dest"
for entry in "${files[@]}"; do
  sum=${entry%% *}
  url=${entry#* }
  out="$dest/$(basename "$url")"
  if [ -f "$out" ] && echo "$sum  $out" | sha256sum --check --status; then
    continue
  fi
  tmp=$(mktemp "$dest/.download.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  curl -fsSL --retry 3 -o "$tmp" "$url"
  if ! echo "$sum  $tmp" | sha256sum --check --status; then
    echo "fetch-upstream: $url does not have the pinned sha256 $sum" >&2
    exit 1
  fi
  mv "$tmp" "$out"
  trap - EXIT
done
echo "fetch-upstream: ${#files[@]} CRD files in $dest"
