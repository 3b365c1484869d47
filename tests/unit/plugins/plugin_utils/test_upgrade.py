"""The plan of playbooks/upgrade.yml (issue 15 item 4): revisions before and after, the workloads to restart, the
refusals; and the model's version override it runs with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model, with_versions
from ansible_collections.multimesh.istio.plugins.plugin_utils.upgrade import (
    upgrade_refusal,
    PlanError,
    earlier_revisions,
    plan_lines,
    pods_on,
    revisions_in_use,
    rollout_done,
    upgrade_plan,
)

STRATEGY = {"type": "RevisionBased", "inactive_revision_deletion_grace_period_seconds": 0}


def model_mesh(version="1.30.3", strategy=None):
    return build_model(meshes=[{"name": "blue", "namespace": "blue-system", "members": ["blue-apps"], "version": version,
                                "update_strategy": strategy or STRATEGY}])["meshes"][0]


ISTIO = {"metadata": {"name": "blue", "uid": "u-blue"}, "status": {"activeRevisionName": "blue-v1-30-2"}}


def revision(name, owner_uid="u-blue", in_use=None):
    obj = {"metadata": {"name": name, "ownerReferences": [{"kind": "Istio", "name": "blue", "uid": owner_uid}]}}
    if in_use is not None:
        obj["status"] = {"conditions": [{"type": "InUse", "status": in_use}]}
    return obj


def sail(istio, *revisions):
    return {"istio": istio, "revisions": list(revisions)}


def pod(name, rev, owner=None, namespace="blue-apps", deleting=False, phase="Running", labels=None):
    """A pod as the injector leaves it: the revision in sidecar.istio.io/status and the istio.io/rev annotation."""
    meta = {"name": name, "namespace": namespace, "labels": labels or {}, "annotations": {
        "sidecar.istio.io/status": json.dumps({"revision": rev}), "istio.io/rev": rev} if rev else {}}
    if owner:
        meta["ownerReferences"] = [dict(owner, controller=True)]
    if deleting:
        meta["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase}}


def replicaset(name, deployment, namespace="blue-apps"):
    return {"metadata": {"name": name, "namespace": namespace,
                         "ownerReferences": [{"kind": "Deployment", "name": deployment, "controller": True}]}}


def test_the_plan_names_the_revisions_and_each_workload_still_on_an_old_one_once():
    pods = [pod("web-1", "blue-v1-30-2", {"kind": "ReplicaSet", "name": "web-abc"}),
            pod("web-2", "blue-v1-30-2", {"kind": "ReplicaSet", "name": "web-abc"}),
            pod("db-0", "blue-v1-30-2", {"kind": "StatefulSet", "name": "db"}),
            pod("new-1", "blue-v1-30-3", {"kind": "ReplicaSet", "name": "new-abc"}),  # already on the target
            pod("lone", "blue-v1-30-2"),                                                # nothing recreates it
            pod("job-1", "blue-v1-30-2", {"kind": "Job", "name": "job"}),              # a Job is not restarted
            pod("gone", "blue-v1-30-2", {"kind": "StatefulSet", "name": "old"}, deleting=True),
            pod("plain", None, {"kind": "ReplicaSet", "name": "web-abc"}),               # not injected
            pod("other", "green", {"kind": "DaemonSet", "name": "agent"}),             # another mesh's revision
            pod("evicted", "blue-v1-30-2", {"kind": "StatefulSet", "name": "cache"}, phase="Failed"),
            pod("done", "blue-v1-30-2", {"kind": "Job", "name": "batch"}, phase="Succeeded"),
            # A gateway's pods select the tag by label; the injector recorded the revision.
            pod("gw-1", "blue-v1-30-2", {"kind": "ReplicaSet", "name": "gw-abc"}, labels={"istio.io/rev": "blue"})]
    plan = upgrade_plan(model_mesh(), "sail", sail(ISTIO, revision("blue-v1-30-2"), revision("green", owner_uid="u-green")),
                        pods, [replicaset("web-abc", "web"), replicaset("gw-abc", "ingressgateway-blue")])
    assert plan["from_revision"] == "blue-v1-30-2" and plan["to_revision"] == "blue-v1-30-3"
    assert plan["new_revision"] is True and plan["revisions"] == ["blue-v1-30-2"]
    assert plan["retiring"] == ["blue-v1-30-2"] and plan["tag"] == "blue"
    assert plan["restarts"] == [
        {"kind": "Deployment", "namespace": "blue-apps", "name": "ingressgateway-blue", "revisions": ["blue-v1-30-2"]},
        {"kind": "Deployment", "namespace": "blue-apps", "name": "web", "revisions": ["blue-v1-30-2"]},
        {"kind": "StatefulSet", "namespace": "blue-apps", "name": "db", "revisions": ["blue-v1-30-2"]}]
    assert plan["unmanaged"] == ["blue-apps/job-1 (blue-v1-30-2)", "blue-apps/lone (blue-v1-30-2)"]
    lines = plan_lines(plan, True)
    assert lines[0] == "mesh blue: upgrade blue-v1-30-2 -> blue-v1-30-3 (new revision beside the old)"
    assert "restart Deployment blue-apps/web (on blue-v1-30-2)" in lines
    assert "pod blue-apps/lone (blue-v1-30-2): no workload recreates it; delete it to move it" in lines
    assert "revision blue-v1-30-2: removed by the operator 0s after nothing uses it" in lines
    assert "left on its revision (upgrade_restart=false): Deployment blue-apps/web (on blue-v1-30-2)" in plan_lines(plan, False)


def test_a_rollback_goes_to_an_existing_revision_and_is_refused_once_it_is_gone():
    istio = {"metadata": {"name": "blue", "uid": "u-blue"}, "status": {"activeRevisionName": "blue-v1-30-3"}}
    plan = upgrade_plan(model_mesh("1.30.2"), "sail", sail(istio, revision("blue-v1-30-2"), revision("blue-v1-30-3")),
                        [pod("web-1", "blue-v1-30-3", {"kind": "DaemonSet", "name": "agent"})], [], True)
    assert plan["rollback"] and not plan["new_revision"] and plan["retiring"] == ["blue-v1-30-3"]
    assert plan["restarts"] == [{"kind": "DaemonSet", "namespace": "blue-apps", "name": "agent", "revisions": ["blue-v1-30-3"]}]
    assert plan_lines(plan, True)[0] == "mesh blue: roll back blue-v1-30-3 -> blue-v1-30-2 (existing revision)"
    with pytest.raises(PlanError, match=r"upgrade_rollback: revision blue-v1-30-2 of mesh 'blue' no longer exists "
                                        r"\(revisions: blue-v1-30-3\).*upgrade to version 1.30.2 without upgrade_rollback"):
        upgrade_plan(model_mesh("1.30.2"), "sail", sail(istio, revision("blue-v1-30-3")), [], [], True)


def test_an_inplace_mesh_and_a_mesh_not_installed_are_refused_with_the_fix():
    with pytest.raises(PlanError, match=r"mesh 'blue' has update_strategy InPlace.*type: RevisionBased"):
        upgrade_plan(model_mesh(strategy={"type": "InPlace"}), "sail", sail(ISTIO), [], [])
    with pytest.raises(PlanError, match=r"mesh 'blue' is not installed \(no Istio 'blue'\): run site.yml first"):
        upgrade_plan(model_mesh(), "sail", sail(None), [], [])
    # The role stops with the refusal as its own message (not as a filter's failure); none where the plan can be made.
    assert upgrade_refusal(model_mesh(strategy={"type": "InPlace"}), "sail", sail(ISTIO)).startswith(
        "mesh 'blue' has update_strategy InPlace")
    assert upgrade_refusal(model_mesh(), "sail", sail(None)) == "mesh 'blue' is not installed (no Istio 'blue'): run site.yml first"
    assert upgrade_refusal(model_mesh(), "sail", sail(ISTIO)) == ""


def test_an_upgrade_already_done_plans_nothing():
    istio = {"metadata": {"name": "blue", "uid": "u-blue"}, "status": {"activeRevisionName": "blue-v1-30-3"}}
    plan = upgrade_plan(model_mesh(), "sail", sail(istio, revision("blue-v1-30-3")),
                        [pod("web-1", "blue-v1-30-3", {"kind": "StatefulSet", "name": "web"})], [])
    assert (plan["restarts"], plan["retiring"], plan["unmanaged"], plan["new_revision"]) == ([], [], [], False)
    assert plan_lines(plan, True) == ["mesh blue: upgrade blue-v1-30-3 -> blue-v1-30-3 (existing revision)"]


def test_revisions_in_use_are_those_that_exist_and_are_not_reported_unused():
    live = [revision("a", in_use="True"), revision("b", in_use="False"), revision("c"), revision("d", in_use="True")]
    assert revisions_in_use(live, ["a", "b", "c", "gone"]) == ["a", "c"]


def test_with_versions_replaces_the_named_meshes_version_and_refuses_unknown_names():
    meshes = [{"name": "blue", "namespace": "b"}, {"name": "green", "namespace": "g", "version": "1.30.2"}]
    replaced, errors = with_versions(meshes, {"blue": "1.30.3"})
    assert errors == [] and replaced == [{"name": "blue", "namespace": "b", "version": "1.30.3"}, meshes[1]]
    assert "version" not in meshes[0]  # the inventory's own data is left as it was
    assert with_versions(meshes, {}) == (meshes, [])
    dummy, errors = with_versions(meshes, {"purple": "1.30.3"})
    assert errors == ["model_versions: no mesh named 'purple' in multimesh_meshes (meshes: blue, green). Fix: name one "
                      "of them (upgrade.yml: -e upgrade_mesh=<name>)."]
    dummy, errors = with_versions(meshes, ["blue"])
    assert errors[0].startswith("model_versions: must be a mapping of mesh name to version, got a list")


def istiod(revision, namespace="blue-system"):
    return {"metadata": {"name": "istiod-" + revision, "namespace": namespace, "labels": {"app": "istiod", "istio.io/rev": revision}}}


def tag_webhook(tag, revision):
    return {"metadata": {"name": "istio-revision-tag-" + tag, "labels": {"istio.io/tag": tag, "istio.io/rev": revision}}}


def test_istioctl_revisions_are_the_mesh_s_istiods_and_the_active_one_is_where_its_tag_points():
    live = {"istiods": [istiod("blue-v1-30-2"), istiod("blue-v1-30-3"), istiod("bluegreen"), istiod("blue-v1-30-1", "elsewhere")],
            "tags": [tag_webhook("blue", "blue-v1-30-2"), tag_webhook("other", "blue-v1-30-3")]}
    plan = upgrade_plan(model_mesh(), "istioctl", live, [pod("web-1", "blue-v1-30-2", {"kind": "DaemonSet", "name": "a"})], [])
    assert (plan["from_revision"], plan["to_revision"], plan["revisions"]) == (
        "blue-v1-30-2", "blue-v1-30-3", ["blue-v1-30-2", "blue-v1-30-3"])
    assert plan["new_revision"] is False and plan["retiring"] == ["blue-v1-30-2"]
    assert plan_lines(plan, True)[-1] == "revision blue-v1-30-2: uninstalled (istioctl uninstall --revision) once no pod uses it"
    assert plan_lines(plan, False)[-1].endswith("once no pod uses it, in a run with upgrade_restart")
    with pytest.raises(PlanError, match=r"mesh 'blue' is not installed \(no istiod of a revision blue-v\* in blue-system\)"):
        upgrade_plan(model_mesh(), "istioctl", {"istiods": [istiod("bluegreen")], "tags": []}, [], [])


def test_pods_on_names_the_running_pods_of_those_revisions():
    pods = [pod("a", "r1"), pod("b", "r2"), pod("c", "r1", deleting=True), pod("d", "r1", phase="Succeeded"), pod("e", None),
            {"metadata": {"name": "f", "namespace": "blue-apps", "annotations": {"istio.io/rev": "r1"}}}]
    assert pods_on(pods, ["r1"]) == ["blue-apps/a", "blue-apps/f"]


def test_pods_on_in_the_operators_view_names_failed_pods_which_keep_a_revision_in_use():
    pods = [pod("a", "r1"), pod("evicted", "r1", phase="Failed"), pod("done", "r1", phase="Succeeded")]
    assert pods_on(pods, ["r1"]) == ["blue-apps/a"]
    assert pods_on(pods, ["r1"], failed=True) == ["blue-apps/a", "blue-apps/evicted (Failed - delete it)"]


@pytest.mark.parametrize("workload,done", [
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2}}, False),
    # Right after the patch: the controller saw it, the old pods still run.
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 3, "updatedReplicas": 0, "replicas": 2, "availableReplicas": 2}}, False),
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 3, "updatedReplicas": 2, "replicas": 3, "availableReplicas": 2}}, False),
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 3, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2}}, True),
    ({"kind": "StatefulSet", "metadata": {"generation": 2}, "spec": {"replicas": 1}, "status": {
        "observedGeneration": 2, "updatedReplicas": 1, "readyReplicas": 1, "updateRevision": "b", "currentRevision": "a"}}, False),
    ({"kind": "StatefulSet", "metadata": {"generation": 2}, "spec": {"replicas": 1}, "status": {
        "observedGeneration": 2, "updatedReplicas": 1, "readyReplicas": 1, "updateRevision": "b", "currentRevision": "b"}}, True),
    ({"kind": "DaemonSet", "metadata": {"generation": 2}, "status": {
        "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2, "numberAvailable": 3}}, False),
    ({"kind": "DaemonSet", "metadata": {"generation": 2}, "status": {
        "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}}, True),
])
def test_a_rollout_is_done_once_every_pod_is_replaced_and_available(workload, done):
    assert rollout_done(workload) is done


def test_earlier_revisions_are_the_revision_based_meshes_istiods_but_the_current_one():
    blue = build_model(backend="istioctl", meshes=[
        {"name": "blue", "namespace": "blue-system", "members": ["blue-apps"], "version": "1.30.3", "update_strategy": STRATEGY},
        {"name": "green", "namespace": "green-system", "members": ["green-apps"]}])["meshes"]
    istiods = [istiod("blue-v1-30-2"), istiod("blue-v1-30-3"), istiod("green", "green-system"), istiod("blue-v1-29-0", "x")]
    assert earlier_revisions(blue, istiods) == [{"namespace": "blue-system", "revision": "blue-v1-30-2"}]
