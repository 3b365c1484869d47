"""Tenant-side fault injection (tenant-hardening issue): one cluster, two inventories, the real Sail Operator. Tenant
A's mesh (inventory tenant-a) is converged; tenant A, who can write only in its own namespaces, then plants there what
the issue names against the other tenant: a remote secret whose kubeconfig runs a command, labels claiming its
namespace for mesh B and for inventory B, a fake istiod of B's revision with a mesh config that selects everything, and
a pod on B's old revision. Inventory B (tenant-b) then runs site.yml, verify.yml, upgrade.yml and cleanup.yml: each
refusal names the object and the fix, nothing outside inventory B is written (the API server's audit log), and nothing
runs on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re

import pytest
import yaml

from conftest import api_client, fresh_cluster, play, read_report, wait_for, write_inventory

TENANT_A = {"name": "alpha", "namespace": "alpha-system", "members": [{"name": "alpha-apps", "owned": True}]}


def mesh_b(version):
    return {"name": "bravo", "namespace": "bravo-system", "members": [{"name": "bravo-apps", "owned": True}],
            "version": version,
            "update_strategy": {"type": "RevisionBased", "inactive_revision_deletion_grace_period_seconds": 0}}


@pytest.fixture(scope="module")
def world():
    with fresh_cluster("it-tenant", 2200, sail=True, istiods=True) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def api(world):
    return api_client(world.kubeconfig)


def inventory(path, cluster, owner, meshes):
    return write_inventory(path, {"cluster-1": {"multimesh_kubeconfig": cluster.ansible_kubeconfig}}, {
        "multimesh_backend": "sail", "multimesh_owner": owner, "multimesh_meshes": meshes,
        "multimesh_samples": [], "multimesh_verify": False})


@pytest.fixture(scope="module")
def inventories(world, tmp_path_factory):
    work = tmp_path_factory.mktemp("tenants")
    return {"a": inventory(work / "tenant-a.yml", world, "tenant-a", [TENANT_A]),
            "b": inventory(work / "tenant-b.yml", world, "tenant-b", [mesh_b("1.30.2")]),
            "marker": str(work / "ran-on-the-controller"), "work": work}


def exec_kubeconfig(marker):
    """A kubeconfig whose user is an exec plugin: loading it as a client would run `sh` on the controller."""
    plugin = {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh", "args": ["-c", "id > " + marker],
              "interactiveMode": "Never"}
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"exec": plugin}}]})


@pytest.fixture(scope="module")
def planted(world, api, inventories):
    """Tenant A's mesh converged, then every plant of tenant A in its own namespaces."""
    from kubernetes import client

    first = play(inventories["a"], "site.yml")
    assert first.rc == 0, first.out
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    # The plant is live: a client loaded from it runs the command (so the marker check below can fail).
    from kubernetes import config

    proof = inventories["marker"] + ".proof"
    config.load_kube_config_from_dict(yaml.safe_load(exec_kubeconfig(proof)), client_configuration=client.Configuration())
    assert os.path.exists(proof)
    secret = base64.b64encode(exec_kubeconfig(inventories["marker"]).encode()).decode()
    for namespace in ("alpha-system", "alpha-apps"):
        for name in ("istio-remote-secret-cluster-1", "istio-kubeconfig"):
            core.create_namespaced_secret(namespace, {"metadata": {"name": name, "labels": {
                "istio/multiCluster": "true", "app.kubernetes.io/managed-by": "multimesh.istio",
                "multimesh.istio/owner": "tenant-b"}}, "data": {"config": secret, "cluster-1": secret}})
    # Its member namespace claimed for mesh B and inventory B (B's discovery label and revision, B's owner marks).
    core.patch_namespace("alpha-apps", {"metadata": {"labels": {
        "istio-discovery": "bravo", "multimesh.istio/owner": "tenant-b"}}})
    # A fake istiod of B's revision (scaled to zero), with a mesh config that selects every namespace.
    core.create_namespaced_config_map("alpha-system", {"metadata": {"name": "istio-bravo", "labels": {
        "istio.io/rev": "bravo"}}, "data": {"mesh": yaml.safe_dump({"discoverySelectors": []})}})
    labels = {"app": "istiod", "istio.io/rev": "bravo"}
    apps.create_namespaced_deployment("alpha-system", {"metadata": {"name": "istiod-bravo", "labels": labels}, "spec": {
        "replicas": 0, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "discovery", "image": "pilot"}]}}}})
    # A workload on B's first revision (its pods skip A's injector; the operator counts the annotation as a use).
    decoy = {"app": "decoy", "sidecar.istio.io/inject": "false"}
    apps.create_namespaced_deployment("alpha-apps", {"metadata": {"name": "decoy"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "decoy"}}, "template": {"metadata": {
            "labels": decoy, "annotations": {"istio.io/rev": "bravo-v1-30-2"}},
            "spec": {"containers": [{"name": "decoy", "image": "decoy"}]}}}})
    return {"alpha": snapshot(api)}


