"""A mesh's own ingress gateway (issue 15 item 3): the model, the objects, the probe and the check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_checks as judges
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_probes as probes
from ansible_collections.multimesh.istio.plugins.plugin_utils.gateway_objects import injected_gateway
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import ModelError, build_model

OWNED = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "test"}


def meshes(gateway_1=None, gateway_2=None):
    return [
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "ingress_gateway": gateway_1},
        {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2"], "ingress_gateway": gateway_2},
    ]


def errors(gateway_1=None, gateway_2=None):
    with pytest.raises(ModelError) as caught:
        build_model(meshes=meshes(gateway_1, gateway_2))
    return caught.value.errors


def test_off_unless_given_and_defaults_when_given():
    model = build_model(meshes=meshes(gateway_1={}), samples=["curl", "httpbin"])
    first, second = model["meshes"]
    assert second["ingress_gateway"] is None and second["labelled_namespaces"] == second["members"]
    assert first["ingress_gateway"] == {
        "name": "ingressgateway-mesh-1", "namespace": "mesh-1-ingress", "owned": True, "revision": "mesh-1",
        "service_type": "LoadBalancer", "http_ports": [80],
        "ports": [{"name": "status-port", "port": 15021, "target_port": 15021, "node_port": None},
                  {"name": "http2", "port": 80, "target_port": 80, "node_port": None},
                  {"name": "https", "port": 443, "target_port": 443, "node_port": None}]}
    # The gateway's namespace is labelled into the mesh (owned), discovered by its istiod and in its Sidecar scope.
    assert first["labelled_namespaces"] == [{"name": "app-ns-1", "owned": False}, {"name": "mesh-1-ingress", "owned": True}]
    assert "mesh-1-ingress/*" in first["sidecar_egress_hosts"]
    assert judges.mesh_namespaces(first) == {"istio-system-1", "app-ns-1", "mesh-1-ingress"}
    assert build_model(meshes=meshes(gateway_1={"enabled": False}))["meshes"][0]["ingress_gateway"] is None
    # A namespace the user names may hold other things: cleanup deletes it only when declared owned.
    named = build_model(meshes=meshes(gateway_1={"namespace": "edge"}))["meshes"][0]
    assert named["ingress_gateway"]["owned"] is False and named["labelled_namespaces"][-1] == {"name": "edge", "owned": False}
    owned = build_model(meshes=meshes(gateway_1={"namespace": "edge", "owned": True}))["meshes"][0]
    assert owned["labelled_namespaces"][-1] == {"name": "edge", "owned": True}


@pytest.mark.parametrize("gateway_1,gateway_2,field,fragment", [
    ("yes", None, "mesh 'mesh-1'.ingress_gateway", "Fix: give a mapping"),
    ({"nmespace": "x"}, None, "mesh 'mesh-1'.ingress_gateway.nmespace", "did you mean 'namespace'"),
    ({"enabled": "true"}, None, "mesh 'mesh-1'.ingress_gateway.enabled", "use true or false"),
    ({"namespace": "Bad_NS"}, None, "mesh 'mesh-1'.ingress_gateway.namespace", "not a valid"),
    ({"namespace": "app-ns-1"}, None, "mesh 'mesh-1'.ingress_gateway.namespace", "'app-ns-1' is a member of this mesh"),
    # Whichever the cluster check meets second is named, with the other.
    ({"namespace": "app-ns-2"}, None, "mesh 'mesh-2'.members[0]", "'app-ns-2' is already a member of mesh 'mesh-1'"),
    ({"namespace": "istio-system-2"}, None, "mesh 'mesh-1'.ingress_gateway.namespace",
     "'istio-system-2' is the control-plane namespace of mesh 'mesh-2'"),
    ({}, {"namespace": "mesh-1-ingress"}, "mesh 'mesh-2'.ingress_gateway.namespace", "already a member of mesh 'mesh-1'"),
    ({"namespace": "kube-system"}, None, "mesh 'mesh-1'.ingress_gateway.namespace", "a namespace Kubernetes owns"),
    ({"service_type": "ExternalName"}, None, "mesh 'mesh-1'.ingress_gateway.service_type", "use one of LoadBalancer"),
    ({"ports": []}, None, "mesh 'mesh-1'.ingress_gateway.ports", "is empty"),
    ({"ports": [{"name": "http", "port": 0}]}, None, "mesh 'mesh-1'.ingress_gateway.ports[0].port", "1-65535"),
    ({"ports": [{"name": "http", "port": 80, "node_port": 80}]}, None,
     "mesh 'mesh-1'.ingress_gateway.ports[0].node_port", "30000-32767"),
    ({"ports": [{"name": "status-port", "port": 8080}]}, None, "mesh 'mesh-1'.ingress_gateway.ports[0]", "health port"),
    ({"ports": [{"name": "http-for-the-shop", "port": 80}]}, None, "mesh 'mesh-1'.ingress_gateway.ports[0].name",
     "not a Service port name"),
    ({"ports": [{"name": "8080", "port": 80}]}, None, "mesh 'mesh-1'.ingress_gateway.ports[0].name", "with a letter"),
    ({"service_type": "ClusterIP", "ports": [{"name": "http", "port": 80, "node_port": 30080}]}, None,
     "mesh 'mesh-1'.ingress_gateway.ports[0].node_port", "a ClusterIP Service has no node ports"),
    ({"ports": [{"name": "http", "port": 80, "node_port": 30080}, {"name": "web", "port": 81, "node_port": 30080}]}, None,
     "mesh 'mesh-1'.ingress_gateway.ports[1].node_port", "repeats an earlier port's node_port"),
    ({"owned": "yes"}, None, "mesh 'mesh-1'.ingress_gateway.owned", "use true or false"),
    ({"ports": [{"name": "http", "port": 80}, {"name": "web", "port": 80}]}, None,
     "mesh 'mesh-1'.ingress_gateway.ports[1]", "repeats an earlier port"),
    ({"ports": [{"name": "http", "port": 80, "node_port": 30080}]},
     {"ports": [{"name": "http", "port": 80, "node_port": 30080}]},
     "mesh 'mesh-2'.ingress_gateway.ports", "node_port 30080 is already the ingress gateway port of mesh 'mesh-1'"),
])
def test_bad_gateways_name_the_field_and_the_fix(gateway_1, gateway_2, field, fragment):
    found = errors(copy.deepcopy(gateway_1), copy.deepcopy(gateway_2))
    assert len(found) == 1, found
    assert found[0].startswith(field + ": ") and fragment in found[0] and "Fix: " in found[0], found


def test_a_gateway_in_its_own_meshs_control_plane_namespace_is_refused_for_its_secrets_not_as_a_member():
    """The seeds put the gateway beside istiod; here its account could list the CA key and the remote secrets'
    tokens there. The message names that rule and the fix, not the members' ("remove it from members")."""
    found = errors({"namespace": "istio-system-1"})
    assert found == ["mesh 'mesh-1'.ingress_gateway.namespace: 'istio-system-1' is the control-plane namespace of mesh "
                     "'mesh-1': the gateway's account may list every Secret of its namespace, which there holds the CA "
                     "key and the remote secrets' tokens. Fix: give the ingress gateway a namespace of its own (omit "
                     "namespace: mesh-1-ingress)."], found


