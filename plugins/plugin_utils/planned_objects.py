# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a converge (playbooks/site.yml) applies to one cluster, by identity, from the model alone - so that
pre-flight can refuse, before any write, an object of the same name that this inventory did not create.

Mirrors the roles' default templates of cni and control_plane (tests/unit/plugins/plugin_utils/test_planned_objects.py
renders them and compares); members and samples are member_objects' and sample_objects' own objects. Namespaces and
Istio resources are left out: pre-flight checks them by their own rules (owned, another inventory's, another
revision's). Objects of an overridden template are checked when applied (plugins/plugin_utils/kube_objects.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.gateway_objects import injected_gateway
from ansible_collections.multimesh.istio.plugins.plugin_utils.member_objects import member_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.sample_objects import SAMPLES, sample_objects

NETWORKING = "networking.istio.io/v1"
# Identities do not depend on the images.
_ANY_IMAGE = dict((spec["image"].format(version=version), "") for spec in SAMPLES.values()
                  for version in spec.get("versions") or (None,))


def _obj(api_version, kind, name, namespace=None, shared=False):
    """One planned object; shared: the CNI's, which carries the collection's mark but no inventory's."""
    return {"apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name, "shared": shared}


def _gateway(gateway):
    """An injected gateway's objects (gateway_objects.injected_gateway), by identity."""
    return [_obj(o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"]["namespace"])
            for o in injected_gateway(gateway, {})]


def _cni(model):
    cni = model.get("cni") or {}
    if cni.get("enabled") and model["backend"] == "sail":
        return [_obj("sailoperator.io/v1", "IstioCNI", "default", shared=True)]
    return []  # istioctl installs the CNI itself (an IstioOperator input)


def _control_plane(model, mesh):
    """The stages 20- to 22- (roles/control_plane/templates/_common.yml.j2, sail.yml.j2; istioctl installs the rest)."""
    planned = []
    if mesh["holds_config"]:
        planned.append(_obj("security.istio.io/v1", "PeerAuthentication", "default", mesh["namespace"]))
    if model["backend"] == "sail" and mesh["update_strategy"]["type"] == "RevisionBased":
        planned.append(_obj("sailoperator.io/v1", "IstioRevisionTag", mesh["revision"]))
    return planned


def _gateways(mesh):
    """The stage 23-gateways (roles/control_plane/templates/_gateways.yml.j2)."""
    if not mesh.get("gateways"):
        return []
    ns, planned = mesh["namespace"], []
    if mesh["eastwest_gateway"]:
        planned += [_obj(api, kind, "istio-eastwestgateway", ns)
                    for api, kind in (("v1", "ServiceAccount"), ("apps/v1", "Deployment"), ("v1", "Service"))]
    if mesh["multi_network"] and mesh["holds_config"]:
        planned.append(_obj(NETWORKING, "Gateway", "cross-network-gateway", ns))
    if mesh["role"] == "primary" and mesh["expose_istiod"]:
        planned += [_obj(NETWORKING, "Gateway", "istiod-gateway", ns), _obj(NETWORKING, "VirtualService", "istiod-vs", ns)]
    gateway = mesh.get("istiod_gateway")
    if mesh["role"] == "external" and gateway:
        planned += _gateway(gateway) + [_obj(NETWORKING, kind, gateway["name"], ns) for kind in (
            ["Gateway", "VirtualService"] + (["DestinationRule"] if gateway.get("credential") is not None else []))]
    elif mesh["role"] == "external":
        planned.append(_obj("v1", "Service", mesh["istiod_service"] + "-external", ns))
    return planned


def _identities(entries):
    """The identities of a role's own objects ({group, object} entries), namespaces left to their own checks."""
    return [_obj(e["object"]["apiVersion"], e["object"]["kind"], e["object"]["metadata"]["name"],
                 e["object"]["metadata"].get("namespace")) for e in entries if e["object"]["kind"] != "Namespace"]


def _members(model, mesh):
    """The stage 30-members besides its namespaces: the very objects the members role applies (member_objects)."""
    return _identities(member_objects(dict(model, meshes=[mesh])))


def _samples(model, mesh):
    """The stage 40-samples: the very objects the samples role applies (sample_objects)."""
    return _identities(sample_objects(dict(model, meshes=[mesh]), _ANY_IMAGE))


def planned_objects(model):
    """[{apiVersion, kind, namespace, name, shared}] of every object but namespaces and Istio resources that a
    converge applies to this cluster, in stage order."""
    planned = _cni(model)
    for stage in (lambda mesh: _control_plane(model, mesh), _gateways, lambda mesh: _members(model, mesh),
                  lambda mesh: _samples(model, mesh)):
        for mesh in model["meshes"]:
            planned += stage(mesh)
    return planned
