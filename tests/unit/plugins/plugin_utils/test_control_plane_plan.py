"""The control planes' plan: one order of steps, the same on every cluster (so that each step runs on all hosts
together); removal is installation reversed; each cluster's model says what it does at each step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.control_plane_plan import control_plane_plan, control_plane_steps
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

THREE = [{"host": name, "name": name, "network": "net-1", "access": ["", name]} for name in ("east", "west", "central")]
MESHES = [
    {"name": "mesh-pr", "namespace": "istio-system-pr", "members": ["app-pr"], "topology": "primary-remote",
     "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"}, {"name": "west", "role": "remote"}]},
    {"name": "mesh-rb", "namespace": "istio-system-rb", "members": ["app-rb"], "clusters": ["east"],
     "update_strategy": {"type": "RevisionBased"}},
    {"name": "mesh-ext", "namespace": "external-istiod", "members": ["app-ext"], "topology": "external",
     "clusters": [{"name": "central", "role": "external", "address": "192.0.2.30"}, {"name": "east", "role": "config"},
                  {"name": "west", "role": "remote"}]},
]


def plan(here, state, backend="sail", **kwargs):
    """The steps this cluster runs, in order, with their meshes."""
    model = build_model(meshes=copy.deepcopy(MESHES), clusters=copy.deepcopy(THREE), here=here, backend=backend, **kwargs)
    mine = control_plane_plan(model, state)
    return [(step["name"], tuple(mine[step["name"]])) for step in control_plane_steps(state) if step["name"] in mine]


def test_installation_order_on_each_cluster():
    assert plan("east", "present") == [
        ("cacerts", ("mesh-pr",)),
        ("20-control-plane", ("mesh-pr", "mesh-rb")),
        ("tag_wait", ("mesh-rb",)),
        ("21-remote-control-plane", ("mesh-ext",)),
        ("remote_secrets", ("mesh-pr",)),  # mesh-ext's secrets live with its external istiod
        ("23-gateways", ("mesh-pr",))]
    assert plan("central", "present") == [
        ("cacerts", ("mesh-ext",)), ("remote_secrets", ("mesh-ext",)),
        ("22-external-control-plane", ("mesh-ext",)), ("23-gateways", ("mesh-ext",))]
    # A remote runs no istiod: no CA, no secret of its own to hand out.
    assert plan("west", "present") == [("21-remote-control-plane", ("mesh-pr", "mesh-ext"))]


def test_every_cluster_gets_the_same_steps_so_that_each_runs_on_all_hosts_together():
    """Ansible runs one include for all hosts only when its loop item is the same on each: the steps carry nothing
    of one cluster. (Items that differed let east write its remote secrets before west had made their namespace.)"""
    for state in ("present", "absent"):
        steps = control_plane_steps(state)
        assert steps == control_plane_steps(state) and all(set(s) == {"name", "file", "label", "wait", "template"}
                                                           for s in steps)
    assert [s["name"] for s in control_plane_steps("present")] == [
        "cacerts", "20-control-plane", "tag_wait", "21-remote-control-plane", "remote_secrets",
        "22-external-control-plane", "23-gateways"]


def test_removal_is_the_installation_reversed_without_waiting_for_tags():
    install = [s for s in plan("east", "present") if s[0] != "tag_wait"]
    assert plan("east", "absent") == list(reversed(install))
    assert plan("central", "absent") == list(reversed(plan("central", "present")))
    assert [s["name"] for s in control_plane_steps("absent")] == [
        "23-gateways", "22-external-control-plane", "remote_secrets", "21-remote-control-plane", "earlier_revisions",
        "20-control-plane", "cacerts"]


def test_istioctl_removes_earlier_revisions_just_before_the_current_one_and_waits_for_no_tag():
    removal = plan("east", "absent", backend="istioctl")
    at = removal.index(("20-control-plane", ("mesh-pr", "mesh-rb")))
    assert removal[at - 1] == ("earlier_revisions", ("mesh-rb",))
    assert "tag_wait" not in [s[0] for s in plan("east", "present", backend="istioctl")]
    assert "earlier_revisions" not in [s[0] for s in plan("east", "absent")]  # Sail retires them itself


def test_render_mode_plans_only_the_stages():
    rendered = plan("east", "present", render_dir="/tmp/render")
    assert [s[0] for s in rendered] == ["20-control-plane", "tag_wait", "21-remote-control-plane", "23-gateways"]
    assert "earlier_revisions" not in [s[0] for s in plan("east", "absent", backend="istioctl", render_dir="/tmp/render")]


def test_a_stage_names_its_task_file_template_and_whether_it_waits():
    stages = dict((s["name"], s) for s in control_plane_steps("present") if s["file"] == "stage.yml")
    assert [(name, s["wait"], s["template"]) for name, s in stages.items()] == [
        ("20-control-plane", True, None), ("21-remote-control-plane", False, None),
        ("22-external-control-plane", True, None), ("23-gateways", False, "gateways.yml.j2")]
    model = build_model(meshes=copy.deepcopy(MESHES), clusters=copy.deepcopy(THREE), here="east")
    for wrong in (lambda: control_plane_steps("latest"), lambda: control_plane_plan(model, "latest")):
        with pytest.raises(ValueError):
            wrong()