def snapshot(api):
    """What tenant A has: its Istio's spec, its namespaces' labels, its objects' uids - B's runs must not change them."""
    from kubernetes import client

    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    istio = custom.get_cluster_custom_object("sailoperator.io", "v1", "istios", "alpha")
    found = {"istio": (istio["metadata"]["uid"], istio["metadata"]["generation"], istio["metadata"].get("labels"))}
    for namespace in ("alpha-system", "alpha-apps"):
        ns = core.read_namespace(namespace)
        found[namespace] = (ns.metadata.uid, ns.metadata.labels, ns.status.phase)
        found[namespace + "/secrets"] = sorted((s.metadata.name, s.metadata.uid, s.metadata.resource_version)
                                               for s in core.list_namespaced_secret(namespace).items
                                               if s.metadata.name.startswith("istio-"))
    found["deployments"] = sorted((d.metadata.namespace, d.metadata.name, d.metadata.uid, d.metadata.generation)
                                  for ns in ("alpha-system", "alpha-apps")
                                  for d in apps.list_namespaced_deployment(ns).items)
    return found


def writes_outside(world, mark, allowed=("bravo-system", "bravo-apps")):
    """Write requests of B's runs since mark that touch anything but inventory B's namespaces and B's own objects."""
    dummy, writes = world.write_requests(mark)
    ours = tuple("/namespaces/" + ns for ns in allowed) + ("/istios/bravo", "/istiorevisiontags/bravo", "/istiocnis/default")
    return [(verb, uri) for verb, uri in writes if not any(part in uri.split("?")[0] for part in ours)
            and not uri.split("?")[0].endswith(("/namespaces", "/istios", "/istiorevisiontags"))]


def test_tenant_b_runs_every_playbook_and_tenant_a_reaches_nothing(world, api, inventories, planted):
    from kubernetes import client

    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    mark, dummy = world.write_requests()
    # 1. site.yml: the fake istiod of B's revision and its mesh config that selects everything are refused before
    #    any change, named with the fix.
    refused = play(inventories["b"], "site.yml")
    assert refused.rc != 0, refused.out
    assert "Pre-flight found 2 problem(s); nothing was changed" in refused.out, refused.out
    for named in ("is already served by istiod Deployment alpha-system/istiod-bravo, outside the mesh's namespace "
                  "bravo-system. Fix: ", "istiod revision bravo (mesh config ConfigMap alpha-system/istio-bravo; made by: "
                  "revision bravo) is not this inventory's and has no discoverySelectors"):
        assert named in refused.out, refused.out
    assert world.write_requests(mark)[1] == [], "pre-flight wrote"
    # Tenant A's admin removes the fake (the answer to the refusal); every other plant stays.
    apps.delete_namespaced_deployment("istiod-bravo", "alpha-system")
    core.delete_namespaced_config_map("istio-bravo", "alpha-system")
    wait_for("the fake istiod gone", lambda: "istiod-bravo" not in [
        d.metadata.name for d in apps.list_namespaced_deployment("alpha-system").items])
    before = snapshot(api)
    mark, dummy = world.write_requests()

    converged = play(inventories["b"], "site.yml")
    assert converged.rc == 0, converged.out
    again = play(inventories["b"], "site.yml")
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out

    # 2. verify.yml: tenant A's namespace, labelled into mesh B, is named (B's istiod gives it B's root).
    report_dir = inventories["work"] / "verify-b"
    verified = play(inventories["b"], "verify.yml", "-e", "multimesh_verify_report_dir=" + str(report_dir))
    assert verified.rc != 0, verified.out
    report, checks = read_report(report_dir)
    intruder = checks["root of trust alpha-apps"]
    assert intruder["status"] == "fail" and intruder["observed"] == "root of bravo", intruder
    assert "namespace alpha-apps is not in mesh bravo but its istiod discovers it" in intruder["reason"], intruder
    assert report["failed"] == ["root of trust alpha-apps"], report["failed"]

    # 3. upgrade.yml: B's canary goes ahead, but tenant A's decoy keeps B's old revision in use (the operator counts its
    #    annotation): the wait names the decoy's pod and the fix, and restarts nothing of tenant A.
    upgraded = play(inventories["b"], "upgrade.yml", "-e", "upgrade_mesh=bravo", "-e", "upgrade_version=1.30.3",
                    "-e", "upgrade_restart=true", "-e", "upgrade_poll=1", "-e", "upgrade_timeout=20")
    assert upgraded.rc != 0, upgraded.out
    assert re.search(r"Revision\(s\) bravo-v1-30-2 still in use after 20s; pods on them: alpha-apps/decoy-[a-z0-9]+-[a-z0-9]+\. "
                     r"Fix: restart or delete those pods", upgraded.out), upgraded.out
    assert custom.get_cluster_custom_object("sailoperator.io", "v1", "istiorevisiontags", "bravo")["status"][
        "istioRevision"] == "bravo-v1-30-3"

    # 4. cleanup.yml: B's objects only; tenant A's namespace, claimed for B, is neither deleted nor relabelled, and
    #    the shared CNI stays for tenant A's Istio.
    removed = play(inventories["b"], "cleanup.yml", "-e", json.dumps({"multimesh_meshes": [mesh_b("1.30.3")]}))
    assert removed.rc == 0, removed.out
    assert "The shared CNI stays: Istio alpha still need(s) it" in removed.out, removed.out
    assert custom.list_cluster_custom_object("sailoperator.io", "v1", "istiorevisiontags")["items"] == []
    assert [i["metadata"]["name"] for i in custom.list_cluster_custom_object("sailoperator.io", "v1", "istios")["items"]] == ["alpha"]

    # Nothing ran on the controller, nothing outside inventory B was written, tenant A's objects are as they were.
    assert not os.path.exists(inventories["marker"]), "a tenant's kubeconfig ran a command on the controller"
    assert writes_outside(world, mark) == []
    assert snapshot(api) == before
