"""The documented inventory schema (roles/model/meta/argument_specs.yml) matches what the model plugin accepts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.plugin_utils import mesh_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spec():
    with open(os.path.join(ROOT, "roles", "model", "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["inventory"]["options"]


def test_the_model_reads_its_inputs_from_the_spec():
    assert mesh_model.inventory_spec() == spec()
    inputs = mesh_model.model_inputs(spec())
    # Every keyword of build_model is a documented variable; the others (cluster access, verification) are read
    # by the playbooks, not the model.
    assert sorted(inputs.values()) == sorted(mesh_model.build_model.__code__.co_varnames[
        :mesh_model.build_model.__code__.co_argcount])
    assert "multimesh_kubeconfig" not in inputs and "multimesh_istioctl_path" not in inputs


def unknown_key_message(**inventory):
    """The 'Allowed keys' an unknown key's error lists."""
    with pytest.raises(mesh_model.ModelError) as error:
        mesh_model.build_model(**inventory)
    return [e.split("keys: ")[1][:-1].split(", ") for e in error.value.errors if "unknown key" in e][0]


def test_the_model_allows_the_documented_keys_in_the_documented_order():
    options = spec()
    mesh = {"name": "a", "namespace": "b", "typo": 1}
    assert unknown_key_message(meshes=[mesh]) == list(options["multimesh_meshes"]["options"])
    assert unknown_key_message(meshes=[{"name": "a", "namespace": "b", "ingress_gateway": {"typo": 1}}]) == \
        list(options["multimesh_meshes"]["options"]["ingress_gateway"]["options"])
    assert unknown_key_message(meshes=[{"name": "a", "namespace": "b"}], cni={"typo": 1}) == \
        list(options["multimesh_cni"]["options"])
    assert unknown_key_message(meshes=[{"name": "a", "namespace": "b"}], sail_operator={"typo": 1}) == \
        list(options["multimesh_sail_operator"]["options"])


def test_documented_choices_and_defaults_are_the_models():
    options = spec()
    mesh = options["multimesh_meshes"]["options"]
    model = mesh_model.build_model(meshes=[{"name": "a", "namespace": "b", "ingress_gateway": {}}])
    assert model["backend"] == options["multimesh_backend"]["default"]
    assert model["istio_version"] == options["multimesh_istio_version"]["default"]
    assert model["meshes"][0]["mtls_mode"] == mesh["mtls_mode"]["default"]
    assert model["cni"]["namespace"] == options["multimesh_cni"]["options"]["namespace"]["default"]
    assert [p["port"] for p in model["meshes"][0]["ingress_gateway"]["ports"][1:]] == \
        [p["port"] for p in mesh["ingress_gateway"]["options"]["ports"]["default"]]
    assert mesh["samples"]["choices"] == options["multimesh_samples"]["choices"]
    for name in mesh["samples"]["choices"]:
        assert name in mesh["samples"]["description"]
    with pytest.raises(mesh_model.ModelError, match="use one of sleep, curl, httpbin, helloworld"):
        mesh_model.build_model(meshes=[{"name": "a", "namespace": "b"}], samples=["typo"])


def test_main_entry_point_adds_no_generic_validation():
    """The inventory variables are not under 'main' (generic validation would pre-empt the model's messages); only
    the role's own knob model_versions is, which the plugin checks against the inventory itself."""
    with open(os.path.join(ROOT, "roles", "model", "meta", "argument_specs.yml")) as handle:
        assert sorted(yaml.safe_load(handle)["argument_specs"]["main"]["options"]) == ["model_versions"]
