"""Tenant-hardening point 15: the shared CNI stays while something still needs it - also an istioctl `remote`
profile's data plane (no istiod, no Istio resource: only its injector webhook) and pods with an injected sidecar -
and what keeps it is named, names only (pod specs hold the tenants' env values)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.multimesh.istio.plugins.filter.cluster_state import FilterModule
from ansible_collections.multimesh.istio.plugins.plugin_utils.cni import cni_users, injected_pods, is_injector

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "cni")
SECRET = "s3cr3t-db-password"


def webhook(name, labels=None, hooks=(), **meta):
    metadata = dict({"name": name, "labels": labels or {}}, **meta)
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": metadata, "webhooks": [{"name": h} for h in hooks]}


def pod(namespace, name, injected=True, **extra):
    meta = {"namespace": namespace, "name": name, "labels": {"security.istio.io/tlsMode": "istio"}}
    if injected:
        meta["annotations"] = {"sidecar.istio.io/status": '{"containers":["istio-proxy"],"revision":"default"}'}
    meta.update(extra.pop("meta", {}))
    return dict({"kind": "Pod", "metadata": meta,
                 "spec": {"containers": [{"name": "app", "env": [{"name": "DB_PASSWORD", "value": SECRET}]}]},
                 "status": {"phase": "Running"}}, **extra)


# istioctl install --set profile=remote: the injector only, pointing at an external istiod.
REMOTE_INJECTOR = webhook("istio-sidecar-injector-external-istiod", {"app": "sidecar-injector", "istio.io/rev": "default"},
                          ["rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io"])


def test_a_remote_profile_injector_keeps_the_cni():
    assert cni_users([REMOTE_INJECTOR]) == ["MutatingWebhookConfiguration istio-sidecar-injector-external-istiod"]


def test_injectors_are_told_by_label_or_by_webhook_name_other_webhooks_do_not_count():
    by_name = webhook("hand-made", hooks=["object.sidecar-injector.istio.io"])
    by_label = webhook("labelled", {"app": "sidecar-injector"})
    other = webhook("cert-manager-webhook", {"app": "webhook"}, ["webhook.cert-manager.io"])
    assert is_injector(by_name) and is_injector(by_label) and not is_injector(other)
    assert cni_users([other, by_label, by_name]) == ["MutatingWebhookConfiguration labelled",
                                                     "MutatingWebhookConfiguration hand-made"]


def test_injectors_being_removed_do_not_count():
    deleting = webhook("istio-sidecar-injector", {"app": "sidecar-injector"}, deletionTimestamp="2026-12-06T23:00:00Z")
    sail = webhook("istio-sidecar-injector-default-istio-system", {"app": "sidecar-injector"},
                   ownerReferences=[{"apiVersion": "sailoperator.io/v1", "kind": "IstioRevision", "name": "default"}])
    assert cni_users([deleting, sail]) == []


def test_injected_pods_keep_the_cni_and_are_named_only():
    pods = [pod("app-ns-2", "web-1"), pod("app-ns-1", "db-0"), pod("app-ns-1", "plain", injected=False),
            pod("app-ns-1", "done", status={"phase": "Succeeded"}),
            pod("app-ns-1", "leaving", meta={"deletionTimestamp": "2026-12-06T23:00:00Z"}),
            pod("app-ns-3", "in-a-deleted-namespace")]
    users = cni_users([], pods, ["app-ns-3"])
    assert users == ["Pod app-ns-1/db-0", "Pod app-ns-2/web-1"]
    assert SECRET not in repr(users)
    assert injected_pods(pods, ()) == ["app-ns-1/db-0", "app-ns-2/web-1", "app-ns-3/in-a-deleted-namespace"]


def test_many_pods_are_counted_past_the_tenth():
    users = cni_users([], [pod("app", "web-%02d" % i) for i in range(13)])
    assert users[:2] == ["Pod app/web-00", "Pod app/web-01"] and len(users) == 11
    assert users[-1] == "3 more pod(s) with an injected sidecar"


def test_control_planes_are_still_counted_as_before():
    istiod = {"kind": "Deployment", "metadata": {"namespace": "app-ns-2", "name": "istiod-helm"}}
    istio = {"kind": "Istio", "metadata": {"name": "default"}}
    sail_istiod = {"kind": "Deployment", "metadata": {"namespace": "istio-system", "name": "istiod",
                                                      "ownerReferences": [{"apiVersion": "sailoperator.io/v1"}]}}
    assert cni_users([istio, istiod, sail_istiod]) == ["Istio default", "Deployment app-ns-2/istiod-helm"]
    assert FilterModule().filters()["cni_users"]([istiod]) == ["Deployment app-ns-2/istiod-helm"]


def load(path):
    with open(os.path.join(ROLE, path)) as handle:
        return yaml.safe_load(handle)


def test_absent_reads_the_injectors_and_the_injected_pods_without_logging_them():
    tasks = load("tasks/absent.yml")
    reads = [t for t in tasks if "kubernetes.core.k8s_info" in t]
    kinds = [i["kind"] for i in reads[0]["loop"]]
    assert "MutatingWebhookConfiguration" in kinds
    pods = [t for t in reads if t["kubernetes.core.k8s_info"].get("kind") == "Pod"]
    assert len(pods) == 1 and pods[0]["no_log"] is True and pods[0]["failed_when"] is False
    # Bounded: by the label the injector sets, not every pod of the cluster.
    assert pods[0]["kubernetes.core.k8s_info"]["label_selectors"] == ["security.istio.io/tlsMode"]
    assert pods[0]["register"] == "__cni_pods"
    # Every other task that reads pod specs would need no_log too.
    assert [t["name"] for t in reads if t.get("no_log") is not True and "Pod" in str(t)] == []
    remaining = load("vars/main.yml")["__cni_remaining"]
    assert "multimesh.istio.cni_users(__cni_pods.resources" in remaining
    # A pod read that failed stops the removal and says why, without the objects.
    check = [t for t in tasks if "ansible.builtin.assert" in t][0]["ansible.builtin.assert"]
    variables = {"__cni_pods": {"failed_when_result": False, "msg": "pods is forbidden (403)."}}
    templar = Templar(loader=DataLoader(), variables=variables)
    assert templar.evaluate_conditional(trust_as_template(check["that"])) is False
    assert templar.template(trust_as_template(check["fail_msg"])) == (
        "Cannot list the pods labelled security.istio.io/tlsMode (the CNI stays until they are known): pods is "
        "forbidden (403). Fix: check that the credentials may list pods in all namespaces.")
