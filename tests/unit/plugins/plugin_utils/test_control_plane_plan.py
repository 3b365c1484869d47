"""control_plane_plan: one order for the control planes of a cluster; removal is installation reversed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.control_plane_plan import control_plane_plan
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
    model = build_model(meshes=copy.deepcopy(MESHES), clusters=copy.deepcopy(THREE), here=here, backend=backend, **kwargs)
    return [(s["step"], s.get("stage"), tuple(s.get("meshes") or ())) for s in control_plane_plan(model, state)]


def test_installation_order_on_each_cluster():
    assert plan("east", "present") == [
        ("cacerts", None, ()),
        ("stage", "20-control-plane", ("mesh-pr", "mesh-rb")),
        ("tag_wait", None, ("mesh-rb",)),
        ("stage", "21-remote-control-plane", ("mesh-ext",)),
        ("remote_secrets", None, ()),
        ("stage", "23-gateways", ("mesh-pr",))]
    assert plan("central", "present") == [
        ("cacerts", None, ()), ("remote_secrets", None, ()),
        ("stage", "22-external-control-plane", ("mesh-ext",)), ("stage", "23-gateways", ("mesh-ext",))]
    # A remote runs no istiod: no CA, no secret of its own to hand out.
    assert plan("west", "present") == [("stage", "21-remote-control-plane", ("mesh-pr", "mesh-ext"))]


def test_removal_is_the_installation_reversed_without_waiting_for_tags():
    install = [s for s in plan("east", "present") if s[0] != "tag_wait"]
    assert plan("east", "absent") == list(reversed(install))
    assert plan("central", "absent") == list(reversed(plan("central", "present")))


def test_istioctl_removes_earlier_revisions_just_before_the_current_one_and_waits_for_no_tag():
    removal = plan("east", "absent", backend="istioctl")
    at = removal.index(("stage", "20-control-plane", ("mesh-pr", "mesh-rb")))
    assert removal[at - 1] == ("earlier_revisions", None, ())
    assert "tag_wait" not in [s[0] for s in plan("east", "present", backend="istioctl")]


def test_render_mode_plans_only_the_stages():
    rendered = plan("east", "present", render_dir="/tmp/render")
    assert [s[0] for s in rendered] == ["stage", "tag_wait", "stage", "stage"]
    assert "earlier_revisions" not in [s[0] for s in plan("east", "absent", backend="istioctl", render_dir="/tmp/render")]


def test_a_stage_names_its_template_and_whether_it_waits():
    model = build_model(meshes=copy.deepcopy(MESHES), clusters=copy.deepcopy(THREE), here="east")
    stages = dict((s["stage"], s) for s in control_plane_plan(model, "present") if s["step"] == "stage")
    assert [(s["wait"], s["template"]) for s in stages.values()] == [(True, None), (False, None), (False, "gateways.yml.j2")]
    with pytest.raises(ValueError):
        control_plane_plan(model, "latest")
