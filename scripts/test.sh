#!/usr/bin/env bash
# The one test command (README; .ci/run calls it): set-up, static checks, unit, render and integration tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Each step's wall time goes to build/test-times/steps.tsv; at exit, pass or fail, scripts/test_times.py prints the
# table of steps and pytest modules and keeps it in build/test-times.json.
rm -rf build/test-times build/test-times.json
mkdir -p build/test-times
current="" started=0
finish_step() {
  if [ -n "$current" ]; then
    printf '%s\t%s\n' "$current" "$(( $(date +%s%N) / 1000000 - started ))e-3" >> build/test-times/steps.tsv
  fi
  current=""
}
step() { finish_step; current="$*" started=$(( $(date +%s%N) / 1000000 )); printf '\n=== %s\n' "$*"; }
report() { finish_step; "$root/.venv/bin/python" scripts/test_times.py || true; }
trap report EXIT

step "setup (scripts/setup.sh)"
bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
# Tools (molecule through ansible-compat) install a copy of the collection under ANSIBLE_HOME: keep it in build/
# and start empty, so that no stale copy in ~/.ansible shadows the working tree.
export ANSIBLE_HOME="$root/build/ansible-home"
rm -rf "$ANSIBLE_HOME"

step "upstream CRDs (tests/render/upstream_data.py: MULTIMESH_UPSTREAM_DIR, ../shared/upstream, build/upstream)"
python tests/render/upstream_data.py
step "yamllint"
yamllint --strict .
step "ansible-lint (production profile, offline)"
ansible-lint --nocolor
step "molecule syntax (the kind scenario itself needs Docker; see .github/workflows/ci.yml)"
molecule syntax -s default >/dev/null
molecule syntax -s multicluster >/dev/null
molecule syntax -s upgrade >/dev/null
step "antsibull-changelog lint (changelog fragments)"
antsibull-changelog lint
step "ansible-test sanity"
bash scripts/sanity.sh
step "test harness: build (or reuse) etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, istioctl, pilot-discovery and the Sail Operator"
python tests/harness/harness.py build --sail
step "pytest: unit, render and integration tests (integration: a real API server on loopback)"
# Two workers (pytest-xdist), each test module whole on one (its module-scoped clusters): the integration tests wait
# on API servers and istiods about half the time, so a second worker uses the idle core. Longest modules first
# (tests/timing/module-seconds.json). MULTIMESH_TEST_WORKERS=0 runs them in this process.
pytest -n "${MULTIMESH_TEST_WORKERS:-2}" --dist loadfile "$@"
