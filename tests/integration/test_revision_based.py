"""RevisionBased meshes (issue 15 item 4) against a real API server and garbage collector, the real Sail Operator and a
real istiod per revision (sidecar injection through the operator's tag webhook). First the operator's own part, as the
collection relies on it: a revision per version, a tag that follows the Istio's active revision, an old revision kept
while a workload its istiod injected runs and deleted once nothing uses it. Then site.yml on a RevisionBased mesh beside an InPlace
one: converge, a version bump that moves only that mesh, idempotence, verification of the tag, cleanup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from conftest import (api_client, deploy_web, fresh_cluster, injected, play, read_report, upgrade, wait_for,
                      write_inventory)

GROUP, VERSION = "sailoperator.io", "v1"


@pytest.fixture(scope="module")
def world():
    with fresh_cluster("it-c8", 2500, sail=True, istiods=True) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def api(world):
    return api_client(world.kubeconfig)


def get(api, plural, name):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        return client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, VERSION, plural, name)
    except ApiException as exc:
        if exc.status != 404:
            raise
        return None


def condition(obj, kind):
    return dict((c["type"], c) for c in ((obj or {}).get("status") or {}).get("conditions") or []).get(kind, {})


def istiods(api):
    from kubernetes import client

    return sorted(d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment("canary-system").items)


@pytest.fixture
def canary(api):
    """Removes what the operator test made even when it fails, so the site.yml test's pre-flight sees no foreign Istio."""
    yield
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    for plural in ("istiorevisiontags", "istios"):
        if get(api, plural, "canary") is not None:
            custom.delete_cluster_custom_object(GROUP, VERSION, plural, "canary")
    for namespace in ("canary-apps", "canary-system"):
        try:
            core.delete_namespace(namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for("Istio canary gone", lambda: get(api, "istios", "canary") is None, timeout=60)
    # Its istiods' mesh configs too: pre-flight refuses a foreign istiod whose mesh config has no discoverySelectors.
    wait_for("namespaces canary-apps and canary-system gone", lambda: not [
        n for n in core.list_namespace().items if n.metadata.name in ("canary-apps", "canary-system")], timeout=60)


def test_a_version_bump_makes_a_new_revision_moves_the_tag_and_prunes_the_old_one_once_unused(api, canary):
    from kubernetes import client

    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    admission = client.AdmissionregistrationV1Api(api)
    core.create_namespace({"metadata": {"name": "canary-system"}})
    custom.create_cluster_custom_object(GROUP, VERSION, "istios", {
        "apiVersion": GROUP + "/" + VERSION, "kind": "Istio", "metadata": {"name": "canary"},
        "spec": {"namespace": "canary-system", "version": "v1.30.3",
                 "updateStrategy": {"type": "RevisionBased", "inactiveRevisionDeletionGracePeriodSeconds": 0}}})
    custom.create_cluster_custom_object(GROUP, VERSION, "istiorevisiontags", {
        "apiVersion": GROUP + "/" + VERSION, "kind": "IstioRevisionTag", "metadata": {"name": "canary"},
        "spec": {"targetRef": {"kind": "Istio", "name": "canary"}}})

    wait_for("Istio canary Ready on revision canary-v1-30-3", lambda: condition(
        get(api, "istios", "canary"), "Ready").get("status") == "True", timeout=60)
    assert get(api, "istios", "canary")["status"]["activeRevisionName"] == "canary-v1-30-3"
    revision = get(api, "istiorevisions", "canary-v1-30-3")
    assert revision["spec"]["values"]["revision"] == "canary-v1-30-3"
    assert [r["kind"] for r in revision["metadata"]["ownerReferences"]] == ["Istio"]
    assert istiods(api) == ["istiod-canary-v1-30-3"]
    wait_for("tag canary resolved to canary-v1-30-3", lambda: (get(api, "istiorevisiontags", "canary").get(
        "status") or {}).get("istioRevision") == "canary-v1-30-3")
    hook = admission.read_mutating_webhook_configuration("istio-revision-tag-canary-canary-system")
    assert (hook.metadata.labels["istio.io/tag"], hook.metadata.labels["istio.io/rev"]) == ("canary", "canary-v1-30-3")
    assert {w.client_config.service.name for w in hook.webhooks} == {"istiod-canary-v1-30-3"}

    # A namespace on the tag, and a workload the tag's webhook has the revision's istiod inject (it annotates the pod
    # with its revision).
    core.create_namespace({"metadata": {"name": "canary-apps", "labels": {"istio.io/rev": "canary"}}})

    def created():
        """True once the pod is created: until istiod canary-v1-30-3 listens, its webhook (failurePolicy Fail) refuses it."""
        from kubernetes.client.rest import ApiException

        try:
            core.create_namespaced_pod("canary-apps", {"metadata": {"name": "app"},
                                                       "spec": {"containers": [{"name": "app", "image": "app"}]}})
            return True
        except ApiException as exc:
            if exc.status == 500 and "sidecar-injector.istio.io" in exc.body:
                return False
            raise

    wait_for("istiod canary-v1-30-3 to answer the tag's injector", created, timeout=60)
    assert injected(api, "canary-apps", selector="") == {"app": "canary-v1-30-3"}
    wait_for("tag canary in use by its namespace", lambda: condition(
        get(api, "istiorevisiontags", "canary"), "InUse").get("status") == "True")

    custom.patch_cluster_custom_object(GROUP, VERSION, "istios", "canary", {"spec": {"version": "v1.30.2"}})
    wait_for("Istio canary active on canary-v1-30-2", lambda: (get(api, "istios", "canary").get("status") or {}).get(
        "activeRevisionName") == "canary-v1-30-2", timeout=60)
    wait_for("tag canary moved to canary-v1-30-2", lambda: admission.read_mutating_webhook_configuration(
        "istio-revision-tag-canary-canary-system").metadata.labels["istio.io/rev"] == "canary-v1-30-2")
    # The webhook and the tag's status are separate writes: wait for both.
    wait_for("tag canary's status on canary-v1-30-2", lambda: get(api, "istiorevisiontags", "canary")["status"][
        "istioRevision"] == "canary-v1-30-2")
    # The old revision stays while its workload runs, however short the grace period.
    time.sleep(3)
    old = get(api, "istiorevisions", "canary-v1-30-3")
    assert (condition(old, "InUse")["status"], condition(old, "InUse")["reason"]) == ("True", "ReferencedByWorkloads"), old
    assert istiods(api) == ["istiod-canary-v1-30-2", "istiod-canary-v1-30-3"]
    assert get(api, "istios", "canary")["status"]["revisions"] == {"total": 2, "ready": 2, "inUse": 2}

    # The workload restarts on the new revision: nothing uses the old one, which goes with its istiod.
    core.delete_namespaced_pod("app", "canary-apps", grace_period_seconds=0)
    try:
        wait_for("revision canary-v1-30-3 deleted", lambda: get(api, "istiorevisions", "canary-v1-30-3") is None, timeout=60)
    except AssertionError:
        raise AssertionError((get(api, "istiorevisions", "canary-v1-30-3"), [
            (p.metadata.name, p.metadata.deletion_timestamp) for p in core.list_namespaced_pod("canary-apps").items]))
    wait_for("its istiod garbage-collected", lambda: istiods(api) == ["istiod-canary-v1-30-2"], timeout=60)
    wait_for("Istio canary counting one revision", lambda: get(api, "istios", "canary")["status"]["revisions"] == {
        "total": 1, "ready": 1, "inUse": 1})

    # Gone with the Istio: its revisions and their istiods (garbage collector), the tag's webhook with the tag.
    custom.delete_cluster_custom_object(GROUP, VERSION, "istiorevisiontags", "canary")
    custom.delete_cluster_custom_object(GROUP, VERSION, "istios", "canary")
    wait_for("canary's revision garbage-collected", lambda: get(api, "istiorevisions", "canary-v1-30-2") is None, timeout=60)
    wait_for("canary's tag webhook garbage-collected", lambda: "istio-revision-tag-canary-canary-system" not in [
        h.metadata.name for h in admission.list_mutating_webhook_configuration().items], timeout=60)


# ------------------------------------------------------------------ site.yml on a RevisionBased mesh

def meshes(version):
    return [{"name": "blue", "namespace": "blue-system", "members": [{"name": "blue-apps", "owned": True}],
             "version": version,
             "update_strategy": {"type": "RevisionBased", "inactive_revision_deletion_grace_period_seconds": 0}},
            {"name": "green", "namespace": "green-system", "members": [{"name": "green-apps", "owned": True}]}]


def stored(api):
    """resourceVersions of the Istios, tags and namespaces of both meshes."""
    from kubernetes import client

    custom = client.CustomObjectsApi(api)
    found = dict(((plural, o["metadata"]["name"]), o["metadata"]["resourceVersion"])
                 for plural in ("istios", "istiorevisiontags")
                 for o in custom.list_cluster_custom_object(GROUP, VERSION, plural)["items"] if o["metadata"]["name"] != "canary")
    found.update((("namespace", n.metadata.name), n.metadata.resource_version)
                 for n in client.CoreV1Api(api).list_namespace().items if n.metadata.name.startswith(("blue", "green")))
    return found


@pytest.fixture(scope="module")
def inventory(world, tmp_path_factory):
    work = tmp_path_factory.mktemp("revision-based")
    return write_inventory(work / "revision-based.yml", {"cluster-1": {"multimesh_kubeconfig": world.ansible_kubeconfig}}, {
        "multimesh_backend": "sail", "multimesh_cni": {"enabled": False}, "multimesh_meshes": meshes("1.30.2"),
        # No samples (test_verify_sail.py has them); the verification is run on its own below.
        "multimesh_samples": [], "multimesh_verify": False})


def test_site_converges_a_revision_based_mesh_and_a_version_bump_moves_only_that_mesh(world, api, inventory, tmp_path):
    from kubernetes import client

    core, admission = client.CoreV1Api(api), client.AdmissionregistrationV1Api(api)
    run = play(inventory, "site.yml")
    assert run.rc == 0, run.out
    assert get(api, "istios", "blue")["status"]["activeRevisionName"] == "blue-v1-30-2"
    assert get(api, "istios", "blue")["spec"]["updateStrategy"] == {
        "type": "RevisionBased", "inactiveRevisionDeletionGracePeriodSeconds": 0}
    assert get(api, "istios", "green")["spec"]["updateStrategy"] == {"type": "InPlace"}
    wait_for("tag blue resolved", lambda: (get(api, "istiorevisiontags", "blue").get("status") or {}).get(
        "istioRevision") == "blue-v1-30-2")
    assert core.read_namespace("blue-apps").metadata.labels["istio.io/rev"] == "blue"

    mark, dummy = world.write_requests()
    again = play(inventory, "site.yml")
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    assert world.write_requests(mark)[1] == []

    report_dir = tmp_path / "verify"
    check = play(inventory, "verify.yml", "-e", "multimesh_verify_report_dir=" + str(report_dir))
    dummy, checks = read_report(report_dir)
    for name in ("istiod blue", "revision tag blue"):
        assert checks[name]["status"] == "pass", (checks[name], check.out[-3000:])
    assert checks["revision tag blue"]["observed"] == "tag blue -> blue-v1-30-2"
    assert checks["istiod blue"]["expected"] == "istiod-blue-v1-30-2 ready in blue-system"

    before = stored(api)
    bumped = play(inventory, "site.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.3")}))
    assert bumped.rc == 0, bumped.out
    assert get(api, "istios", "blue")["status"]["activeRevisionName"] == "blue-v1-30-3"
    wait_for("tag blue moved to blue-v1-30-3", lambda: admission.read_mutating_webhook_configuration(
        "istio-revision-tag-blue-blue-system").metadata.labels["istio.io/rev"] == "blue-v1-30-3")
    # Nothing of the other mesh, and no namespace, was written; blue's Istio (and its tag's status) changed.
    after = stored(api)
    assert dict((k, v) for k, v in after.items() if k not in (("istios", "blue"), ("istiorevisiontags", "blue"))) == \
        dict((k, v) for k, v in before.items() if k not in (("istios", "blue"), ("istiorevisiontags", "blue")))
    # No pod uses the old revision: the operator deletes it, the garbage collector its istiod.
    wait_for("revision blue-v1-30-2 deleted", lambda: get(api, "istiorevisions", "blue-v1-30-2") is None, timeout=60)
    wait_for("istiod-blue-v1-30-2 gone", lambda: [d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment(
        "blue-system").items] == ["istiod-blue-v1-30-3"], timeout=60)

    removed = play(inventory, "cleanup.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.3")}))
    assert removed.rc == 0, removed.out
    assert get(api, "istios", "blue") is None and get(api, "istiorevisiontags", "blue") is None
    wait_for("blue's revisions garbage-collected", lambda: get(api, "istiorevisions", "blue-v1-30-3") is None, timeout=60)


