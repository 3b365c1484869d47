"""The harness is a real control plane: RBAC, controllers, scheduling and kwok-made pod status all work."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail("timed out after {0}s waiting for {1}".format(timeout, what))


def test_deployment_becomes_available_and_namespace_deletion_completes(kube):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core, apps = client.CoreV1Api(kube), client.AppsV1Api(kube)
    core.create_namespace({"metadata": {"name": "harness-probe"}})
    wait_for("the default service account (token controller)",
             lambda: core.list_namespaced_service_account("harness-probe").items)
    apps.create_namespaced_deployment("harness-probe", {
        "metadata": {"name": "probe"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "probe"}},
                 "template": {"metadata": {"labels": {"app": "probe"}},
                              "spec": {"containers": [{"name": "c", "image": "example.invalid/probe:1"}]}}}})
    wait_for("Deployment probe Available with 2 ready pods",
             lambda: (apps.read_namespaced_deployment("probe", "harness-probe").status.ready_replicas or 0) == 2)
    pods = core.list_namespaced_pod("harness-probe").items
    assert {p.spec.node_name for p in pods} == {"kwok-node-0"}
    assert all(p.status.phase == "Running" for p in pods)
    core.delete_namespace("harness-probe")

    def gone():
        try:
            core.read_namespace("harness-probe")
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for("namespace deletion (namespace controller)", gone, timeout=90)


def test_rbac_is_enforced(cluster, kube):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": "harness-rbac"}})
    core.create_namespaced_service_account("harness-rbac", {"metadata": {"name": "reader"}})
    token = core.create_namespaced_service_account_token("reader", "harness-rbac", {"spec": {"expirationSeconds": 600}})
    configuration = client.Configuration()
    configuration.host = cluster.server
    configuration.ssl_ca_cert = cluster.pki + "/ca.crt"
    configuration.api_key = {"authorization": "Bearer " + token.status.token}
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(client.ApiClient(configuration)).list_namespace()
    assert denied.value.status == 403
    core.delete_namespace("harness-rbac")
