"""playbooks/site.yml with the Sail backend against a real API server: converge, idempotence, check, diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest

from conftest import REPO, ansible_playbook, wait_for

SITE = os.path.join(REPO, "playbooks", "site.yml")
INVENTORIES = os.path.join(REPO, "tests", "render", "inventories")
THIRD_MESH = {"name": "mesh-3", "namespace": "istio-system-3", "members": ["app-ns-4"]}
TWO_MESHES = [{"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]},
              {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2", "app-ns-3"]}]


# No istiod runs on this cluster (no --istiods): the operator's injector webhooks fail closed, so no sample pod
# could be created here. test_verify_sail.py runs the samples and the verification with real istiods.
WITHOUT_SAMPLES = ["-e", json.dumps({"multimesh_samples": [], "multimesh_verify": False})]


def site(cluster, *args, meshes=None):
    extra = WITHOUT_SAMPLES + (["-e", json.dumps({"multimesh_meshes": meshes})] if meshes is not None else [])
    # As the audited user: the harness's audit log records the writes of these runs.
    return ansible_playbook(cluster.ansible_kubeconfig, SITE, "-i", os.path.join(INVENTORIES, "two-mesh.yml"),
                            *(extra + list(args)))


def stored(kube):
    """resourceVersion of every object the collection manages, to prove what a run did not touch."""
    from kubernetes import client

    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    # Namespaces the collection labels (other tests create and delete namespaces of their own meanwhile).
    versions = {("Namespace", n.metadata.name): n.metadata.resource_version for n in core.list_namespace().items
                if set(n.metadata.labels or {}) & {"istio-discovery", "app.kubernetes.io/managed-by"}}
    for plural, kind in (("istios", "Istio"), ("istiocnis", "IstioCNI")):
        for obj in custom.list_cluster_custom_object("sailoperator.io", "v1", plural)["items"]:
            versions[(kind, obj["metadata"]["name"])] = obj["metadata"]["resourceVersion"]
    for obj in custom.list_cluster_custom_object("security.istio.io", "v1", "peerauthentications")["items"]:
        versions[("PeerAuthentication", obj["metadata"]["namespace"])] = obj["metadata"]["resourceVersion"]
    for obj in custom.list_cluster_custom_object("networking.istio.io", "v1", "sidecars")["items"]:
        versions[("Sidecar", obj["metadata"]["namespace"])] = obj["metadata"]["resourceVersion"]
    return versions


@pytest.fixture(scope="module")
def converged(cluster, kube):
    first = site(cluster)
    assert first.rc == 0, first.out
    return first


def test_first_run_creates_every_object(converged, kube, cluster):
    from kubernetes import client

    assert converged.recap()["changed"] > 0
    custom, core = client.CustomObjectsApi(kube), client.CoreV1Api(kube)
    istio = custom.get_cluster_custom_object("sailoperator.io", "v1", "istios", "mesh-2")
    assert istio["spec"]["namespace"] == "istio-system-2" and istio["spec"]["version"] == "v1.30.3"
    assert istio["spec"]["values"]["meshConfig"]["discoverySelectors"] == [{"matchLabels": {"istio-discovery": "mesh-2"}}]
    assert custom.get_cluster_custom_object("sailoperator.io", "v1", "istiocnis", "default")["spec"]["namespace"] == "istio-cni"
    pa = custom.get_namespaced_custom_object("security.istio.io", "v1", "istio-system-1", "peerauthentications", "default")
    assert pa["spec"]["mtls"]["mode"] == "STRICT"
    labels = core.read_namespace("app-ns-3").metadata.labels
    assert labels["istio-discovery"] == "mesh-2" and labels["istio.io/rev"] == "mesh-2"
    # The summary names how the run reached the cluster (here kubernetes.core's K8S_AUTH_KUBECONFIG).
    assert "Applied to kubeconfig {0}; backend sail".format(cluster.ansible_kubeconfig) in converged.out
    assert "Pre-flight passed" in converged.out


def test_first_run_waits_until_every_istio_is_ready(converged, kube):
    from kubernetes import client

    assert "wait until every Istio reports Ready - at most 600s for mesh-1, mesh-2" in converged.out
    assert "ready: Istio mesh-1, Istio mesh-2" in converged.out
    custom, apps = client.CustomObjectsApi(kube), client.AppsV1Api(kube)
    for name, namespace in (("mesh-1", "istio-system-1"), ("mesh-2", "istio-system-2")):
        status = custom.get_cluster_custom_object("sailoperator.io", "v1", "istios", name)["status"]
        assert [c["status"] for c in status["conditions"] if c["type"] == "Ready"] == ["True"]
        assert apps.read_namespaced_deployment("istiod-" + name, namespace).status.available_replicas == 1


def test_second_run_changes_nothing_and_sends_no_write_request(converged, cluster, kube):
    before = stored(kube)
    mark, dummy = cluster.write_requests()
    assert mark > 0, "the audit log records the first run's writes"
    again = site(cluster)
    assert again.rc == 0, again.out
    assert again.recap()["changed"] == 0
    assert stored(kube) == before
    assert cluster.write_requests(mark)[1] == []


def test_check_mode_sends_only_dry_runs(converged, cluster, kube):
    mark, dummy = cluster.write_requests()
    check = site(cluster, "--check", meshes=[dict(TWO_MESHES[0], mtls_mode="PERMISSIVE"), TWO_MESHES[1]])
    assert check.rc == 0, check.out
    assert check.recap()["changed"] == 1
    assert cluster.write_requests(mark)[1] == []


def test_check_mode_reports_but_writes_nothing_and_diff_shows_the_change(converged, cluster, kube):
    before = stored(kube)
    meshes = [dict(TWO_MESHES[0], mtls_mode="PERMISSIVE"), TWO_MESHES[1]]
    check = site(cluster, "--check", "--diff", meshes=meshes)
    assert check.rc == 0, check.out
    assert check.recap()["changed"] == 1
    assert "--- before: PeerAuthentication istio-system-1/default" in check.out
    assert "-    mode: STRICT\n+    mode: PERMISSIVE" in check.out
    assert stored(kube) == before


def test_check_mode_with_a_new_mesh_reports_it_though_its_namespace_does_not_exist_yet(converged, cluster, kube):
    before = stored(kube)
    mark, dummy = cluster.write_requests()
    new = {"name": "mesh-9", "namespace": "istio-system-9", "members": ["app-ns-9"]}
    check = site(cluster, "--check", "--diff", meshes=TWO_MESHES + [new])
    assert check.rc == 0, check.out
    assert "--- before: PeerAuthentication istio-system-9/default" in check.out
    assert "20-control-plane: 3 of 9 object(s) would change" in check.out
    assert stored(kube) == before
    assert cluster.write_requests(mark)[1] == []


def test_a_third_mesh_changes_only_what_it_needs(converged, cluster, kube):
    before = stored(kube)
    grown = site(cluster, meshes=TWO_MESHES + [THIRD_MESH])
    assert grown.rc == 0, grown.out
    after = stored(kube)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) >= {("Istio", "mesh-3"), ("Namespace", "istio-system-3"), ("Namespace", "app-ns-4"),
                                        ("PeerAuthentication", "istio-system-3")}


def test_changing_one_mesh_version_touches_only_that_mesh(converged, cluster, kube):
    before = stored(kube)
    changed = site(cluster, meshes=[dict(TWO_MESHES[0], version="1.29.6"), TWO_MESHES[1], THIRD_MESH])
    assert changed.rc == 0, changed.out
    after = stored(kube)
    assert [k for k in before if after.get(k) != before[k]] == [("Istio", "mesh-1")]
    from kubernetes import client

    assert client.CustomObjectsApi(kube).get_cluster_custom_object(
        "sailoperator.io", "v1", "istios", "mesh-1")["spec"]["version"] == "v1.29.6"
    restored = site(cluster, meshes=TWO_MESHES + [THIRD_MESH])
    assert restored.rc == 0, restored.out


def test_tags_run_one_stage_after_the_model_and_preflight(converged, cluster, kube):
    before = stored(kube)
    members = site(cluster, "--tags", "members")
    assert members.rc == 0, members.out
    assert members.recap()["changed"] == 0
    assert "multimesh.istio.members : " in members.out and "Pre-flight passed" in members.out
    # Other roles only validate their arguments (Ansible tags that step always); none of their stages runs.
    assert "wait until every Istio reports Ready" not in members.out
    assert "30-members: 0 of 6 object(s) changed" in members.out  # 3 namespaces, 3 scoping Sidecars
    assert "10-cni: " not in members.out and "20-control-plane: " not in members.out
    cni = site(cluster, "--tags", "cni")
    assert cni.rc == 0 and cni.recap()["changed"] == 0, cni.out
    assert "10-cni: 0 of 2 object(s) changed" in cni.out and "30-members: " not in cni.out
    assert stored(kube) == before


def test_opting_out_of_sidecar_scope_removes_only_that_meshs_sidecars(converged, cluster, kube):
    """Issue 15 item 1: mesh-2 opts out, its Sidecars go; mesh-1's and everything else stay as stored."""
    before = stored(kube)
    mine = {("Sidecar", "app-ns-1"), ("Sidecar", "app-ns-2"), ("Sidecar", "app-ns-3")}
    assert mine <= set(before)  # (an earlier test's third mesh keeps its own in app-ns-4)
    opted_out = [TWO_MESHES[0], dict(TWO_MESHES[1], sidecar_scope={"enabled": False})]
    run = site(cluster, meshes=opted_out)
    assert run.rc == 0, run.out
    gone = {("Sidecar", "app-ns-2"), ("Sidecar", "app-ns-3")}
    assert stored(kube) == dict((k, v) for k, v in before.items() if k not in gone)
    again = site(cluster, meshes=opted_out)
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    back = site(cluster)
    assert back.rc == 0, back.out
    assert mine <= set(stored(kube))


