"""README.md's variable tables are the ones generated from the roles' argument specs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_readme_tables_match_argument_specs():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "argspec_tables.py"), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_readme_documents_every_inventory_variable():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    for name in ("multimesh_backend", "multimesh_istio_version", "multimesh_cni", "multimesh_meshes",
                 "multimesh_meshes[].discovery_labels", "multimesh_samples", "multimesh_render_dir",
                 "multimesh_kubeconfig", "multimesh_context", "multimesh_istioctl_path"):
        assert "| `{0}` |".format(name) in readme


def test_every_role_has_a_readme_with_its_variables():
    """Galaxy shows each role's README, and its importer refuses a collection with a role without one (issue 29)."""
    import yaml

    roles = sorted(os.listdir(os.path.join(ROOT, "roles")))
    assert len(roles) == 9, roles
    for role in roles:
        with open(os.path.join(ROOT, "roles", role, "README.md")) as handle:
            readme = handle.read()
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        assert readme.startswith("# multimesh.istio.{0}\n".format(role)), role
        for spec in specs.values():
            for name in spec.get("options") or {}:
                assert "| `{0}` |".format(name) in readme, (role, name)
        assert "    - role: multimesh.istio.{0}".format(role) in readme, role
