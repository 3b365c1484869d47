#!/usr/bin/env bash
# Prepare the environment and run playbooks/site.yml with the example inventory.
#   MULTIMESH_RENDER_DIR=dir   render every manifest into dir, apply nothing
#   KUBECONFIG=file            (without MULTIMESH_RENDER_DIR) converge that cluster
#   neither                    render into build/render and say so
# Extra arguments go to ansible-playbook (e.g. --check --diff, -i other-inventory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
caller=$PWD

# Relative paths are the caller's: make them absolute before leaving for the repository root.
absolute() {
  local path out="" sep=""
  IFS=: read -ra parts <<< "$1"
  for path in "${parts[@]}"; do
    case "$path" in /*|"") ;; *) path="$caller/$path" ;; esac
    out="$out$sep$path"; sep=:
  done
  printf '%s' "$out"
}
for var in KUBECONFIG K8S_AUTH_KUBECONFIG MULTIMESH_RENDER_DIR; do
  if [ -n "${!var:-}" ]; then
    export "$var=$(absolute "${!var}")"
  fi
done
cd "$root"
bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"

render_dir=${MULTIMESH_RENDER_DIR:-}
kubeconfig=${K8S_AUTH_KUBECONFIG:-${KUBECONFIG:-}}
if [ -z "$render_dir" ] && [ -z "$kubeconfig" ]; then
  render_dir="$root/build/render"
  echo "site: no KUBECONFIG set, so nothing is applied: rendering into $render_dir"
  echo "site: set KUBECONFIG to converge a cluster, or MULTIMESH_RENDER_DIR to render elsewhere"
fi
args=()
if [ -n "$render_dir" ]; then
  args+=(-e "multimesh_render_dir=$render_dir")
else
  echo "site: converging the cluster of $kubeconfig"
fi
exec ansible-playbook playbooks/site.yml "${args[@]}" "$@"