def gateway_objects(kube, namespace):
    """{(kind, name): resourceVersion} of what an ingress gateway is made of, in its namespace."""
    from kubernetes import client

    found = {}
    for kind, items in (
            ("ServiceAccount", client.CoreV1Api(kube).list_namespaced_service_account(namespace).items),
            ("Service", client.CoreV1Api(kube).list_namespaced_service(namespace).items),
            ("Deployment", client.AppsV1Api(kube).list_namespaced_deployment(namespace).items),
            ("Role", client.RbacAuthorizationV1Api(kube).list_namespaced_role(namespace).items),
            ("RoleBinding", client.RbacAuthorizationV1Api(kube).list_namespaced_role_binding(namespace).items)):
        found.update(((kind, o.metadata.name), o.metadata.resource_version) for o in items if o.metadata.name != "default")
    for obj in client.CustomObjectsApi(kube).list_namespaced_custom_object(
            "networking.istio.io", "v1", namespace, "gateways")["items"]:
        found[("Gateway", obj["metadata"]["name"])] = obj["metadata"]["resourceVersion"]
    return found


def test_a_mesh_gets_its_own_ingress_gateway_and_loses_it_when_it_opts_out(converged, cluster, kube):
    """Issue 15 item 3: mesh-2's gateway touches only mesh-2's objects; a second run writes nothing; opting out
    removes exactly what was made for it."""
    from kubernetes import client

    before = stored(kube)
    with_gateway = [TWO_MESHES[0], dict(TWO_MESHES[1], ingress_gateway={"service_type": "ClusterIP"})]
    run = site(cluster, meshes=with_gateway)
    assert run.rc == 0, run.out
    after = stored(kube)
    # mesh-2's Sidecars now let its proxies reach the gateway's namespace; nothing of any other mesh changed.
    mesh_2 = {("Sidecar", "app-ns-2"), ("Sidecar", "app-ns-3"), ("Sidecar", "mesh-2-ingress"), ("Namespace", "mesh-2-ingress")}
    assert set(after) - set(before) == {("Sidecar", "mesh-2-ingress"), ("Namespace", "mesh-2-ingress")}
    assert dict((k, v) for k, v in after.items() if k not in mesh_2) == dict(
        (k, v) for k, v in before.items() if k not in mesh_2)
    made = gateway_objects(kube, "mesh-2-ingress")
    name = "ingressgateway-mesh-2"
    assert sorted(made) == sorted((kind, name) for kind in (
        "ServiceAccount", "Service", "Deployment", "Role", "RoleBinding", "Gateway"))
    template = client.AppsV1Api(kube).read_namespaced_deployment(name, "mesh-2-ingress").spec.template.metadata
    assert template.labels["istio.io/rev"] == "mesh-2" and template.annotations == {"inject.istio.io/templates": "gateway"}
    mark, dummy = cluster.write_requests()
    again = site(cluster, meshes=with_gateway)
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    assert cluster.write_requests(mark)[1] == [] and gateway_objects(kube, "mesh-2-ingress") == made
    # Serving no plain HTTP any more: its Gateway goes, the gateway itself stays.
    https_only = [TWO_MESHES[0], dict(TWO_MESHES[1], ingress_gateway={"service_type": "ClusterIP", "ports": [
        {"name": "https", "port": 443}]})]
    run = site(cluster, meshes=https_only)
    assert run.rc == 0, run.out
    assert sorted(gateway_objects(kube, "mesh-2-ingress")) == sorted((kind, name) for kind in (
        "ServiceAccount", "Service", "Deployment", "Role", "RoleBinding"))
    again = site(cluster, meshes=https_only)
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    dropped = site(cluster, meshes=[TWO_MESHES[0], dict(TWO_MESHES[1], ingress_gateway={"enabled": False})])
    assert dropped.rc == 0, dropped.out
    assert gateway_objects(kube, "mesh-2-ingress") == {}
    # The namespace stays (members_prune would take its labels off); its Sidecar went with the gateway's scope.
    left = stored(kube)
    assert ("Namespace", "mesh-2-ingress") in left and ("Sidecar", "mesh-2-ingress") not in left
    back = site(cluster)
    assert back.rc == 0, back.out
    assert dict((k, v) for k, v in stored(kube).items() if k not in mesh_2) == dict(
        (k, v) for k, v in before.items() if k not in mesh_2)


