"""upgrade.yml reads the tenants' pods and workloads (tenant issue point 17): their specs hold inline env values, so
no task that registers them may show them in -v output or a job log, and a failure still says what went wrong - by
name, never by the object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.multimesh.istio.plugins.plugin_utils.upgrade import pods_on, revisions_in_use

TASKS = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "upgrade", "tasks")
SECRET = "s3cr3t-db-password"
# Kinds whose objects carry a pod spec (a workload's kind is templated from the plan's restarts).
SPEC_KINDS = ("Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "__upgrade_workload.kind")


def tasks(path):
    with open(os.path.join(TASKS, path)) as handle:
        return yaml.safe_load(handle)


def walk(items, parents=()):
    """(task, its enclosing blocks) for every task, in blocks and rescues too."""
    for item in items or []:
        if "block" in item:
            yield from walk(item["block"], parents + (item,))
            yield from walk(item.get("rescue"), parents + (item,))
        else:
            yield item, parents


def k8s_args(task):
    for module in ("kubernetes.core.k8s_info", "kubernetes.core.k8s"):
        if module in task:
            return task[module]
    return None


def spec_reads():
    found = []
    for name in sorted(os.listdir(TASKS)):
        for task, parents in walk(tasks(name)):
            args = k8s_args(task)
            if args and any(kind in str(args.get("kind")) for kind in SPEC_KINDS):
                found.append((name, task, parents))
    return found


def test_every_task_that_gets_a_pod_or_workload_spec_is_no_log():
    reads = spec_reads()
    assert sorted((name, task["name"].split(" {{")[0]) for name, task, dummy in reads) == [
        ("plan.yml", "Read the ReplicaSets of the mesh's namespaces (a pod's Deployment is found through them)"),
        ("plan.yml", "Read the pods of the mesh's namespaces"),
        ("plan.yml", "Read the pods that select the mesh's revisions or tag (istio.io/rev, in any namespace)"),
        ("restart_one.yml", "Restart"), ("restart_one.yml", "Wait for the rollout of"),
        ("settle_istioctl.yml", "Wait until no pod uses"),
        ("settle_sail.yml", "Read the pods of every namespace when none of the mesh's uses"),
        ("settle_sail.yml", "Read the pods that may still use")]
    unlogged = ["{0}: {1}".format(name, task["name"]) for name, task, dummy in reads if task.get("no_log") is not True]
    assert unlogged == []
    # Each failure is still said: failed_when: false and a check after it, or a rescue of its own.
    for name, task, parents in reads:
        assert task.get("failed_when") is False or any(p.get("rescue") for p in parents), (name, task["name"])


def template(text, variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))


def plan_check(pods, replicasets):
    """The outcome of plan.yml's check after the reads: (passed, message)."""
    check = [t for t in tasks("plan.yml") if "ansible.builtin.assert" in t][-1]
    variables = {"__upgrade_namespaces": ["app-ns-1", "app-ns-2"],
                 "__upgrade_pods": {"results": pods}, "__upgrade_replicasets": {"results": replicasets}}
    for key, value in check["vars"].items():
        variables[key] = template(value, variables)
    args = check["ansible.builtin.assert"]
    passed = Templar(loader=DataLoader(), variables=variables).evaluate_conditional(trust_as_template(args["that"]))
    return passed, template(args["success_msg"] if passed else args["fail_msg"], variables)


def pod(namespace, name):
    return {"metadata": {"namespace": namespace, "name": name},
            "spec": {"containers": [{"name": "app", "env": [{"name": "DB_PASSWORD", "value": SECRET}]}]}}


def test_the_plan_check_summarises_names_only():
    pods = [{"item": "app-ns-1", "resources": [pod("app-ns-1", "web-1"), pod("app-ns-1", "web-2")]},
            {"item": "app-ns-2", "resources": []}]
    replicasets = [{"item": "app-ns-1", "resources": [pod("app-ns-1", "web")]}, {"item": "app-ns-2", "resources": []}]
    passed, msg = plan_check(pods, replicasets)
    assert passed
    assert msg == "Read 2 pod(s) and 1 ReplicaSet(s) in app-ns-1, app-ns-2: web-1, web-2"
    assert SECRET not in msg


@pytest.mark.parametrize("failed", ["pods", "ReplicaSets"])
def test_a_read_that_failed_is_named_with_its_namespace_and_reason(failed):
    ok = [{"item": "app-ns-1", "resources": [pod("app-ns-1", "web-1")]}, {"item": "app-ns-2", "resources": []}]
    broken = [ok[0], {"item": "app-ns-2", "failed_when_result": False,
                      "msg": "Failed to list: (403) Reason: Forbidden."}]
    passed, msg = plan_check(broken if failed == "pods" else ok, broken if failed == "ReplicaSets" else ok)
    assert not passed
    assert msg == ("Cannot read {0} in namespace app-ns-2: Failed to list: (403) Reason: Forbidden. Fix: check that the "
                   "credentials may list pods and ReplicaSets in the mesh's namespaces.".format(failed))


