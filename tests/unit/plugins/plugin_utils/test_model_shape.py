"""The model's shape is on record (plugins/plugin_utils/model/shape.py): realistic models have exactly its keys, the
roles and plugins read no key it lacks, and the mesh_model module's RETURN documents every top-level key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.modules import mesh_model as mesh_model_module
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model, inventory_spec, model_inputs
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.shape import MESH_VIEW_KEYS, MODEL_KEYS
from ansible_collections.multimesh.istio.tests.unit.plugins.plugin_utils.test_topology import (
    EAST_WEST,
    LOCAL,
    THREE,
    clusters,
    exposed,
    external,
    model,
    primary_remote,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
BACKENDS = ("sail", "istioctl")


def render_inventory_models():
    """(name, model) for every host of every valid render-test inventory, with both backends."""
    inputs_of = model_inputs(inventory_spec())
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "render", "inventories", "*.yml"))):
        if path.endswith("invalid.yml"):
            continue
        with open(path) as handle:
            group = yaml.safe_load(handle)["multimesh_clusters"]
        variables = group.get("vars") or {}
        inputs = dict((key, variables[name]) for name, key in inputs_of.items() if name in variables)
        hosts = dict((host, host_vars or {}) for host, host_vars in group["hosts"].items())
        inventory = [{"host": host, "name": v.get("multimesh_cluster_name"), "network": v.get("multimesh_network"),
                      "access": [v.get("multimesh_kubeconfig") or "", v.get("multimesh_context") or ""]}
                     for host, v in hosts.items()]
        for host in hosts:
            for backend in BACKENDS:
                yield "{0}/{1}/{2}".format(os.path.basename(path), host, backend), build_model(
                    clusters=inventory, here=host, **dict(inputs, backend=backend))


def topology_models():
    """(name, model) for each topology's clusters, gateways and RevisionBased included."""
    multi_primary = [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary", "clusters": ["a", "b", "c"]}]
    revision_based = [{"name": "mesh-1", "namespace": "ns-1", "members": ["app"], "update_strategy": {"type": "RevisionBased"},
                       "ingress_gateway": {"service_type": "NodePort"}, "sidecar_scope": {"enabled": False}}]
    cases = [("primary-remote", [primary_remote()], EAST_WEST, ("east", "west")),
             ("multi-primary", multi_primary, clusters("a@net", "b@net", "c@net"), ("a", "b", "c")),
             ("external", [external(), LOCAL], THREE, ("east", "west", "central")),
             ("external-gateway", exposed({"mesh": "gateways", "credential": "istiod-tls"}), THREE,
              ("east", "west", "central")),
             ("revision-based", revision_based, None, ("east",))]
    for name, meshes, inventory, hosts in cases:
        for host in hosts:
            for backend in BACKENDS:
                yield "{0}/{1}/{2}".format(name, host, backend), model(meshes, inventory, here=host, backend=backend,
                                                                       default_mesh=meshes[0]["name"])


MODELS = list(render_inventory_models()) + list(topology_models())


@pytest.mark.parametrize("name, built", MODELS, ids=[name for name, dummy in MODELS])
def test_every_model_has_exactly_the_recorded_keys(name, built):
    assert list(built) == list(MODEL_KEYS)
    for mesh in built["meshes"]:
        assert sorted(mesh) == sorted(MESH_VIEW_KEYS), mesh["name"]


def test_the_models_cover_every_role_and_topology():
    meshes = [mesh for dummy, built in MODELS for mesh in built["meshes"]]
    assert set(m["role"] for m in meshes) == {"primary", "remote", "config", "external"}
    assert set(m["topology"] for m in meshes) == {"single", "primary-remote", "multi-primary", "external"}
    assert any(m["fronted_namespaces"] for m in meshes) and any(m["ingress_gateway"] for m in meshes)


# Reads of the model: mesh.<key>, mesh["<key>"], mesh.get("<key>"), and the same of multimesh_model. A loop variable
# under another name (item, __mesh) is not seen.
_READ = r"\b{0}(?:\.get\(\s*[\"'](\w+)[\"']|\[[\"'](\w+)[\"']\]|\.(\w+))"
MESH_READ = re.compile(_READ.format("mesh"))
MODEL_READ = re.compile(_READ.format("multimesh_model"))
# Dict methods read as attributes, not keys.
IGNORED = ("get", "items", "keys", "update", "copy", "setdefault", "pop")
SCANNED = ("roles/**/templates/**/*.j2", "roles/**/tasks/**/*.yml", "roles/**/vars/**/*.yml", "plugins/**/*.py")


def model_reads():
    """{(file, 'mesh' or 'model', key)} for every read of a model key in the roles and plugins."""
    reads = set()
    for pattern in SCANNED:
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            with open(path) as handle:
                text = handle.read()
            for kind, regex in (("mesh", MESH_READ), ("model", MODEL_READ)):
                for match in regex.finditer(text):
                    key = next(group for group in match.groups() if group)
                    if key not in IGNORED:
                        reads.add((os.path.relpath(path, ROOT), kind, key))
    return reads


def test_roles_and_plugins_read_only_recorded_keys():
    reads = model_reads()
    assert len(reads) > 100  # the scan still finds the reads
    known = {"mesh": MESH_VIEW_KEYS, "model": MODEL_KEYS}
    assert sorted(read for read in reads if read[2] not in known[read[1]]) == []


def test_the_modules_return_documents_every_top_level_key():
    documented = yaml.safe_load(mesh_model_module.RETURN)["ansible_facts"]["contains"]["multimesh_model"]["contains"]
    assert list(documented) == list(MODEL_KEYS)
