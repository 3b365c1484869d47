"""Canary upgrade of one mesh with the istioctl backend (issue 15 item 4): real istioctl installs each version's
revision beside the last, the chart's revisionTags moves the mesh's tag, and the real istiod of each revision
(istiod_runner.py) injects the pods the tag sends it - so the revision a restarted pod records is the injector's own.
upgrade.yml restarts the workloads (the mesh's ingress gateway too), uninstalls the old revision once no pod uses it,
leaves the other mesh alone; a rollback while the old revision exists; cleanup removes every revision."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from conftest import api_client, deploy_web, fresh_cluster, harness, injected, play, upgrade, wait_for, write_inventory


@pytest.fixture(scope="module")
def world():
    with fresh_cluster("it-c9", 2600, istiods=True) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def api(world):
    return api_client(world.kubeconfig)


def meshes(version):
    return [{"name": "blue", "namespace": "blue-system", "members": [{"name": "blue-apps", "owned": True}],
             "version": version, "update_strategy": {"type": "RevisionBased"},
             "ingress_gateway": {"service_type": "ClusterIP"}},
            {"name": "green", "namespace": "green-system", "members": [{"name": "green-apps", "owned": True}]}]


@pytest.fixture(scope="module")
def inventory(world, tmp_path_factory):
    work = tmp_path_factory.mktemp("canary-istioctl")
    return write_inventory(work / "canary.yml", {"cluster-1": {"multimesh_kubeconfig": world.ansible_kubeconfig}}, {
        "multimesh_backend": "istioctl", "multimesh_cni": {"enabled": False}, "multimesh_meshes": meshes("1.30.2"),
        "multimesh_istioctl_path": os.path.join(harness.build(), "istioctl"),
        "multimesh_samples": [], "multimesh_verify": False})


def istiods(api, namespace="blue-system"):
    from kubernetes import client

    return sorted(d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment(
        namespace, label_selector="app=istiod").items if not d.metadata.deletion_timestamp)


def tag_target(api):
    from kubernetes import client

    hooks = client.AdmissionregistrationV1Api(api).list_mutating_webhook_configuration(label_selector="istio.io/tag=blue").items
    return [(h.metadata.name, h.metadata.labels["istio.io/rev"]) for h in hooks]


def green(api):
    """resourceVersions of mesh green's workloads and webhooks, and of every namespace. (Not its ConfigMaps: green's
    running istiod writes some itself - leader election, root certificate; the audit log shows nobody else did.)"""
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    found = dict((("namespace", n.metadata.name), n.metadata.resource_version) for n in core.list_namespace().items)
    for ns in ("green-system", "green-apps"):
        found.update((("deployment", ns, d.metadata.name), d.metadata.resource_version) for d in apps.list_namespaced_deployment(ns).items)
    admission = client.AdmissionregistrationV1Api(api)
    found.update((("webhook", h.metadata.name), h.metadata.resource_version) for h in admission.list_mutating_webhook_configuration(
        label_selector="istio.io/rev=green").items)
    return found


def upgrade_istioctl(inventory, *args):
    # The harness's istioctl is a development build of istio.io/istio (1.31-alpha), not the versions named here.
    return upgrade(inventory, "upgrade_check_istioctl_version=false", *args)


def test_istioctl_canary_upgrade_restart_rollback_and_cleanup(world, api, inventory):
    run = play(inventory, "site.yml")
    assert run.rc == 0, run.out
    assert istiods(api) == ["istiod-blue-v1-30-2"] and istiods(api, "green-system") == ["istiod-green"]
    assert tag_target(api) == [("istio-revision-tag-blue-blue-system", "blue-v1-30-2")]
    deploy_web(api, "blue-apps")
    deploy_web(api, "green-apps")
    wait_for("web pods of blue injected by istiod-blue-v1-30-2 through the tag", lambda: sorted(
        injected(api, "blue-apps", "app=web").values()) == ["blue-v1-30-2"] * 2, timeout=90)
    wait_for("the gateway injected by istiod-blue-v1-30-2", lambda: list(
        injected(api, "blue-ingress", "app=ingressgateway-blue").values()) == ["blue-v1-30-2"], timeout=90)
    wait_for("web pods of green injected by istiod-green", lambda: sorted(
        injected(api, "green-apps", "app=web").values()) == ["green"] * 2, timeout=90)
    before = green(api)
    start, dummy = world.write_requests()

    mark, dummy = world.write_requests()
    # With the check on, this istioctl (1.31-alpha) cannot make a 1.30.3 revision: refused before any change.
    refused = play(inventory, "upgrade.yml", "-e", "upgrade_mesh=blue", "-e", "upgrade_version=1.30.3")
    assert refused.rc != 0 and "is 1.31-alpha." in refused.out and "set multimesh_istioctl_path to the istioctl of 1.30.3" \
        in refused.out, refused.out
    checked = upgrade_istioctl(inventory, "upgrade_version=1.30.3", "upgrade_restart=true", "--check")
    assert checked.rc == 0, checked.out
    for line in ("mesh blue: upgrade blue-v1-30-2 -> blue-v1-30-3 (new revision beside the old)",
                 "restart Deployment blue-apps/web (on blue-v1-30-2)",
                 "restart Deployment blue-ingress/ingressgateway-blue (on blue-v1-30-2)",
                 "revision blue-v1-30-2: uninstalled (istioctl uninstall --revision) once no pod uses it"):
        assert line in checked.out, checked.out
    assert world.write_requests(mark)[1] == [] and istiods(api) == ["istiod-blue-v1-30-2"]

    # The canary without a restart: both revisions run, the tag points at the new one, the pods stay.
    canary = upgrade_istioctl(inventory, "upgrade_version=1.30.3", "upgrade_restart=false")
    assert canary.rc == 0, canary.out
    assert istiods(api) == ["istiod-blue-v1-30-2", "istiod-blue-v1-30-3"]
    assert tag_target(api) == [("istio-revision-tag-blue-blue-system", "blue-v1-30-3")]
    assert sorted(injected(api, "blue-apps", "app=web").values()) == ["blue-v1-30-2"] * 2

    # Rollback while blue-v1-30-2 runs: the tag goes back, and the canary (no pod on it) is uninstalled.
    back = upgrade_istioctl(inventory, "upgrade_version=1.30.2", "upgrade_rollback=true")
    assert back.rc == 0, back.out
    assert "mesh blue: roll back blue-v1-30-3 -> blue-v1-30-2 (existing revision)" in back.out, back.out
    assert tag_target(api) == [("istio-revision-tag-blue-blue-system", "blue-v1-30-2")]
    assert istiods(api) == ["istiod-blue-v1-30-2"]

    # The upgrade with the rolling restart: the new pods are injected by the new revision, the old one is uninstalled.
    moved = upgrade_istioctl(inventory, "upgrade_version=1.30.3", "upgrade_restart=true")
    assert moved.rc == 0, moved.out
    assert sorted(injected(api, "blue-apps", "app=web").values()) == ["blue-v1-30-3"] * 2
    assert list(injected(api, "blue-ingress", "app=ingressgateway-blue").values()) == ["blue-v1-30-3"]
    assert istiods(api) == ["istiod-blue-v1-30-3"]
    assert tag_target(api) == [("istio-revision-tag-blue-blue-system", "blue-v1-30-3")]
    from kubernetes import client
    hooks = [h.metadata.name for h in client.AdmissionregistrationV1Api(api).list_mutating_webhook_configuration().items]
    assert "istio-sidecar-injector-blue-v1-30-2-blue-system" not in hooks and "istio-sidecar-injector-blue-v1-30-3-blue-system" in hooks
    assert green(api) == before
    # Nothing the runs wrote (as the collection's user) was green's, or outside blue's namespaces and cluster objects.
    writes = world.write_requests(start)[1]
    assert writes and not [w for w in writes if "green" in w[1]], writes

    mark, dummy = world.write_requests()
    again = upgrade_istioctl(inventory, "upgrade_version=1.30.3", "upgrade_restart=true")
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    assert world.write_requests(mark)[1] == []
    refused = upgrade_istioctl(inventory, "upgrade_version=1.30.2", "upgrade_rollback=true")
    assert refused.rc != 0 and "upgrade_rollback: revision blue-v1-30-2 of mesh 'blue' no longer exists" in refused.out
    assert world.write_requests(mark)[1] == []

    # site.yml from an inventory that names the new version is the same state: nothing to write.
    converged = play(inventory, "site.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.3")}))
    assert converged.rc == 0 and converged.recap()["changed"] == 0, converged.out
    assert world.write_requests(mark)[1] == []

    # A revision left behind (a canary nobody retired) goes with cleanup too.
    left = play(inventory, "site.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.1")}))
    assert left.rc == 0, left.out
    assert istiods(api) == ["istiod-blue-v1-30-1", "istiod-blue-v1-30-3"]
    removed = play(inventory, "cleanup.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.1")}))
    assert removed.rc == 0, removed.out

    def blue_namespaces():
        return [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items if n.metadata.name.startswith("blue")]

    # The member and gateway namespaces were the inventory's (owned); the mesh's namespace stays, without istiod.
    wait_for("blue-apps and blue-ingress gone", lambda: blue_namespaces() == ["blue-system"], timeout=120)
    assert istiods(api) == []

    # istioctl deletes in the foreground: an object stays listed, with a deletionTimestamp, until the garbage
    # collector (slow while it resyncs after CRD changes) finishes it. Anything blue not being deleted is a failure.
    def blue(items):
        return [(i.metadata.name, bool(i.metadata.deletion_timestamp)) for i in items if "blue" in i.metadata.name]

    def leftovers():
        hooks = blue(client.AdmissionregistrationV1Api(api).list_mutating_webhook_configuration().items)
        roles = blue(client.RbacAuthorizationV1Api(api).list_cluster_role().items)
        return hooks + roles

    assert all(deleting for _name, deleting in leftovers()), leftovers()
    wait_for("the blue webhooks and cluster roles deleted", lambda: leftovers() == [], timeout=120)