def rescue_message(path, variables):
    rescue = [t for t in tasks(path) if "block" in t][0]["rescue"][0]
    for key, value in rescue.get("vars", {}).items():
        variables[key] = template(value, variables)
    return template(rescue["ansible.builtin.fail"]["msg"], variables)


def test_a_rollout_that_does_not_finish_is_named_with_its_status_counters_only():
    workload = {"kind": "Deployment", "namespace": "app-ns-1", "name": "web"}
    deployment = dict(pod("app-ns-1", "web"), status={"replicas": 3, "updatedReplicas": 1, "availableReplicas": 2,
                                                      "conditions": [{"type": "Progressing", "message": "x"}]})
    msg = rescue_message("restart_one.yml", {
        "__upgrade_workload": workload, "upgrade_timeout": 600, "ansible_failed_task": {"action": "kubernetes.core.k8s_info"},
        "ansible_failed_result": {"failed": True, "attempts": 120, "resources": [deployment]}})
    assert msg.startswith("The rollout of Deployment app-ns-1/web is not done after 600s (replicas=3, "
                          "updatedReplicas=1, availableReplicas=2). Fix: ")
    assert SECRET not in msg
    msg = rescue_message("restart_one.yml", {
        "__upgrade_workload": workload, "upgrade_timeout": 600, "ansible_failed_task": {"action": "kubernetes.core.k8s"},
        "ansible_failed_result": {"failed": True, "msg": "Forbidden."}})
    assert msg == ("Cannot restart Deployment app-ns-1/web: Forbidden. Fix: check that the credentials may patch it. "
                   "Nothing was restarted before it.")


# Tenant issue point 16: a run over several clusters, one user of the old revision outside the member namespaces,
# and the restarts said when a later one fails.

def named(path, prefix):
    return [t for t, dummy in walk(tasks(path)) if t.get("name", "").startswith(prefix)][0]


def condition(text, variables):
    return Templar(loader=DataLoader(), variables=variables).evaluate_conditional(trust_as_template(text))


def test_a_cluster_without_the_mesh_is_skipped_and_says_so():
    model = {"east": {"meshes": [{"name": "mesh-1"}, {"name": "mesh-2"}], "cluster": {"name": "east"}},
             "west": {"meshes": [{"name": "mesh-1"}], "cluster": {"name": "west"}}}
    hostvars = dict((h, {"multimesh_model": m}) for h, m in model.items())
    check = named("plan.yml", "The mesh to upgrade")
    for mesh, passes in (("mesh-2", True), ("mesh-3", False)):
        variables = {"upgrade_mesh": mesh, "ansible_play_hosts": ["east", "west"], "hostvars": hostvars}
        for key, value in check["vars"].items():
            variables[key] = template(value, variables)
        assert condition(check["ansible.builtin.assert"]["that"], variables) is passes
    assert "mesh-3" in template(check["ansible.builtin.assert"]["fail_msg"], variables)
    end = [t for t in tasks("plan.yml") if t.get("ansible.builtin.meta") == "end_host"]
    say = named("plan.yml", "Say that this cluster does not place")
    assert len(end) == 1 and end[0]["when"] == say["when"]
    assert tasks("plan.yml").index(end[0]) < tasks("plan.yml").index(named("plan.yml", "Keep the mesh's model entry"))
    for host, skipped in (("east", False), ("west", True)):
        variables = {"upgrade_mesh": "mesh-2", "multimesh_model": model[host], "inventory_hostname": host}
        assert condition(end[0]["when"], variables) is skipped
    assert template(say["ansible.builtin.debug"]["msg"], variables) == (
        "mesh mesh-2 is not placed on cluster west: nothing to upgrade here")


def test_the_revisions_users_are_found_by_label_in_every_namespace():
    reads = dict((t["kubernetes.core.k8s_info"]["kind"], t["kubernetes.core.k8s_info"]) for t in tasks("plan.yml")
                 if "kubernetes.core.k8s_info" in t and "label_selectors" in t["kubernetes.core.k8s_info"])
    assert sorted(reads) == ["Namespace", "Pod"] and "namespace" not in reads["Pod"]
    variables = {"__upgrade_selected": ["mesh-2", "mesh-2-v1-30-2", "mesh-2-v1-30-3"]}
    assert template(reads["Pod"]["label_selectors"][0], variables) == \
        "istio.io/rev in (mesh-2,mesh-2-v1-30-2,mesh-2-v1-30-3)"
    keep = named("plan.yml", "Keep the namespaces whose pods")["ansible.builtin.set_fact"]["__upgrade_namespaces"]
    variables.update({
        "__upgrade_mesh": {"labelled_namespaces": [{"name": "app-ns-1"}]},
        "__upgrade_user_namespaces": {"resources": [{"metadata": {"name": "app-ns-1"}}, {"metadata": {"name": "legacy"}}]},
        # A user's gateway in the control-plane namespace, labelled with the tag.
        "__upgrade_user_pods": {"resources": [pod("istio-system-2", "my-gateway-7d9f")]}})
    assert template(keep, variables) == ["app-ns-1", "istio-system-2", "legacy"]
    for path, task in (("plan.yml", "Read the pods of the mesh's namespaces"),
                       ("plan.yml", "Read the ReplicaSets of the mesh's namespaces"),
                       ("settle_istioctl.yml", "Wait until no pod uses"), ("settle_sail.yml", "Read the pods that")):
        assert named(path, task)["loop"] == "{{ __upgrade_namespaces }}", (path, task)


