"""sample_objects: the samples stage's objects, built in Python (Istio's samples/ as the collection deploys them)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.sample_objects import sample_objects

IMAGES = {"curl": "mirror/curl:1", "httpbin": "mirror/httpbin:2", "helloworld-v1": "mirror/hw1:3",
          "helloworld-v2": "mirror/hw2:4"}


def model(**mesh):
    return build_model(owner="team-a", meshes=[dict({"name": "mesh-1", "namespace": "istio-system-1",
                                                     "members": ["app-1", "app-2"]}, **mesh)])


def test_each_sample_in_each_member_namespace_in_apply_order():
    entries = sample_objects(model(samples=["sleep", "helloworld"]), IMAGES)
    assert set(e["group"] for e in entries) == {"mesh-1"}
    assert [(e["object"]["kind"], e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in entries] == [
        (kind, ns, name) for ns in ("app-1", "app-2") for kind, name in (
            ("ServiceAccount", "sleep"), ("Service", "sleep"), ("Deployment", "sleep"),
            ("ServiceAccount", "helloworld"), ("Service", "helloworld"), ("Deployment", "helloworld-v1"),
            ("Deployment", "helloworld-v2"))]
    ours = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "team-a"}
    assert all(dict(e["object"]["metadata"]["labels"], **ours) == e["object"]["metadata"]["labels"] for e in entries)


def test_containers_ports_and_selectors_follow_istios_samples():
    found = dict(((e["object"]["kind"], e["object"]["metadata"]["name"]), e["object"])
                 for e in sample_objects(model(samples=["curl", "httpbin", "helloworld"], members=["app-1"]), IMAGES))
    curl = found[("Deployment", "curl")]["spec"]["template"]["spec"]
    assert curl == {"serviceAccountName": "curl", "terminationGracePeriodSeconds": 0, "containers": [
        {"name": "curl", "image": "mirror/curl:1", "command": ["/bin/sleep", "infinity"]}]}
    assert found[("Service", "curl")]["spec"] == {"selector": {"app": "curl"}, "ports": [{"name": "http", "port": 80}]}
    assert found[("Service", "httpbin")]["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": 8080}]
    assert found[("Deployment", "httpbin")]["spec"]["template"]["spec"]["containers"] == [
        {"name": "httpbin", "image": "mirror/httpbin:2", "ports": [{"containerPort": 8080}]}]
    v2 = found[("Deployment", "helloworld-v2")]["spec"]
    assert v2["selector"] == {"matchLabels": {"app": "helloworld", "version": "v2"}}
    assert v2["template"]["metadata"]["labels"] == {"app": "helloworld", "version": "v2"}
    assert v2["template"]["spec"]["containers"] == [{"name": "helloworld", "image": "mirror/hw2:4", "ports": [{"containerPort": 5000}]}]
    assert found[("Service", "helloworld")]["metadata"]["labels"]["service"] == "helloworld"


def test_the_ingress_gateway_routes_to_the_first_members_httpbin_only_when_both_exist():
    gateway = {"ingress_gateway": {"namespace": "mesh-1-ingress"}}
    routes = [e["object"] for e in sample_objects(model(samples=["httpbin"], **gateway), IMAGES)
              if e["object"]["kind"] == "VirtualService"]
    assert len(routes) == 1 and routes[0]["metadata"]["namespace"] == "mesh-1-ingress"
    assert routes[0]["spec"]["http"] == [{"route": [{"destination": {
        "host": "httpbin.app-1.svc.cluster.local", "port": {"number": 8000}}}]}]
    assert routes[0]["spec"]["gateways"] == [routes[0]["metadata"]["name"][:-len("-httpbin")]]
    assert not [e for e in sample_objects(model(samples=["sleep"], **gateway), IMAGES) if e["object"]["kind"] == "VirtualService"]
    assert not [e for e in sample_objects(model(samples=["httpbin"]), IMAGES) if e["object"]["kind"] == "VirtualService"]
