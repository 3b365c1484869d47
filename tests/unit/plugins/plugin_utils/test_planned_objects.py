"""planned_objects (what pre-flight checks before any write) names every object the roles' templates apply: the
templates are rendered here with Jinja2 and the collection's filters, for each topology and both backends."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import jinja2
import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.plugin_utils.values import deep_merge, istio_operator_values
from ansible_collections.multimesh.istio.plugins.plugin_utils.gateway_objects import injected_gateway
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.member_objects import member_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.planned_objects import planned_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.sample_objects import sample_objects

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles")
# Left to their own pre-flight checks (namespaces: owned or not; Istio: revision names) or to istioctl.
UNPLANNED = ("Namespace", "Istio", "IstioOperator")
SAMPLE_IMAGES = {"curl": "curl", "httpbin": "httpbin", "helloworld-v1": "hw1", "helloworld-v2": "hw2"}


def _combine(*dicts, **kwargs):
    out = {}
    for item in dicts:
        out = deep_merge(out, item) if kwargs.get("recursive") else dict(out, **item)
    return out


def render(role, template, **variables):
    """The objects of a role's template, as the stage action receives them (Ansible's from_yaml_all | select)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLES, role, "templates")), trim_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update({"to_json": json.dumps, "combine": _combine,
                        "multimesh.istio.injected_gateway": injected_gateway,
                        "multimesh.istio.istio_operator_values": istio_operator_values})
    text = env.get_template(template).render(**copy.deepcopy(variables))
    return [doc["object"] for doc in yaml.safe_load_all(text) if doc]


def site_objects(model):
    """Every object site.yml's stages apply on this cluster (roles/*/tasks, default templates)."""
    meshes = model["meshes"]
    objects = render("cni", model["backend"] + ".yml.j2", multimesh_model=model) if model["cni"]["enabled"] else []
    for role in (["primary"], ["remote", "config"], ["external"]):
        objects += render("control_plane", model["backend"] + ".yml.j2", multimesh_model=model,
                          __control_plane_meshes=[m for m in meshes if m["role"] in role],
                          control_plane_istioctl_profile="minimal")
    objects += render("control_plane", "gateways.yml.j2", multimesh_model=model,
                      __control_plane_meshes=[m for m in meshes if m["gateways"]])
    objects += [entry["object"] for entry in member_objects(model)]
    objects += [entry["object"] for entry in sample_objects(model, SAMPLE_IMAGES)]
    return objects


def identities(objects):
    return sorted((o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
                  for o in objects if o["kind"] not in UNPLANNED)


def planned(model):
    return sorted((o["apiVersion"], o["kind"], o["namespace"], o["name"]) for o in planned_objects(model))


def clusters(*names):
    return [{"host": name, "name": name, "network": "net-" + name, "access": ["", name]} for name in names]


SINGLE = [
    {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-1", {"name": "app-2", "owned": True}],
     "samples": ["curl", "httpbin", "helloworld"], "ingress_gateway": {}},
    {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-3"], "samples": ["sleep"],
     "update_strategy": {"type": "RevisionBased"}, "sidecar_scope": {"enabled": False},
     "ingress_gateway": {"namespace": "edge", "ports": [{"name": "https", "port": 443}]}},
]
PRIMARY_REMOTE = [{"name": "mesh-pr", "namespace": "istio-system-pr", "members": ["app-pr"], "topology": "primary-remote",
                   "samples": ["httpbin"], "ingress_gateway": {},
                   "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"},
                                {"name": "west", "role": "remote"}]}]
GATEWAYS = {"name": "gateways", "namespace": "istio-system", "discovery_labels": {"istio-discovery": "gateways"},
            "clusters": ["central"]}


def external(gateway=None):
    central = {"name": "central", "role": "external", "address": "istiod.example.com"}
    if gateway:
        central["gateway"] = gateway
    return [{"name": "mesh-x", "namespace": "external-istiod", "members": ["app-x"], "topology": "external",
             "samples": ["curl"], "clusters": [central, {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}]},
            GATEWAYS]


CASES = {
    "single sail": dict(meshes=SINGLE, cni={"enabled": True}),
    "single istioctl": dict(meshes=SINGLE, backend="istioctl", cni={"enabled": True}),
    "primary-remote, primary": dict(meshes=PRIMARY_REMOTE, clusters=clusters("east", "west"), here="east"),
    "primary-remote, remote": dict(meshes=PRIMARY_REMOTE, clusters=clusters("east", "west"), here="west"),
    "external, istiod": dict(meshes=external(), clusters=clusters("central", "east", "west"), here="central"),
    "external, config": dict(meshes=external(), clusters=clusters("central", "east", "west"), here="east"),
    "external behind a TLS gateway": dict(meshes=external({"mesh": "gateways", "credential": "istiod-tls"}),
                                          clusters=clusters("central", "east", "west"), here="central"),
    "external behind a passthrough gateway": dict(meshes=external({"mesh": "gateways"}),
                                                  clusters=clusters("central", "east", "west"), here="central",
                                                  backend="istioctl"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_plan_names_every_object_the_templates_apply(case):
    model = build_model(**copy.deepcopy(CASES[case]))
    rendered = identities(site_objects(model))
    assert rendered, "the case renders objects"
    assert planned(model) == rendered


def test_the_cni_is_shared_and_the_rest_is_the_inventorys():
    model = build_model(**copy.deepcopy(CASES["single sail"]))
    shared = [(o["kind"], o["name"]) for o in planned_objects(model) if o["shared"]]
    assert shared == [("IstioCNI", "default")]
    kinds = set(o["kind"] for o in planned_objects(model))
    assert {"PeerAuthentication", "IstioRevisionTag", "Sidecar", "ServiceAccount", "Service", "Deployment", "Role",
            "RoleBinding", "Gateway", "VirtualService"} <= kinds
