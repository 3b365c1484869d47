"""Pre-flight against a real API server: a foreign Istio stops the run before any change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from conftest import REPO, ansible_playbook, delete_namespace

SITE = os.path.join(REPO, "playbooks", "site.yml")
INVENTORY = os.path.join(REPO, "tests", "render", "inventories", "three-mesh.yml")


@pytest.mark.parametrize("foreign,message", [
    ({"metadata": {"name": "legacy"}, "spec": {"namespace": "istio-system", "version": "v1.30.3"}},
     "Istio legacy (not in this inventory) has no discoverySelectors"),
    ({"metadata": {"name": "legacy"}, "spec": {"namespace": "istio-system", "version": "v1.30.3", "values": {
        "meshConfig": {"discoverySelectors": [{"matchExpressions": [{"key": "usergroup", "operator": "Exists"}]}]}}}},
     "Istio legacy (not in this inventory) selects namespaces of this inventory: inventory, payments, shop, usergroup-1, "
     "usergroup-2"),
    ({"metadata": {"name": "canary"}, "spec": {"namespace": "istio-system", "version": "v1.30.3", "values": {
        "meshConfig": {"discoverySelectors": [{"matchLabels": {"x": "y"}}]}}}},
     "Istio canary exists and was not created by multimesh.istio"),
])
def test_foreign_istio_stops_the_run_before_any_change(cluster, kube, foreign, message):
    from kubernetes import client

    custom, core = client.CustomObjectsApi(kube), client.CoreV1Api(kube)
    custom.create_cluster_custom_object("sailoperator.io", "v1", "istios", dict(foreign, apiVersion="sailoperator.io/v1", kind="Istio"))
    inventory_namespaces = {"usergroup-1", "usergroup-2", "canary-system", "shop", "payments", "inventory", "canary-apps", "kube-cni"}
    try:
        run = ansible_playbook(cluster.kubeconfig, SITE, "-i", INVENTORY)
    finally:
        custom.delete_cluster_custom_object("sailoperator.io", "v1", "istios", foreign["metadata"]["name"])
    assert run.rc != 0
    assert "Pre-flight found" in run.out and "nothing was changed" in run.out
    assert message in run.out
    assert not inventory_namespaces & {n.metadata.name for n in core.list_namespace().items}
    assert [i["metadata"]["name"] for i in custom.list_cluster_custom_object("sailoperator.io", "v1", "istios")["items"]
            if i["metadata"]["name"] in ("ug1-1-30", "usergroup-2")] == []


def test_member_with_another_revision_stops_the_run(cluster, kube):
    from kubernetes import client

    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": "payments", "labels": {"istio.io/rev": "prod-1-29"}}})
    try:
        run = ansible_playbook(cluster.kubeconfig, SITE, "-i", INVENTORY)
    finally:
        delete_namespace(core, "payments")
    assert run.rc != 0
    assert "Namespace payments (member of mesh 'usergroup-1') carries istio.io/rev=prod-1-29, another mesh's revision" in run.out


def test_a_missing_or_dead_kubeconfig_is_named_by_the_pre_flight(tmp_path):
    """Issue 13 point 12: which cluster, which file, and the fix - not a library's traceback."""
    missing = str(tmp_path / "nowhere.kubeconfig")
    run = ansible_playbook(missing, SITE, "-i", INVENTORY)
    assert run.rc != 0
    assert "pre-flight of cluster cluster-1: cannot load the cluster access configuration (kubeconfig {0})".format(
        missing) in run.out, run.out
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text('{"apiVersion": "v1", "kind": "Config", "current-context": "dead", "clusters": [{"name": "dead", '
                    '"cluster": {"server": "https://127.0.0.1:9"}}], "users": [{"name": "dead", "user": {"token": '
                    '"dead-token"}}], "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "dead"}}]}')
    run = ansible_playbook(str(dead), SITE, "-i", INVENTORY)
    assert run.rc != 0
    assert "pre-flight of cluster cluster-1: cannot reach the API server of kubeconfig {0}".format(dead) in run.out, run.out
    assert "Fix: check that it runs" in run.out and "dead-token" not in run.out


