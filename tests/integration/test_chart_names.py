"""The cluster-scoped objects the model plans for each mesh (what the pre-flight checks for collisions) are exactly
those real istioctl renders from the IstioOperators the collection writes: every role of every cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import subprocess

import pytest
import yaml

from conftest import REPO, ansible_playbook, harness

INVENTORIES = os.path.join(REPO, "tests", "render", "inventories")
KINDS = ("ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def generated(istioctl, iop_file):
    """{revision: {(kind, name)}} of the cluster-scoped objects istioctl manifest generate renders per IstioOperator."""
    found = {}
    with open(iop_file) as handle:
        iops = [d for d in yaml.safe_load_all(handle) if d and d.get("kind") == "IstioOperator"]
    for index, iop in enumerate(iops):
        single = "{0}.{1}.yaml".format(iop_file, index)
        with open(single, "w") as handle:
            yaml.safe_dump(iop, handle)
        proc = subprocess.run([istioctl, "manifest", "generate", "-f", single], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        found[iop["spec"]["revision"]] = set(
            (o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(proc.stdout)
            # istiod-default-validator (the base chart's, for the default mesh) is planned by istioctl_install.
            if o and o["kind"] in KINDS and o["metadata"]["name"] != "istiod-default-validator")
    return found


@pytest.mark.parametrize("inventory,extra", [
    ("three-mesh-istioctl.yml", ["-e", "multimesh_default_mesh=usergroup-2"]),
    ("multicluster-gateway.yml", []),
])
def test_planned_cluster_objects_are_what_istioctl_renders(tmp_path, inventory, extra):
    istioctl = os.path.join(harness.build(), "istioctl")
    path = os.path.join(INVENTORIES, inventory)
    extra = ["-e", "multimesh_render_dir=" + str(tmp_path / "render")] + extra
    run = ansible_playbook(os.devnull, os.path.join(REPO, "playbooks", "site.yml"), "-i", path, *extra)
    assert run.rc == 0, run.out
    (tmp_path / "models").mkdir()
    run = ansible_playbook(os.devnull, os.path.join(REPO, "tests", "integration", "playbooks", "model.yml"), "-i", path,
                           "-e", "out_dir=" + str(tmp_path / "models"), *extra)
    assert run.rc == 0, run.out
    compared = []
    for model_file in sorted(glob.glob(str(tmp_path / "models" / "*.json"))):
        with open(model_file) as handle:
            model = json.load(handle)
        render_dir = model["render_dir"]
        for iop_file in sorted(glob.glob(os.path.join(render_dir, "istioctl", "2*.yaml"))):
            for revision, objects in generated(istioctl, iop_file).items():
                mesh = [m for m in model["meshes"] if m["revision"] == revision]
                assert len(mesh) == 1, (iop_file, revision)
                planned = set((o["kind"], o["name"]) for o in mesh[0]["cluster_objects"])
                assert planned == objects, (model["cluster"]["name"], mesh[0]["name"], mesh[0]["role"])
                compared.append((model["cluster"]["name"], mesh[0]["role"]))
    # Every role the inventory places was compared, each with something to compare.
    roles = set(role for dummy, role in compared)
    assert roles == ({"primary"} if inventory.startswith("three") else {"primary", "external", "config", "remote"})
    assert len(compared) == (3 if inventory.startswith("three") else 4)
