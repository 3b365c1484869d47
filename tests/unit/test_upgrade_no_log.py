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
            for found in walk(item["block"], parents + (item,)):
                yield found
            for found in walk(item.get("rescue"), parents + (item,)):
                yield found
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
        ("restart_one.yml", "Restart"), ("restart_one.yml", "Wait for the rollout of"),
        ("settle_istioctl.yml", "Wait until no pod uses")]
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
    variables = {"__upgrade_mesh": {"labelled_namespaces": [{"name": "app-ns-1"}, {"name": "app-ns-2"}]},
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
    assert msg == "Cannot restart Deployment app-ns-1/web: Forbidden. Fix: check that the credentials may patch it."
