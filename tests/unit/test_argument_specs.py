"""The documented inventory schema (roles/model/meta/argument_specs.yml) matches what the model plugin accepts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

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


def test_documented_keys_match_the_model():
    options = spec()
    assert sorted(options["multimesh_meshes"]["options"]) == sorted(mesh_model.MESH_KEYS)
    assert sorted(options["multimesh_cni"]["options"]) == sorted(mesh_model.CNI_KEYS)
    assert sorted(options["multimesh_sail_operator"]["options"]) == sorted(mesh_model.SAIL_OPERATOR_KEYS)


def test_documented_choices_and_defaults_match_the_model():
    options = spec()
    mesh = options["multimesh_meshes"]["options"]
    assert options["multimesh_backend"]["choices"] == list(mesh_model.BACKENDS)
    assert options["multimesh_backend"]["default"] == mesh_model.build_model(meshes=[{"name": "a", "namespace": "b"}])["backend"]
    assert options["multimesh_istio_version"]["default"] == mesh_model.DEFAULT_ISTIO_VERSION
    assert mesh["mtls_mode"]["choices"] == list(mesh_model.MTLS_MODES)
    assert options["multimesh_cni"]["options"]["namespace"]["default"] == mesh_model.DEFAULT_CNI_NAMESPACE
    for name in mesh_model.SAMPLES:
        assert name in mesh["samples"]["description"]


def test_main_entry_point_adds_no_generic_validation():
    """The inventory variables are not under 'main' (generic validation would pre-empt the model's messages); only
    the role's own knob model_versions is, which the plugin checks against the inventory itself."""
    with open(os.path.join(ROOT, "roles", "model", "meta", "argument_specs.yml")) as handle:
        assert sorted(yaml.safe_load(handle)["argument_specs"]["main"]["options"]) == ["model_versions"]