def test_another_inventory_cannot_take_this_ones_objects(converged, cluster, kube):
    """Issue 13 point 2: the same meshes under another identity (a second inventory on the cluster) are refused."""
    before = stored(kube)
    mark, dummy = cluster.write_requests()
    other = site(cluster, "-e", "multimesh_owner=team-b")
    assert other.rc != 0
    assert ("Istio mesh-1 belongs to the inventory 'two-mesh' (multimesh.istio/owner=two-mesh), not to this one "
            "('team-b')") in other.out
    assert "Namespace app-ns-3 belongs to the inventory 'two-mesh'" in other.out
    assert stored(kube) == before
    assert cluster.write_requests(mark)[1] == []


def test_invalid_inventory_changes_nothing(converged, cluster, kube):
    before = stored(kube)
    bad = ansible_playbook(cluster.kubeconfig, SITE, "-i", os.path.join(INVENTORIES, "invalid.yml"))
    assert bad.rc != 0
    assert "mesh 'mesh-2'.mtls_mode: unsupported mode 'STRIKT'" in bad.out
    assert stored(kube) == before


def test_timeout_names_the_istio_and_its_condition(converged, cluster, kube):
    """An istiod that cannot start (a quota forbids pods) fails the wait with the operator's reason."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": "istio-system-slow"}})
    core.create_namespaced_resource_quota("istio-system-slow", {"metadata": {"name": "no-pods"}, "spec": {"hard": {"pods": "0"}}})
    slow = {"name": "slow", "namespace": "istio-system-slow", "members": []}
    run = site(cluster, "-e", "control_plane_ready_timeout=6", "-e", "control_plane_ready_poll=2",
               meshes=TWO_MESHES + [THIRD_MESH, slow])
    assert run.rc != 0
    # The operator's reason, and what keeps its istiod Deployment from starting pods.
    assert ("Timed out after 6s waiting for Istio to be ready: Istio slow: Ready=False (IstiodNotReady: istiod "
            "Deployment is scaled to zero replicas); Deployment istio-system-slow/istiod-slow: ") in run.out, run.out
    assert re.search(r"ReplicaFailure=True \(FailedCreate: pods \\?\"istiod-slow-[a-z0-9-]+\\?\" is forbidden: exceeded quota",
                     run.out), run.out
    client.CustomObjectsApi(kube).delete_cluster_custom_object("sailoperator.io", "v1", "istios", "slow")
    core.delete_namespace("istio-system-slow")


def test_departed_members_lose_the_labels_when_pruning(converged, cluster, kube):
    from kubernetes import client

    core = client.CoreV1Api(kube)
    shrunk = [TWO_MESHES[0], dict(TWO_MESHES[1], members=["app-ns-2"]), THIRD_MESH]
    kept = site(cluster, meshes=shrunk)
    assert kept.rc == 0, kept.out
    assert core.read_namespace("app-ns-3").metadata.labels.get("istio.io/rev") == "mesh-2"
    pruned = site(cluster, "-e", "members_prune=true", meshes=shrunk)
    assert pruned.rc == 0, pruned.out
    labels = core.read_namespace("app-ns-3").metadata.labels or {}
    assert "istio.io/rev" not in labels and "istio-discovery" not in labels
    assert core.read_namespace("app-ns-2").metadata.labels["istio.io/rev"] == "mesh-2"
    again = site(cluster, "-e", "members_prune=true", meshes=shrunk)
    assert again.recap()["changed"] == 0


def test_samples_whose_pods_the_injector_refuses_fail_naming_why_and_are_removed(converged, cluster, kube):
    """No istiod runs on this cluster, and the injector webhook the operator renders fails closed: the sample
    Deployments cannot create pods, and the wait says why (the ReplicaSets' FailedCreate, from the API server)."""
    from kubernetes import client

    run = ansible_playbook(cluster.kubeconfig, SITE, "-i", os.path.join(INVENTORIES, "two-mesh.yml"), "-e", json.dumps(
        {"multimesh_meshes": TWO_MESHES, "multimesh_verify": False, "samples_wait_timeout": 10}))
    assert run.rc != 0, run.out
    assert "Timed out after 10s waiting for Deployment to be ready: " in run.out, run.out
    for ns in ("app-ns-1", "app-ns-2", "app-ns-3"):
        for app in ("sleep", "httpbin"):
            assert re.search(r"Deployment {0}/{1}: Available=False \(MinimumReplicasUnavailable: [^)]*\); ReplicaFailure=True "
                             r"\(FailedCreate: Internal error occurred: failed calling webhook \\?\"rev\.namespace\.sidecar-injector"
                             r"\.istio\.io\\?\": failed to call webhook: Post \\?\"https://istiod-mesh-\d\.istio-system-\d\.svc:443/"
                             r"inject".format(ns, app), run.out), run.out
    apps = client.AppsV1Api(kube)
    assert apps.read_namespaced_deployment("httpbin", "app-ns-3").status.available_replicas is None
    removed = ansible_playbook(cluster.kubeconfig, SITE, "-i", os.path.join(INVENTORIES, "two-mesh.yml"),
                               "-e", json.dumps({"multimesh_meshes": TWO_MESHES, "multimesh_verify": False, "samples_state": "absent"}))
    assert removed.rc == 0, removed.out
    assert [d.metadata.name for d in apps.list_namespaced_deployment("app-ns-3").items] == []


def test_cleanup_removes_what_site_made_and_nothing_else(converged, cluster, kube):
    from kubernetes import client

    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    core.patch_namespace("app-ns-1", {"metadata": {"labels": {"team": "payments"}}})
    # Someone else's objects with the names of the samples and of a mesh's policy: cleanup must keep them.
    core.create_namespaced_service_account("app-ns-2", {"metadata": {"name": "httpbin", "labels": {"team": "payments"}}})
    custom.create_namespaced_custom_object("security.istio.io", "v1", "app-ns-2", "peerauthentications", {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default"},
        "spec": {"mtls": {"mode": "STRICT"}}})
    # An istiod installed by other means (Helm, istioctl) still needs the shared CNI.
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_deployment("app-ns-2", {"metadata": {"name": "istiod-helm", "labels": {"app": "istiod"}}, "spec": {
        "replicas": 0, "selector": {"matchLabels": {"app": "istiod"}},
        "template": {"metadata": {"labels": {"app": "istiod"}}, "spec": {"containers": [{"name": "discovery", "image": "istiod"}]}}}})
    istio_system_1_policy = custom.get_namespaced_custom_object("security.istio.io", "v1", "istio-system-1",
                                                                "peerauthentications", "default")
    custom.patch_namespaced_custom_object("security.istio.io", "v1", "istio-system-1", "peerauthentications", "default",
                                          {"metadata": {"labels": {"app.kubernetes.io/managed-by": "someone-else"}}})
    meshes = [dict(TWO_MESHES[0], members=[{"name": "app-ns-1"}]),
              dict(TWO_MESHES[1], members=["app-ns-2", {"name": "app-ns-3", "owned": True}]), THIRD_MESH]
    cleanup = os.path.join(REPO, "playbooks", "cleanup.yml")
    extra = ["-i", os.path.join(INVENTORIES, "two-mesh.yml"), "-e", json.dumps({"multimesh_meshes": meshes})]
    removed = ansible_playbook(cluster.kubeconfig, cleanup, *extra)
    assert removed.rc == 0, removed.out
    # app-ns-3 is declared owned now, but site.yml did not create it: cleanup keeps it and takes off only its labels.
    assert ("Removed 3 mesh(es) in reverse order (mesh-3, mesh-2, mesh-1); namespaces deleted: none; owned but kept "
            "(not created by this inventory): app-ns-3") in removed.out
    assert custom.list_cluster_custom_object("sailoperator.io", "v1", "istios")["items"] == []
    assert [c["metadata"]["name"] for c in custom.list_cluster_custom_object("sailoperator.io", "v1", "istiocnis")["items"]] == ["default"]
    assert "The shared CNI stays: Deployment app-ns-2/istiod-helm still need(s) it" in removed.out
    # Ours are gone; the foreign ones (no mark, or another manager's mark) are kept and named.
    kept = custom.list_cluster_custom_object("security.istio.io", "v1", "peerauthentications")["items"]
    assert sorted(p["metadata"]["namespace"] for p in kept) == ["app-ns-2", "istio-system-1"]
    assert istio_system_1_policy["metadata"]["uid"] == [p for p in kept if p["metadata"]["namespace"] == "istio-system-1"][0]["metadata"]["uid"]
    assert core.read_namespaced_service_account("httpbin", "app-ns-2").metadata.labels == {"team": "payments"}
    assert "kept (same name, not created by this inventory): PeerAuthentication istio-system-1/default" in removed.out
    assert "ServiceAccount app-ns-2/httpbin" in removed.out
    assert core.read_namespace("app-ns-1").metadata.labels.get("team") == "payments"
    for name in ("app-ns-1", "app-ns-2", "app-ns-3", "istio-system-1"):
        labels = core.read_namespace(name).metadata.labels or {}
        assert not set(labels) & {"istio.io/rev", "istio-discovery", "app.kubernetes.io/managed-by",
                                  "multimesh.istio/owner"}, (name, labels)
    assert core.read_namespace("app-ns-3").status.phase == "Active"
    apps.delete_namespaced_deployment("istiod-helm", "app-ns-2")
    wait_for("the foreign istiod to be deleted", lambda: not apps.list_namespaced_deployment("app-ns-2").items)
    second = ansible_playbook(cluster.kubeconfig, cleanup, *extra)
    assert second.rc == 0, second.out
    assert custom.list_cluster_custom_object("sailoperator.io", "v1", "istiocnis")["items"] == []
    third = ansible_playbook(cluster.kubeconfig, cleanup, *extra)
    assert third.rc == 0, third.out
    assert third.recap()["changed"] == 0
    # The session's cluster is shared with other test modules: remove the foreign objects made above.
    core.delete_namespaced_service_account("httpbin", "app-ns-2")
    for namespace in ("app-ns-2", "istio-system-1"):
        custom.delete_namespaced_custom_object("security.istio.io", "v1", namespace, "peerauthentications", "default")
