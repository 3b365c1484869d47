"""The plan of playbooks/upgrade.yml (issue 15 item 4): revisions before and after, the workloads to restart, the
refusals; and the model's version override it runs with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model, with_versions
from ansible_collections.multimesh.istio.plugins.plugin_utils.upgrade import (
    PlanError,
    plan_lines,
    revisions_in_use,
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


def pod(name, rev, owner=None, namespace="blue-apps", deleting=False):
    meta = {"name": name, "namespace": namespace, "labels": {"istio.io/rev": rev} if rev else {}}
    if owner:
        meta["ownerReferences"] = [dict(owner, controller=True)]
    if deleting:
        meta["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return {"metadata": meta}


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
            pod("other", "green", {"kind": "DaemonSet", "name": "agent"})]             # another mesh's revision
    plan = upgrade_plan(model_mesh(), ISTIO, [revision("blue-v1-30-2"), revision("green", owner_uid="u-green")], pods,
                        [replicaset("web-abc", "web")])
    assert plan["from_revision"] == "blue-v1-30-2" and plan["to_revision"] == "blue-v1-30-3"
    assert plan["new_revision"] is True and plan["revisions"] == ["blue-v1-30-2"]
    assert plan["retiring"] == ["blue-v1-30-2"] and plan["tag"] == "blue"
    assert plan["restarts"] == [
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
    plan = upgrade_plan(model_mesh("1.30.2"), istio, [revision("blue-v1-30-2"), revision("blue-v1-30-3")],
                        [pod("web-1", "blue-v1-30-3", {"kind": "DaemonSet", "name": "agent"})], [], True)
    assert plan["rollback"] and not plan["new_revision"] and plan["retiring"] == ["blue-v1-30-3"]
    assert plan["restarts"] == [{"kind": "DaemonSet", "namespace": "blue-apps", "name": "agent", "revisions": ["blue-v1-30-3"]}]
    assert plan_lines(plan, True)[0] == "mesh blue: roll back blue-v1-30-3 -> blue-v1-30-2 (existing revision)"
    with pytest.raises(PlanError, match=r"upgrade_rollback: revision blue-v1-30-2 of mesh 'blue' no longer exists "
                                        r"\(revisions: blue-v1-30-3\).*upgrade to version 1.30.2 without upgrade_rollback"):
        upgrade_plan(model_mesh("1.30.2"), istio, [revision("blue-v1-30-3")], [], [], True)


def test_an_inplace_mesh_and_a_mesh_not_installed_are_refused_with_the_fix():
    with pytest.raises(PlanError, match=r"mesh 'blue' has update_strategy InPlace.*type: RevisionBased"):
        upgrade_plan(model_mesh(strategy={"type": "InPlace"}), ISTIO, [], [], [])
    with pytest.raises(PlanError, match=r"mesh 'blue' is not installed \(no Istio 'blue'\): run site.yml first"):
        upgrade_plan(model_mesh(), {}, [], [], [])


def test_an_upgrade_already_done_plans_nothing():
    istio = {"metadata": {"name": "blue", "uid": "u-blue"}, "status": {"activeRevisionName": "blue-v1-30-3"}}
    plan = upgrade_plan(model_mesh(), istio, [revision("blue-v1-30-3")],
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
