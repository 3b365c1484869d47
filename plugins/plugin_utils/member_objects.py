# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The objects of the stage 30-members: each mesh's member namespaces (labelled into the mesh), their scoping Sidecar,
and the mesh's own ingress gateway. Built in Python, at the cost of the data (a template cost milliseconds per
namespace at every reference), and read by pre-flight (planned_objects) too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.gateway_objects import injected_gateway

NETWORKING = "networking.istio.io/v1"


def _namespace(mesh, member, model):
    """Discovery labels put the namespace in this mesh; the revision label picks its injector. An owned namespace
    carries both marks of what this inventory created (cleanup deletes only such); another, only whose labels these
    are."""
    marks = model["ownership_labels"] if member["owned"] else model["owner_label"]
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": member["name"],
                                                                  "labels": dict(mesh["member_labels"], **marks)}}


def _sidecar(mesh, member, model):
    """The namespace's default proxy scope: only the mesh's own namespaces (and those listed), so that no proxy of
    this mesh receives another mesh's services. Where the mesh's configuration lives: a primary, a config cluster."""
    return {"apiVersion": NETWORKING, "kind": "Sidecar",
            "metadata": {"name": "default", "namespace": member["name"], "labels": dict(model["ownership_labels"])},
            "spec": {"egress": [{"hosts": list(mesh["sidecar_egress_hosts"])}]}}


def _ingress_gateway(gateway, model):
    """The mesh's own ingress gateway: injected by the mesh's revision in a namespace of the mesh, selected by labels
    no other gateway carries, and a Gateway for its HTTP ports that reaches only those pods."""
    objects = injected_gateway(gateway, model["ownership_labels"])
    if gateway["http_ports"]:
        objects.append({
            "apiVersion": NETWORKING, "kind": "Gateway",
            "metadata": {"name": gateway["name"], "namespace": gateway["namespace"],
                         "labels": dict(model["ownership_labels"])},
            "spec": {"selector": {"istio": gateway["name"]}, "servers": [
                {"port": {"number": port, "name": "http-{0}".format(port), "protocol": "HTTP"}, "hosts": ["*"]}
                for port in gateway["http_ports"]]}})
    return objects


def member_objects(model):
    """[{group, object}] of the stage 30-members, in apply order: per mesh, each namespace (then its Sidecar), then
    its ingress gateway."""
    entries = []
    for mesh in model["meshes"]:
        objects = []
        for member in mesh["labelled_namespaces"]:
            objects.append(_namespace(mesh, member, model))
            if mesh["sidecar_egress_hosts"] and mesh["holds_config"]:
                objects.append(_sidecar(mesh, member, model))
        if mesh.get("ingress_gateway"):
            objects += _ingress_gateway(mesh["ingress_gateway"], model)
        entries += [{"group": mesh["name"], "object": obj} for obj in objects]
    return entries
