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