def injected(namespace, name, revision):
    found = pod(namespace, name)
    found["metadata"]["annotations"] = {"sidecar.istio.io/status": '{"revision": "%s"}' % revision}
    return found


def rescue_message_of(path, variables):
    """The message of the last task of the first block's rescue, after its vars (those given are kept: a bare Templar
    has not the collection's filters, which plugin_utils tests cover)."""
    rescue = [t for t in tasks(path) if "block" in t][0]["rescue"][-1]
    for key, value in rescue.get("vars", {}).items():
        if key not in variables:
            variables[key] = template(value, variables)
    return template(rescue["ansible.builtin.fail"]["msg"], variables)


def test_a_sail_revision_still_in_use_names_its_pods():
    revisions = [{"metadata": {"name": "mesh-2-v1-30-2"}, "status": {"conditions": [{"type": "InUse", "status": "True"}]}}]
    left = [{"item": "app-ns-1", "resources": [injected("app-ns-1", "web-1", "mesh-2-v1-30-3")]},
            {"item": "istio-system-2", "resources": [injected("istio-system-2", "my-gateway-7d9f", "mesh-2-v1-30-2")]}]
    rescue = [t for t in tasks("settle_sail.yml") if "block" in t][0]["rescue"]
    assert "multimesh.istio.pods_on(__upgrade_plan.retiring, failed=true)" in rescue[-1]["vars"]["__upgrade_still"]
    assert rescue[0]["kubernetes.core.k8s_info"]["kind"] == "Pod" and rescue[0]["no_log"] is True
    msg = rescue_message_of("settle_sail.yml", {
        "__upgrade_in_use": revisions_in_use(revisions, ["mesh-2-v1-30-2"]),
        "__upgrade_still": pods_on([p for r in left for p in r["resources"]], ["mesh-2-v1-30-2"], failed=True),
        "__upgrade_plan": {"retiring": ["mesh-2-v1-30-2"], "unmanaged": []}, "upgrade_timeout": 600,
        "__upgrade_revisions": {"resources": revisions}, "ansible_failed_result": {"failed": True},
        "__upgrade_user_namespaces": {"resources": [
            {"metadata": {"name": "legacy", "labels": {"istio.io/rev": "mesh-2-v1-30-2"}}},
            {"metadata": {"name": "app-ns-1", "labels": {"istio.io/rev": "mesh-2"}}}]},
        "__upgrade_left": {"results": left}})
    assert msg.startswith("Revision(s) mesh-2-v1-30-2 still in use after 600s; pods on them: "
                          "istio-system-2/my-gateway-7d9f; namespaces labelled istio.io/rev with one of them: legacy. "
                          "Fix: "), msg
    assert SECRET not in msg
    # No namespace labelled with an old revision: nothing said of them (Jinja's empty result is None, not "None").
    msg = rescue_message_of("settle_sail.yml", {
        "__upgrade_in_use": ["mesh-2-v1-30-2"], "__upgrade_still": ["other-tenant/decoy-1"],
        "__upgrade_plan": {"retiring": ["mesh-2-v1-30-2"], "unmanaged": []}, "upgrade_timeout": 20,
        "__upgrade_revisions": {"resources": revisions}, "ansible_failed_result": {"failed": True},
        "__upgrade_user_namespaces": {"resources": []}, "__upgrade_left": {"results": []}})
    assert msg.startswith("Revision(s) mesh-2-v1-30-2 still in use after 20s; pods on them: other-tenant/decoy-1. Fix: "), msg


def test_a_failed_restart_says_what_was_already_restarted():
    restarts = [{"kind": "Deployment", "namespace": "app-ns-1", "name": "web"},
                {"kind": "StatefulSet", "namespace": "app-ns-1", "name": "db"},
                {"kind": "Deployment", "namespace": "istio-system-2", "name": "my-gateway"}]
    base = {"__upgrade_plan": {"restarts": restarts}, "upgrade_timeout": 600,
            "ansible_failed_task": {"action": "kubernetes.core.k8s"},
            "ansible_failed_result": {"failed": True, "msg": "Forbidden."}}
    msg = rescue_message("restart_one.yml", dict(base, __upgrade_workload=restarts[2], __upgrade_restart_index=2))
    assert msg.endswith("Already restarted (on the new revision): Deployment app-ns-1/web, StatefulSet app-ns-1/db."), msg
    msg = rescue_message("restart_one.yml", dict(base, __upgrade_workload=restarts[0], __upgrade_restart_index=0))
    assert msg.endswith("Nothing was restarted before it."), msg
    assert tasks("restart.yml")[0]["loop_control"]["index_var"] == "__upgrade_restart_index"
