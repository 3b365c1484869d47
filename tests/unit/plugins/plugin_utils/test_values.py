"""The values pipeline (plugin_utils/values.py): each mesh's Helm values, computed once into the model, in order -
the user's, multicluster, platform, CNI (a default), then what the model enforces."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils import values as pipeline
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import control_plane_values, deep_merge, istio_operator_values

MODEL = build_model(meshes=[
    {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]},
    {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2", "app-ns-3"],
     "values": {"pilot": {"env": {"A": "1"}}, "meshConfig": {"accessLogFile": "/dev/stdout"}}},
])


def test_sail_values_merge_keeps_passthrough_and_adds_selectors():
    mesh = MODEL["meshes"][1]
    before = copy.deepcopy(mesh)
    assert control_plane_values(mesh, "sail") == {
        "pilot": {"env": {"A": "1"}},
        "meshConfig": {"accessLogFile": "/dev/stdout",
                       "discoverySelectors": [{"matchLabels": {"istio-discovery": "mesh-2"}}]}}
    assert mesh == before


@pytest.mark.parametrize("backend", ["sail", "istioctl"])
def test_a_mesh_uses_the_shared_cni_when_it_is_enabled_unless_its_own_values_say_otherwise(backend):
    mesh = MODEL["meshes"][1]
    assert control_plane_values(mesh, backend, {"enabled": True})["pilot"] == {"env": {"A": "1"}, "cni": {"enabled": True}}
    assert "cni" not in control_plane_values(mesh, backend, {"enabled": False})["pilot"]
    assert "cni" not in control_plane_values(mesh, backend)["pilot"]
    opted_out = dict(mesh, values={"pilot": {"cni": {"enabled": False, "provider": "multus"}}})
    assert control_plane_values(opted_out, backend, {"enabled": True})["pilot"]["cni"] == {"enabled": False, "provider": "multus"}


def test_istioctl_gets_pilot_cni_in_unvalidated_values_where_its_translation_cannot_overwrite_it():
    """istioctl sets values.pilot.cni.enabled from components.cni.enabled (false: the shared CNI is installed apart)
    and that write reaches the values it was given; spec.unvalidatedValues is merged after it."""
    values = control_plane_values(MODEL["meshes"][1], "istioctl", {"enabled": True})
    before = copy.deepcopy(values)
    split = istio_operator_values(values)
    assert split["unvalidatedValues"] == {"pilot": {"cni": {"enabled": True}}}
    assert split["values"]["pilot"] == {"env": {"A": "1"}} and "cni" not in json.dumps(split["values"])
    assert values == before
    # Nothing to move: nothing unvalidated; a pilot section left empty goes.
    assert istio_operator_values({"global": {"a": 1}}) == {"values": {"global": {"a": 1}}, "unvalidatedValues": {}}
    assert istio_operator_values({"pilot": {"cni": {"enabled": False}}}) == {
        "values": {}, "unvalidatedValues": {"pilot": {"cni": {"enabled": False}}}}


def test_istioctl_values_set_the_istio_namespace():
    expected = {"global": {"istioNamespace": "istio-system-1"}, "defaultRevision": ""}
    assert control_plane_values(MODEL["meshes"][0], "istioctl") == expected
    default = dict(MODEL["meshes"][0], default=True)
    assert control_plane_values(default, "istioctl")["defaultRevision"] == default["revision"]


def test_deep_merge_replaces_lists_and_scalars():
    assert deep_merge({"a": {"b": [1], "c": 1}, "d": 1}, {"a": {"b": [2]}, "d": {"e": 1}}) == {"a": {"b": [2], "c": 1}, "d": {"e": 1}}


def test_the_model_carries_each_meshs_values_computed_once_for_its_backend_platform_and_cni():
    """The roles' templates write mesh.control_plane_values out; nothing rebuilds them."""
    for backend, platform, cni in (("sail", "kubernetes", True), ("istioctl", "openshift", False), ("istioctl", "kubernetes", True)):
        model = build_model(backend=backend, platform=platform, cni={"enabled": cni}, meshes=[
            {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "values": {"pilot": {"env": {"A": "1"}}}}])
        mesh = model["meshes"][0]
        assert mesh["control_plane_values"] == control_plane_values(mesh, backend, model["cni"], platform)
    assert mesh["control_plane_values"] == {"pilot": {"env": {"A": "1"}, "cni": {"enabled": True}},
                                            "global": {"istioNamespace": "istio-system-1"}, "defaultRevision": ""}


def test_istioctl_on_openshift_tells_istios_charts_and_the_user_cannot_say_otherwise():
    mesh = dict(MODEL["meshes"][0], values={"global": {"platform": "k3s", "hub": "mirror"}})
    found = control_plane_values(mesh, "istioctl", None, "openshift")["global"]
    assert found == {"platform": "openshift", "hub": "mirror", "istioNamespace": "istio-system-1"}
    assert control_plane_values(mesh, "istioctl", None, "kubernetes")["global"]["platform"] == "k3s"
    # The Sail Operator knows its platform itself.
    assert control_plane_values(mesh, "sail", None, "openshift")["global"] == {"platform": "k3s", "hub": "mirror"}


def test_the_pipeline_runs_in_order_and_a_default_gives_way_to_what_came_before():
    names = [step.__name__ for step, dummy in pipeline.PIPELINE]
    assert names == ["user_values", "multicluster_values", "platform_values", "cni_values", "enforced_values"]
    assert dict((step.__name__, how) for step, how in pipeline.PIPELINE)["cni_values"] == pipeline.DEFAULT
    # The enforced step wins over anything the user gave (the model also refuses such values before this).
    mesh = copy.deepcopy(dict(MODEL["meshes"][0], values={"meshConfig": {"discoverySelectors": [{"matchLabels": {"x": "y"}}]}}))
    assert control_plane_values(mesh, "sail")["meshConfig"]["discoverySelectors"] == [{"matchLabels": {"istio-discovery": "mesh-1"}}]