# ------------------------------------------------------------------ upgrade.yml: canary upgrade, restart, rollback

def test_upgrade_playbook_moves_one_mesh_restarts_its_workloads_and_rolls_back_while_the_old_revision_exists(
        world, api, inventory):
    from kubernetes import client

    apps = client.AppsV1Api(api)
    assert play(inventory, "site.yml").rc == 0
    deploy_web(api, "blue-apps")
    deploy_web(api, "green-apps")
    wait_for("blue's web pods injected by blue-v1-30-2", lambda: sorted(injected(api, "blue-apps").values()) == [
        "blue-v1-30-2"] * 2, timeout=60)
    blue_pods = injected(api, "blue-apps")

    def others():
        found = stored(api)
        found.update({("deployment", "green-apps/web"): apps.read_namespaced_deployment("web", "green-apps").metadata.resource_version})
        return dict((k, v) for k, v in found.items() if k not in (("istios", "blue"), ("istiorevisiontags", "blue")))

    before = others()

    # --check: the plan, and nothing written.
    mark, dummy = world.write_requests()
    checked = upgrade(inventory, "upgrade_version=1.30.3", "upgrade_restart=true", "--check")
    assert checked.rc == 0, checked.out
    assert "mesh blue: upgrade blue-v1-30-2 -> blue-v1-30-3 (new revision beside the old)" in checked.out, checked.out
    assert "restart Deployment blue-apps/web (on blue-v1-30-2)" in checked.out, checked.out
    assert world.write_requests(mark)[1] == []
    assert get(api, "istios", "blue")["spec"]["version"] == "v1.30.2"

    # Without a restart: the new revision beside the old one, the tag moved, web still on the old revision.
    canary = upgrade(inventory, "upgrade_version=1.30.3")
    assert canary.rc == 0, canary.out
    assert "left on its revision (upgrade_restart=false): Deployment blue-apps/web (on blue-v1-30-2)" in canary.out, canary.out
    assert "write version: 1.30.3 for mesh blue into the inventory (it says 1.30.2)" in canary.out, canary.out
    assert get(api, "istios", "blue")["status"]["activeRevisionName"] == "blue-v1-30-3"
    assert get(api, "istiorevisiontags", "blue")["status"]["istioRevision"] == "blue-v1-30-3"
    assert get(api, "istiorevisions", "blue-v1-30-2") is not None and injected(api, "blue-apps") == blue_pods

    # Rollback while blue-v1-30-2 exists: the tag goes back, the unused canary revision goes.
    back = upgrade(inventory, "upgrade_version=1.30.2", "upgrade_rollback=true")
    assert back.rc == 0, back.out
    assert "mesh blue: roll back blue-v1-30-3 -> blue-v1-30-2 (existing revision)" in back.out, back.out
    assert get(api, "istiorevisiontags", "blue")["status"]["istioRevision"] == "blue-v1-30-2"
    assert get(api, "istiorevisions", "blue-v1-30-3") is None  # the playbook waited for it
    assert injected(api, "blue-apps") == blue_pods

    # The upgrade with the rolling restart: web's new pods on the new revision, the old revision deleted.
    moved = upgrade(inventory, "upgrade_version=1.30.3", "upgrade_restart=true")
    assert moved.rc == 0, moved.out
    assert "restarted: web" in moved.out, moved.out
    pods = injected(api, "blue-apps")
    assert sorted(pods.values()) == ["blue-v1-30-3"] * 2 and not set(pods) & set(blue_pods), pods
    assert get(api, "istiorevisions", "blue-v1-30-2") is None
    assert get(api, "istios", "blue")["status"]["revisions"] == {"total": 1, "ready": 1, "inUse": 1}
    # Nothing of green (its Istio, tag, namespaces, Deployment) and no namespace was written by any of the runs.
    assert others() == before

    # Again: nothing to do, nothing written.
    mark, dummy = world.write_requests()
    again = upgrade(inventory, "upgrade_version=1.30.3", "upgrade_restart=true")
    assert again.rc == 0 and again.recap()["changed"] == 0, again.out
    assert world.write_requests(mark)[1] == []

    # A rollback once the old revision is gone is refused before any change.
    refused = upgrade(inventory, "upgrade_version=1.30.2", "upgrade_rollback=true")
    assert refused.rc != 0
    assert "upgrade_rollback: revision blue-v1-30-2 of mesh 'blue' no longer exists" in refused.out, refused.out
    assert world.write_requests(mark)[1] == []

    # An InPlace mesh and an unknown mesh are refused with the fix.
    inplace = play(inventory, "upgrade.yml", "-e", "upgrade_mesh=green")
    assert inplace.rc != 0 and "mesh 'green' has update_strategy InPlace" in inplace.out, inplace.out
    unknown = play(inventory, "upgrade.yml", "-e", "upgrade_mesh=purple", "-e", "upgrade_version=1.30.3")
    assert unknown.rc != 0 and "no mesh named 'purple' in multimesh_meshes (meshes: blue, green)" in unknown.out, unknown.out
    assert world.write_requests(mark)[1] == []

    removed = play(inventory, "cleanup.yml", "-e", json.dumps({"multimesh_meshes": meshes("1.30.3")}))
    assert removed.rc == 0, removed.out