def test_a_cluster_object_named_as_a_meshs_stops_the_run_naming_both_owners(cluster, kube):
    """Issue 15 item 2: a ClusterRole someone made by hand, and a binding of another install into another namespace,
    under names mesh usergroup-1's install would create: the run stops before any change."""
    from kubernetes import client

    rbac, core = client.RbacAuthorizationV1Api(kube), client.CoreV1Api(kube)
    name = "istiod-clusterrole-ug1-1-30-usergroup-1"
    binding = "istio-reader-clusterrole-ug1-1-30-usergroup-1"
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": []})
    rbac.create_cluster_role_binding({
        "metadata": {"name": binding, "labels": {"app": "istio-reader", "release": "istio"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": binding},
        "subjects": [{"kind": "ServiceAccount", "name": "istio-reader-service-account", "namespace": "ug1-legacy"}]})
    try:
        run = ansible_playbook(cluster.kubeconfig, SITE, "-i", INVENTORY)
    finally:
        rbac.delete_cluster_role(name)
        rbac.delete_cluster_role_binding(binding)
    assert run.rc != 0
    assert "Pre-flight found 2 problem(s); nothing was changed" in run.out, run.out
    assert ("ClusterRole {0}, which the install of mesh 'usergroup-1' (revision ug1-1-30, namespace usergroup-1) would "
            "create, exists and is not that mesh's: it carries none of the labels Istio's charts set; made by: no owner "
            "recorded (made by hand?)".format(name)) in run.out
    assert ("ClusterRoleBinding {0}, which the install of mesh 'usergroup-1' (revision ug1-1-30, namespace "
            "usergroup-1) would create, exists and is not that mesh's: it points into namespace ug1-legacy".format(
                binding)) in run.out
    assert not {"usergroup-1", "usergroup-2", "canary-system", "shop"} & {n.metadata.name for n in core.list_namespace().items}


def test_a_look_alike_of_a_planned_object_is_refused_not_adopted(cluster, kube):
    """Tenant hardening, point 3: a user's PeerAuthentication with the very name and spec a mesh would apply. Server-side
    apply would merely add the marks (no conflict), and cleanup would then delete it: pre-flight refuses it, naming
    it and the fix, before any change."""
    from kubernetes import client

    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    core.create_namespace({"metadata": {"name": "usergroup-2"}})
    custom.create_namespaced_custom_object("security.istio.io", "v1", "usergroup-2", "peerauthentications", {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default"},
        "spec": {"mtls": {"mode": "STRICT"}}})
    mark, dummy = cluster.write_requests()
    try:
        run = ansible_playbook(cluster.ansible_kubeconfig, SITE, "-i", INVENTORY)
        writes = cluster.write_requests(mark)[1]
        kept = custom.get_namespaced_custom_object("security.istio.io", "v1", "usergroup-2", "peerauthentications", "default")
    finally:
        delete_namespace(core, "usergroup-2")
    assert run.rc != 0
    assert ("PeerAuthentication usergroup-2/default, which this run would apply, exists and is not this inventory's: it "
            "exists without this inventory's labels (app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner="
            "three-mesh). Fix: remove or rename it if nothing needs it") in run.out, run.out
    assert writes == [] and not (kept["metadata"].get("labels") or {}), kept["metadata"]


def test_a_host_python_without_the_kubernetes_client_stops_before_any_change(cluster, kube, tmp_path):
    """Issue 29 point 8: the stages run in the controller's Python, kubernetes.core's modules in the host's. A host
    interpreter without the kubernetes client (here a bare venv) stops the run at pre-flight, before any change -
    not after stages were applied."""
    from kubernetes import client

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    run = ansible_playbook(cluster.kubeconfig, SITE, "-i", INVENTORY,
                           "-e", "ansible_python_interpreter=" + str(bare / "bin" / "python"))
    assert run.rc != 0, run.out
    assert "TASK [multimesh.istio.preflight : Check that the host's Python runs kubernetes.core's modules" in run.out, run.out
    assert "kubernetes" in run.out[run.out.index("runs kubernetes.core's modules"):].split("PLAY RECAP")[0]
    assert "Apply or render" not in run.out  # no stage ran
    assert not {"usergroup-1", "usergroup-2", "canary-system", "kube-cni"} & {
        n.metadata.name for n in client.CoreV1Api(kube).list_namespace().items}
