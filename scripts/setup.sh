#!/usr/bin/env bash
# Prepare everything the collection and its tests need, from PyPI only (Galaxy is not reachable):
#   .venv/                         Python 3.11 venv with the pinned tools of requirements/test.txt
#   build/collections/             ANSIBLE_COLLECTIONS_PATH: this collection (symlink) + kubernetes.core, awx.awx
#   ~/.ansible/test/cache/         offline stand-in for the get-pip script ansible-test downloads
# Idempotent: a second run only checks.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (ansible-core 2.19), found %s" % sys.version' \
  || { echo "setup: need Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
stamp=.venv/.requirements.sha256
# The collections taken from the bundle: kubernetes.core (a dependency) and awx.awx (its modules' documented options
# validate the AWX configuration-as-code example, tests/unit/test_awx.py).
bundled="kubernetes/core awx/awx"
want=$( (cat requirements/test.txt requirements/bundle.in; echo "$bundled") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned Python tools (requirements/test.txt)"
  .venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements/test.txt
  rm -rf build/bundle
  echo "setup: fetching kubernetes.core from the PyPI 'ansible' bundle (requirements/bundle.in)"
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps --target build/bundle -r requirements/bundle.in
  for collection in $bundled; do
    rm -rf "build/collections/ansible_collections/$collection"
    mkdir -p "build/collections/ansible_collections/${collection%/*}"
    cp -a "build/bundle/ansible_collections/$collection" "build/collections/ansible_collections/$collection"
  done
  rm -rf build/bundle
  echo "$want" > "$stamp"
fi

# This repository is the collection: expose it under its FQCN.
mkdir -p build/collections/ansible_collections/multimesh
ln -sfn "$root" build/collections/ansible_collections/multimesh/istio

# ansible-test bootstraps pip in its sanity venvs with a downloaded get-pip script; offline, a stand-in
# that uses ensurepip and then pip from PyPI does the same job.
pip_version=$(.venv/bin/python -c 'import types; from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(types.SimpleNamespace(version="3.11"))["pip"])')
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! cmp -s scripts/get_pip_standin.py "$cache" 2>/dev/null; then
  mkdir -p "$(dirname "$cache")"
  cp scripts/get_pip_standin.py "$cache"
fi
echo "setup: ready (ansible-core $(.venv/bin/python -c 'import ansible.release as r; print(r.__version__)'), kubernetes.core $(.venv/bin/python -c 'import json; print(json.load(open("build/collections/ansible_collections/kubernetes/core/MANIFEST.json"))["collection_info"]["version"])'))"
