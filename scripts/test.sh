#!/usr/bin/env bash
# The one test command (README "Run all tests"; .ci/run calls it): set-up, static checks, unit and render tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"

step() { printf '\n=== %s\n' "$*"; }
step "yamllint"
yamllint --strict .
step "ansible-lint (production profile, offline)"
ansible-lint --nocolor
step "molecule syntax (the kind scenario itself needs Docker; see .github/workflows/ci.yml)"
molecule syntax -s default >/dev/null
step "ansible-test sanity"
bash scripts/sanity.sh
step "pytest: unit and render tests"
pytest "$@"
