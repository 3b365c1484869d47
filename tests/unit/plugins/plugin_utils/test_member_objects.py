"""member_objects: the members stage's objects, built in Python - namespaces labelled into their mesh, scoping
Sidecars where the mesh's configuration lives, and the mesh's own ingress gateway."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.member_objects import member_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

OURS = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "team-a"}


def model(**mesh):
    return build_model(owner="team-a", meshes=[dict({"name": "mesh-1", "namespace": "istio-system-1",
                                                     "members": ["app-1", {"name": "app-2", "owned": True}]}, **mesh)])


def test_namespaces_carry_the_meshs_labels_and_only_an_owned_one_both_marks():
    entries = member_objects(model())
    namespaces = dict((e["object"]["metadata"]["name"], e["object"]["metadata"]["labels"])
                      for e in entries if e["object"]["kind"] == "Namespace")
    mesh_labels = {"istio-discovery": "mesh-1", "istio.io/rev": "mesh-1"}
    assert namespaces == {"app-1": dict(mesh_labels, **{"multimesh.istio/owner": "team-a"}),
                          "app-2": dict(mesh_labels, **OURS)}
    assert set(e["group"] for e in entries) == {"mesh-1"}


def test_each_namespace_is_followed_by_its_sidecar_scoped_to_the_meshs_namespaces():
    entries = [(e["object"]["kind"], e["object"]["metadata"].get("namespace") or e["object"]["metadata"]["name"])
               for e in member_objects(model())]
    assert entries == [("Namespace", "app-1"), ("Sidecar", "app-1"), ("Namespace", "app-2"), ("Sidecar", "app-2")]
    sidecar = member_objects(model())[1]["object"]
    assert sidecar["spec"] == {"egress": [{"hosts": ["app-1/*", "app-2/*", "istio-system-1/*"]}]}
    assert sidecar["metadata"]["labels"] == OURS


def test_the_ingress_gateway_comes_last_with_a_gateway_for_its_http_ports():
    found = member_objects(model(members=["app-1"], ingress_gateway={"namespace": "mesh-1-ingress"}))
    assert [(e["object"]["kind"], e["object"]["metadata"].get("namespace") or e["object"]["metadata"]["name"])
            for e in found] == [("Namespace", "app-1"), ("Sidecar", "app-1")] + [
        (kind, "mesh-1-ingress") for kind in (
            "Namespace", "Sidecar", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Gateway")]
    gateway = found[-1]["object"]
    assert gateway["metadata"] == {"name": "ingressgateway-mesh-1", "namespace": "mesh-1-ingress", "labels": OURS}
    assert gateway["spec"] == {"selector": {"istio": "ingressgateway-mesh-1"}, "servers": [
        {"port": {"number": 80, "name": "http-80", "protocol": "HTTP"}, "hosts": ["*"]}]}
