"""Reading istiod's /debug/registryz answer as it comes over a port-forward."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from types import SimpleNamespace

from ansible_collections.multimesh.istio.plugins.module_utils import istiod_registry as r

# The shape of istiod's model.Service as /debug/registryz writes it (abridged).
REGISTRY = [
    {"Attributes": {"ServiceRegistry": "Kubernetes", "Name": "httpbin", "Namespace": "app-ns-1", "Labels": {"app": "httpbin"}},
     "ports": [{"name": "http", "port": 8000, "protocol": "HTTP"}], "hostname": "httpbin.app-ns-1.svc.cluster.local",
     "clusterVIPs": {"Addresses": {"Kubernetes": ["10.96.0.20"]}}, "Resolution": 0},
    {"Attributes": {"ServiceRegistry": "Kubernetes", "Name": "istiod-mesh-1", "Namespace": "istio-system-1"},
     "hostname": "istiod-mesh-1.istio-system-1.svc.cluster.local"},
    {"Attributes": {"ServiceRegistry": "External"}, "hostname": "api.example.com"},
]


def test_request():
    assert r.http_request("/debug/registryz") == b"GET /debug/registryz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def test_a_response_is_whole_by_its_length_or_last_chunk():
    # A port-forwarded stream may not show the pod's close, so the answer's own framing ends the read.
    whole = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    assert r.response_complete(whole) and not r.response_complete(whole[:-1]) and not r.response_complete(b"HTTP/1.1 200")
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2,\r\n2\r\n3]\r\n0\r\n\r\n"
    assert r.response_complete(chunked) and not r.response_complete(chunked[:-7])
    assert r.parse_response(chunked) == (200, "[1,2,3]")
    assert not r.response_complete(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")


def test_parse_response_and_services():
    raw = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps(REGISTRY).encode()
    status, body = r.parse_response(raw)
    assert status == 200
    assert r.registry_services(body) == [
        {"hostname": "api.example.com", "namespace": None, "name": "api"},
        {"hostname": "httpbin.app-ns-1.svc.cluster.local", "namespace": "app-ns-1", "name": "httpbin"},
        {"hostname": "istiod-mesh-1.istio-system-1.svc.cluster.local", "namespace": "istio-system-1", "name": "istiod-mesh-1"}]


def test_unauthorized_and_garbage_answers():
    assert r.parse_response(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n") == (401, "")
    status, reason = r.parse_response(b"\x16\x03\x01 not http")
    assert status is None and reason.startswith("not an HTTP response")


def pod(name, revision, phase="Running", deleting=False):
    return SimpleNamespace(metadata=SimpleNamespace(name=name, labels={"app": "istiod", "istio.io/rev": revision},
                                                    deletion_timestamp="now" if deleting else None),
                           status=SimpleNamespace(phase=phase))


def test_istiod_pod_of_the_revision_that_runs():
    pods = [pod("istiod-b-2", "b"), pod("istiod-a-9", "a", deleting=True), pod("istiod-a-3", "a", phase="Pending"), pod("istiod-a-5", "a")]
    assert r.istiod_pod(pods, "a") == "istiod-a-5"
    assert r.istiod_pod(pods, "c") is None


def test_sidecars_istiod_holds_from_configz():
    # /debug/configz: istiod's config store as Kubernetes-shaped objects (abridged), every kind mixed.
    configz = [
        {"kind": "Sidecar", "apiVersion": "networking.istio.io/v1",
         "metadata": {"name": "default", "namespace": "app-ns-2", "resourceVersion": "812"},
         "spec": {"egress": [{"hosts": ["istio-system-1/*", "app-ns-2/*"]}]}},
        {"kind": "PeerAuthentication", "apiVersion": "security.istio.io/v1",
         "metadata": {"name": "default", "namespace": "istio-system-1"}, "spec": {"mtls": {"mode": "STRICT"}}},
        {"kind": "Sidecar", "apiVersion": "networking.istio.io/v1", "metadata": {"name": "narrow", "namespace": "app-ns-1"},
         "spec": {"workloadSelector": {"labels": {"app": "x"}}}},
    ]
    assert r.config_sidecars(json.dumps(configz)) == [
        {"namespace": "app-ns-1", "name": "narrow", "egress_hosts": []},
        {"namespace": "app-ns-2", "name": "default", "egress_hosts": ["app-ns-2/*", "istio-system-1/*"]}]
    assert r.config_sidecars("null") == []


def test_gateways_istiod_holds_come_from_configz():
    configz = [
        {"kind": "Gateway", "apiVersion": "networking.istio.io/v1",
         "metadata": {"name": "ingressgateway-mesh-1", "namespace": "mesh-1-ingress"},
         "spec": {"selector": {"istio": "ingressgateway-mesh-1"}, "servers": []}},
        {"kind": "Sidecar", "apiVersion": "networking.istio.io/v1", "metadata": {"name": "default", "namespace": "a"}},
        {"kind": "Gateway", "apiVersion": "networking.istio.io/v1", "metadata": {"name": "any", "namespace": "a"},
         "spec": {}},
    ]
    assert r.config_gateways(json.dumps(configz)) == [
        {"namespace": "a", "name": "any", "selector": {}},
        {"namespace": "mesh-1-ingress", "name": "ingressgateway-mesh-1", "selector": {"istio": "ingressgateway-mesh-1"}}]
    assert r.config_gateways("[]") == []