def test_objects_are_injected_by_the_revision_with_unique_selector_labels():
    gateway = build_model(meshes=meshes(gateway_1={"service_type": "NodePort", "ports": [
        {"name": "http", "port": 80, "target_port": 8080, "node_port": 30080}]}))["meshes"][0]["ingress_gateway"]
    objs = dict((o["kind"], o) for o in injected_gateway(gateway, OWNED))
    assert sorted(objs) == ["Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"]
    assert all(o["metadata"]["namespace"] == "mesh-1-ingress" and o["metadata"]["name"] == "ingressgateway-mesh-1"
               and o["metadata"]["labels"]["multimesh.istio/owner"] == "test" for o in objs.values())
    template = objs["Deployment"]["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "ingressgateway-mesh-1", "istio": "ingressgateway-mesh-1",
                                              "sidecar.istio.io/inject": "true", "istio.io/rev": "mesh-1"}
    assert template["metadata"]["annotations"] == {"inject.istio.io/templates": "gateway"}
    assert template["spec"]["containers"] == [{"name": "istio-proxy", "image": "auto"}]
    assert objs["Service"]["spec"] == {"type": "NodePort", "selector": {"app": "ingressgateway-mesh-1", "istio": "ingressgateway-mesh-1"},
                                       "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021},
                                                 {"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}]}
    assert objs["Role"]["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]}]


MODEL = build_model(meshes=meshes(gateway_1={}, gateway_2={"namespace": "edge-2", "ports": [{"name": "https", "port": 443}]}),
                    samples=["curl", "httpbin"])


def test_each_mesh_probes_its_own_gateway_from_inside():
    pairs = [p for p in probes.probe_pairs(MODEL) if p["server_namespace"] in ("mesh-1-ingress", "edge-2")]
    # mesh-2's gateway serves no plain HTTP: nothing to probe there.
    assert pairs == [{"client_mesh": "mesh-1", "client_namespace": "app-ns-1", "client": "curl", "server_mesh": "mesh-1",
                      "server_namespace": "mesh-1-ingress",
                      "url": "http://ingressgateway-mesh-1.mesh-1-ingress.svc.cluster.local:80/get", "expect": "allow",
                      "from_cluster": "cluster", "to_clusters": ["cluster"]}]


def test_a_mesh_without_httpbin_routes_its_gateway_to_helloworlds_hello_and_probes_it():
    """Issue 28 item 4: the external control plane procedure routes its ingress gateway's /hello to helloworld."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.sample_objects import sample_objects

    model = build_model(samples=["helloworld", "curl"], meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "ingress_gateway": {}}])
    images = {"curl": "curl", "httpbin": "httpbin", "helloworld-v1": "hw1", "helloworld-v2": "hw2"}
    routes = [e["object"] for e in sample_objects(model, images) if e["object"]["kind"] == "VirtualService"]
    assert [(r["metadata"]["name"], r["spec"]["http"]) for r in routes] == [("ingressgateway-mesh-1-helloworld", [{
        "match": [{"uri": {"prefix": "/hello"}}],
        "route": [{"destination": {"host": "helloworld.app-ns-1.svc.cluster.local", "port": {"number": 5000}}}]}])]
    pairs = [p for p in probes.probe_pairs(model) if p["server_namespace"] == "mesh-1-ingress"]
    assert [p["url"] for p in pairs] == ["http://ingressgateway-mesh-1.mesh-1-ingress.svc.cluster.local:80/hello"]
    # Neither sample: no route, no probe.
    bare = build_model(samples=["curl"], meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "ingress_gateway": {}}])
    assert not [e for e in sample_objects(bare, images) if e["object"]["kind"] == "VirtualService"]
    assert not [p for p in probes.probe_pairs(bare) if p["server_namespace"] == "mesh-1-ingress"]


def stored(model):
    deployments, gateways = [], []
    for mesh in model["meshes"]:
        for obj in injected_gateway(mesh["ingress_gateway"], OWNED):
            if obj["kind"] == "Deployment":
                deployments.append(obj)
        if mesh["ingress_gateway"]["http_ports"]:
            gateways.append({"metadata": {"namespace": mesh["ingress_gateway"]["namespace"],
                                          "name": mesh["ingress_gateway"]["name"]},
                             "spec": {"selector": {"istio": mesh["ingress_gateway"]["name"]}}})
    return deployments, gateways


def registry(name, *gateways):
    return {"name": name, "gateways": [{"namespace": ns, "name": gw, "selector": {}} for ns, gw in gateways]}


def test_gateways_pass_when_stored_and_held_by_their_own_istiod_alone():
    deployments, gateways = stored(MODEL)
    registries = [registry("mesh-1", ("mesh-1-ingress", "ingressgateway-mesh-1")), registry("mesh-2")]
    checks = judges.check_ingress_gateways(MODEL, deployments, gateways, registries)
    assert [(c["name"], c["status"], c["observed"]) for c in checks] == [
        ("ingress gateway mesh-1", "pass", "injected by mesh-1, Gateway selects only it, held by istiod-mesh-1 alone"),
        ("ingress gateway mesh-2", "pass", "injected by mesh-2, Gateway selects only it")]


@pytest.mark.parametrize("breakage,problem", [
    ("no-deployment", "no Deployment mesh-1-ingress/ingressgateway-mesh-1"),
    ("other-revision", "its pods are not injected by mesh-1 with the gateway template (istio.io/rev=mesh-2)"),
    ("no-gateway", "no Gateway mesh-1-ingress/ingressgateway-mesh-1"),
    ("wide-selector", "its Gateway selects the pods of edge-2/ingressgateway-mesh-2, mesh-1-ingress/ingressgateway-mesh-1"),
    ("held-by-both", "held by the istiod of mesh-1, mesh-2"),
])
def test_a_gateway_that_could_reach_another_mesh_fails_and_says_how(breakage, problem):
    deployments, gateways = stored(MODEL)
    registries = [registry("mesh-1", ("mesh-1-ingress", "ingressgateway-mesh-1")), registry("mesh-2")]
    if breakage == "no-deployment":
        deployments = deployments[1:]
    elif breakage == "other-revision":
        deployments[0]["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] = "mesh-2"
    elif breakage == "no-gateway":
        gateways = []
    elif breakage == "wide-selector":
        gateways[0]["spec"]["selector"] = {"sidecar.istio.io/inject": "true"}
    else:
        registries[1] = registry("mesh-2", ("mesh-1-ingress", "ingressgateway-mesh-1"))
    first = judges.check_ingress_gateways(MODEL, deployments, gateways, registries)[0]
    assert (first["status"], first["observed"]) == ("fail", problem)


@pytest.mark.parametrize("asked,why", [
    ({"name": "mesh-1", "error": "no running istiod pod of revision mesh-1 in mesh-1"},
     "no running istiod pod of revision mesh-1 in mesh-1"),
    ({"name": "mesh-1", "services": [], "sidecars_error": "cannot read /debug/configz: timed out"},
     "cannot read /debug/configz: timed out"),
])
def test_a_gateway_its_istiod_was_not_asked_about_is_inconclusive_not_passed(asked, why):
    """Where the mesh's istiod runs here, which istiods hold the Gateway is the evidence: not observed fails."""
    deployments, gateways = stored(MODEL)
    first = judges.check_ingress_gateways(MODEL, deployments, gateways, [asked, registry("mesh-2")])[0]
    assert (first["status"], first["observed"]) == ("fail", "stored; not observed by istiod-mesh-1"), first
    assert first["reason"] == "inconclusive: not observed: " + why
    assert first["evidence"]["held_by"] == "not observed: " + why


def test_a_mesh_name_too_long_for_its_gateway_is_refused():
    name = "m" * 49
    with pytest.raises(ModelError) as caught:
        build_model(meshes=[{"name": name, "namespace": "ns-1", "ingress_gateway": {"namespace": "edge"}}])
    found = caught.value.errors
    assert any("the gateway's name 'ingressgateway-{0}' is longer than 63 characters".format(name) in e for e in found), found
