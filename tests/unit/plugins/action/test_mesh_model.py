"""The mesh_model action plugin: publishes the model as a fact, fails with every problem, never contacts a host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from unittest.mock import MagicMock

import pytest

from ansible_collections.multimesh.istio.plugins.action.mesh_model import ActionModule

MESHES = [{"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]},
          {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2"]}]


ACCESS_DEFAULTS = [{"group/multimesh.istio.cluster": {"kubeconfig": "{{ multimesh_kubeconfig }}",
                                                      "context": "{{ multimesh_context }}"},
                    "group/multimesh.istio.istioctl": {"istioctl_path": "{{ multimesh_istioctl_path }}"}}]


def run(args, task_vars=None, module_defaults=None):
    task = MagicMock()
    task.args = args
    task.module_defaults = module_defaults or []
    task.async_val = 0
    task.check_mode = False
    connection = MagicMock()
    action = ActionModule(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._load_name = "multimesh.istio.mesh_model"  # as the plugin loader sets it
    # An inventory file as ansible-playbook -i gives every host (its name is the default multimesh_owner).
    task_vars = dict({"inventory_file": "/srv/inventories/unit.yml", "inventory_dir": "/srv/inventories"},
                     **(task_vars or {}))
    result = action.run(task_vars=task_vars)
    assert not connection.method_calls, "the plugin must not use the connection"
    return result


def test_publishes_the_expanded_model_from_the_hosts_variables():
    result = run({}, {"multimesh_meshes": MESHES, "multimesh_samples": ["sleep"], "inventory_hostname": "c1"})
    assert not result.get("failed"), result
    model = result["ansible_facts"]["multimesh_model"]
    assert [m["revision"] for m in model["meshes"]] == ["mesh-1", "mesh-2"]
    assert model["meshes"][0]["samples"] == ["sleep"]
    assert result["changed"] is False
    assert result["msg"].startswith("2 mesh(es) valid, backend sail: mesh-1 (ns istio-system-1, rev mesh-1, 1 member)")


def test_fact_name_can_be_chosen():
    assert "my_model" in run({"fact_name": "my_model"}, {"multimesh_meshes": MESHES})["ansible_facts"]


def test_relative_render_dir_becomes_absolute():
    model = run({}, {"multimesh_meshes": MESHES, "multimesh_render_dir": "out/render"})["ansible_facts"]["multimesh_model"]
    assert model["render_dir"] == os.path.join(os.getcwd(), "out", "render")
    assert model["render"] is True


def test_fails_with_every_problem_including_mistyped_variables():
    result = run({}, task_vars={"multimesh_meshes": [dict(MESHES[0], mtls_mode="OFF")], "multimesh_mehses": []})
    assert result["failed"] is True
    assert [e.split(":")[0] for e in result["errors"]] == ["variable multimesh_mehses", "mesh 'mesh-1'.mtls_mode"]
    assert result["msg"].startswith("Invalid multimesh inventory (2 problems):")
    assert "ansible_facts" not in result


def test_cluster_access_is_not_part_of_the_model():
    access = {"multimesh_meshes": MESHES, "multimesh_kubeconfig": "/k", "multimesh_context": "c",
              "multimesh_istioctl_path": "/bin/istioctl"}
    model = run({}, access, ACCESS_DEFAULTS)["ansible_facts"]["multimesh_model"]
    assert not set(model) & {"kubeconfig", "context", "istioctl_path"}


def test_cluster_access_variables_without_module_defaults_to_pass_them_on_fail():
    """In a play of one's own they would be ignored, and the run would go to the environment's cluster."""
    result = run({}, {"multimesh_meshes": MESHES, "multimesh_kubeconfig": "/k", "multimesh_istioctl_path": "/i"},
                 [{"group/multimesh.istio.cluster": {"context": "c"}}])
    assert result["failed"] is True
    assert [e.split(":")[0] for e in result["errors"]] == ["variable multimesh_kubeconfig", "variable multimesh_istioctl_path"]
    assert "Fix: add module_defaults: {group/multimesh.istio.cluster: {kubeconfig:" in result["errors"][0]


def test_an_empty_render_dir_means_apply():
    model = run({}, {"multimesh_meshes": MESHES, "multimesh_render_dir": ""})["ansible_facts"]["multimesh_model"]
    assert model["render"] is False


@pytest.mark.parametrize("args", [{"meshes": MESHES}, {"kube_config": "x"}])
def test_unsupported_parameters_fail(args):
    result = run(args)
    assert result["failed"] is True
    assert result["msg"].startswith("Unsupported parameters for (multimesh.istio.mesh_model) module: {0}.".format(list(args)[0]))
    assert "read from the host's variables (multimesh_*)" in result["msg"]


# ------------------------------------------------------------------ multimesh_owner's default (tenant issue, point 2)

def owner_of(**task_vars):
    result = run({}, dict({"multimesh_meshes": MESHES}, **task_vars))
    assert not result.get("failed"), result
    return result["ansible_facts"]["multimesh_model"]["owner"]


def test_the_owner_defaults_to_the_inventorys_file_or_directory_name():
    assert owner_of(inventory_file="/srv/x/two-mesh.yml", inventory_dir="/srv/x") == "two-mesh"
    assert owner_of(inventory_file="/srv/inventories/example/hosts.yml",
                    inventory_dir="/srv/inventories/example") == "example"


def test_under_awx_every_inventory_gets_an_owner_of_its_own():
    """AWX writes each job's inventory to inventory/hosts: the file names no inventory, AWX's inventory id does."""
    awx = {"inventory_file": "/runner/inventory/hosts", "inventory_dir": "/runner/inventory"}
    team_a = owner_of(awx_inventory_id=7, awx_inventory_name="Team A", **awx)
    team_b = owner_of(awx_inventory_id="12", awx_inventory_name="Team B", **awx)
    assert (team_a, team_b) == ("awx-7", "awx-12")
    assert owner_of(tower_inventory_id=3, **awx) == "awx-3"
    assert owner_of(awx_inventory_id=7, multimesh_owner="team-a", **awx) == "team-a"


@pytest.mark.parametrize("inventory_file,inventory_dir,name", [
    ("/runner/inventory/hosts", "/runner/inventory", "inventory"),      # AWX, without its variables
    ("/etc/ansible/hosts", "/etc/ansible", "ansible"),                   # Ansible's default inventory
    ("/srv/inventory/hosts.yml", "/srv/inventory", "inventory"),
    ("/srv/inventories/inventory.yml", "/srv/inventories", "inventories"),
    ("/srv/project/Hosts.ini", "/srv/project/hosts", "hosts"),
    (None, None, "default"),                                             # no inventory file
])
def test_a_generic_default_owner_is_refused_before_any_change(inventory_file, inventory_dir, name):
    result = run({}, {"multimesh_meshes": MESHES, "inventory_file": inventory_file, "inventory_dir": inventory_dir})
    assert result["failed"] is True and "ansible_facts" not in result
    assert len(result["errors"]) == 1, result["errors"]
    error = result["errors"][0]
    assert error.startswith("multimesh_owner: unset, and the inventory's name it would default to, {0!r}".format(name))
    assert "Fix: set multimesh_owner to a name of this inventory's own" in error


def test_a_generic_inventory_name_with_multimesh_owner_set_is_fine():
    assert owner_of(inventory_file="/runner/inventory/hosts", inventory_dir="/runner/inventory",
                    multimesh_owner="team-a") == "team-a"


def test_an_awx_inventory_id_that_is_no_id_is_refused():
    result = run({}, {"multimesh_meshes": MESHES, "awx_inventory_id": "7; rm", "inventory_file": "/runner/inventory/hosts",
                      "inventory_dir": "/runner/inventory"})
    assert result["failed"] is True
    assert result["errors"][0].startswith("multimesh_owner: unset, and awx_inventory_id '7; rm' is not an AWX inventory id")
