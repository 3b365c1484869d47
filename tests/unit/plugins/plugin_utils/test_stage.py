"""The stage engine: render files, apply writing only what differs, remove in reverse, wait, istioctl order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils import stage
from ansible_collections.multimesh.istio.plugins.plugin_utils.kube_objects import APPLIED, contains, digest, with_digest


def key(obj):
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace"), meta["name"]


def merge(live, applied):
    for name, value in applied.items():
        if isinstance(value, dict) and isinstance(live.get(name), dict):
            merge(live[name], value)
        else:
            live[name] = copy.deepcopy(value)
    return live


class Conflict(Exception):
    """The API server's answer to a delete whose preconditions no longer hold."""
    status = 409


class FakeCluster(object):
    """Stores objects; server-side apply merges, adds a default and a managedFields entry and a new resourceVersion;
    a delete checks its preconditions; counts writes."""

    def __init__(self, normalise=None):
        self.store, self.writes, self.dry_runs, self.reads = {}, [], [], 0
        self.normalise = normalise or (lambda obj: obj)

    def get(self, obj):
        self.reads += 1
        live = self.store.get(key(obj))
        return copy.deepcopy(live) if live else None

    def apply(self, obj, dry_run=False):
        live = copy.deepcopy(self.store.get(key(obj))) or {"metadata": {"uid": "u1", "resourceVersion": "1"}}
        after = self.normalise(merge(live, obj))
        after["metadata"]["managedFields"] = [{"manager": "multimesh-istio", "fieldsV1": {"f:metadata": {
            "f:labels": dict(("f:" + k, {}) for k in (obj["metadata"].get("labels") or {}))}}}]
        if "labels" not in obj["metadata"]:
            after["metadata"].pop("labels", None)
            after["metadata"]["managedFields"] = []
        (self.dry_runs if dry_run else self.writes).append(key(obj))
        if not dry_run:
            after["metadata"]["resourceVersion"] = str(int(live["metadata"].get("resourceVersion") or 0) + 1)
            self.store[key(obj)] = after
        return copy.deepcopy(after)

    def release(self, obj, dry_run=False):
        """The layer's release: an apply of the object's identity alone."""
        meta = dict((k, v) for k, v in obj["metadata"].items() if k in ("name", "namespace"))
        return self.apply({"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta}, dry_run)

    def delete(self, checked):
        """The layer's delete: only the object as it was checked (its uid and resourceVersion)."""
        live = (self.store.get(key(checked)) or {}).get("metadata") or {}
        if (checked["metadata"].get("uid"), checked["metadata"].get("resourceVersion")) != (
                live.get("uid"), live.get("resourceVersion")):
            raise Conflict("Precondition failed")
        self.writes.append(("delete",) + key(checked))
        self.store.pop(key(checked), None)


def item(kind, name, namespace=None, group="mesh-1", api_version="v1", **extra):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"group": group, "object": dict({"apiVersion": api_version, "kind": kind, "metadata": meta}, **extra)}


OURS = {"app.kubernetes.io/managed-by": "multimesh.istio"}
OBJECTS = [item("Namespace", "istio-system-1", metadata={"name": "istio-system-1", "labels": {"a": "1"}}),
           item("PeerAuthentication", "default", "istio-system-1", api_version="security.istio.io/v1",
                metadata={"name": "default", "namespace": "istio-system-1", "labels": OURS},
                spec={"mtls": {"mode": "STRICT"}})]


def args(**over):
    out = {"objects": OBJECTS, "stage": "20-control-plane", "state": "present", "render_dir": None,
           "owned_namespaces": [], "wait": [], "wait_timeout": 5, "wait_sleep": 1, "istioctl_readiness_timeout": 300}
    out.update(over)
    return out


def no_istioctl(params):
    raise AssertionError("istioctl must not run without IstioOperator inputs")


def test_a_second_apply_sends_no_write_and_no_dry_run():
    cluster = FakeCluster()
    first = stage.converge(args(), cluster, False, no_istioctl)
    assert first["changed"] and [o["action"] for o in first["objects"]] == ["created", "created"]
    writes = list(cluster.writes)
    again = stage.converge(args(), cluster, False, no_istioctl)
    assert not again["changed"] and [o["action"] for o in again["objects"]] == ["unchanged", "unchanged"]
    assert cluster.writes == writes and cluster.dry_runs == []
    assert again["msg"] == "20-control-plane: 0 of 2 object(s) changed"


def test_applied_objects_carry_the_digest_of_their_configuration():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    stored = cluster.store[("PeerAuthentication", "istio-system-1", "default")]
    assert stored["metadata"]["annotations"][APPLIED] == digest(OBJECTS[1]["object"])


def test_a_changed_field_is_written_with_a_diff_showing_values():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    permissive = copy.deepcopy(OBJECTS)
    permissive[1]["object"]["spec"]["mtls"]["mode"] = "PERMISSIVE"
    out = stage.converge(args(objects=permissive), cluster, False, no_istioctl)
    assert [o["action"] for o in out["objects"]] == ["unchanged", "updated"]
    diff = out["diffs"][0]
    assert diff["before_header"] == "PeerAuthentication istio-system-1/default"
    assert "mode: STRICT" in diff["before"] and "mode: PERMISSIVE" in diff["after"]
    assert "managedFields" not in diff["after"] and "resourceVersion" not in diff["after"]


def test_check_mode_writes_nothing_and_uses_dry_runs():
    cluster = FakeCluster()
    out = stage.converge(args(), cluster, True, no_istioctl)
    assert out["changed"] and cluster.writes == [] and len(cluster.dry_runs) == 2
    assert out["msg"].endswith("2 of 2 object(s) would change")


def test_a_value_the_server_normalises_is_not_written_again():
    def normalise(obj):
        if obj["kind"] == "PeerAuthentication":
            obj["spec"]["mtls"]["mode"] = obj["spec"]["mtls"]["mode"].upper()
        return obj

    lower = copy.deepcopy(OBJECTS)
    lower[1]["object"]["spec"]["mtls"]["mode"] = "strict"
    cluster = FakeCluster(normalise)
    stage.converge(args(objects=lower), cluster, False, no_istioctl)
    writes = list(cluster.writes)
    again = stage.converge(args(objects=lower), cluster, False, no_istioctl)
    assert not again["changed"] and cluster.writes == writes and len(cluster.dry_runs) == 1


def test_a_dropped_field_is_removed_because_the_digest_changes():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    unlabelled = copy.deepcopy(OBJECTS)
    unlabelled[0]["object"]["metadata"].pop("labels")
    # The live object still holds every wanted field; only the digest tells that a label was dropped.
    live = cluster.store[("Namespace", None, "istio-system-1")]
    assert contains(live, unlabelled[0]["object"])
    assert live["metadata"]["annotations"][APPLIED] != with_digest(unlabelled[0]["object"])["metadata"]["annotations"][APPLIED]
    out = stage.converge(args(objects=unlabelled), cluster, False, no_istioctl)
    assert out["objects"][0]["action"] == "updated"
    assert "labels" not in cluster.store[("Namespace", None, "istio-system-1")]["metadata"]


def test_istioctl_installs_between_namespaces_and_the_rest():
    operator = item("IstioOperator", "mesh-1", "istio-system-1", api_version="install.istio.io/v1alpha1",
                    spec={"revision": "mesh-1", "values": {"defaultRevision": "mesh-1"}})
    cluster, order = FakeCluster(), []
    real_apply = cluster.apply
    cluster.apply = lambda obj, dry_run=False: order.append(obj["kind"]) or real_apply(obj, dry_run)

    def istioctl(params):
        order.append("istioctl " + params["state"])
        assert params["default_revision"] is True and params["readiness_timeout"] == 300
        return {"changed": True, "diff": {"before": "", "after": "istiod"}}

    out = stage.converge(args(objects=OBJECTS + [operator]), cluster, False, istioctl)
    assert order == ["Namespace", "istioctl present", "PeerAuthentication"]
    assert [o["action"] for o in out["objects"]] == ["created", "installed", "created"]
    assert out["diffs"][1]["before_header"] == "IstioOperator istio-system-1/mesh-1"
    assert out["msg"] == "20-control-plane: 3 of 3 object(s) changed; istioctl install: istio-system-1 (installed)"


def test_a_failed_install_stops_before_the_rest():
    operator = item("IstioOperator", "mesh-1", "istio-system-1", api_version="install.istio.io/v1alpha1",
                    spec={"revision": "mesh-1"})
    cluster = FakeCluster()
    out = stage.converge(args(objects=OBJECTS + [operator]), cluster, False,
                         lambda params: {"failed": True, "msg": "istiod not ready"})
    assert out["failed"] and "IstioOperator istio-system-1/mesh-1: istiod not ready" in out["msg"]
    assert ("PeerAuthentication", "istio-system-1", "default") not in cluster.store


def test_removal_deletes_in_reverse_and_releases_namespaces_it_does_not_own():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    out = stage.converge(args(state="absent"), cluster, False, no_istioctl)
    assert [(o["kind"], o["action"]) for o in out["objects"]] == [("PeerAuthentication", "deleted"), ("Namespace", "released")]
    assert "labels" not in cluster.store[("Namespace", None, "istio-system-1")]["metadata"]
    again = stage.converge(args(state="absent"), cluster, False, no_istioctl)
    assert [o["action"] for o in again["objects"]] == ["absent", "kept"] and not again["changed"]


def owned(objects=None, labels=None):
    """objects (default OBJECTS) with their namespace marked (default OURS) as created by this inventory."""
    out = copy.deepcopy(OBJECTS if objects is None else objects)
    out[0]["object"]["metadata"]["labels"] = dict(out[0]["object"]["metadata"]["labels"], **(OURS if labels is None else labels))
    return out


def test_removal_deletes_owned_namespaces():
    cluster = FakeCluster()
    stage.converge(args(objects=owned()), cluster, False, no_istioctl)
    out = stage.converge(args(objects=owned(), state="absent", owned_namespaces=["istio-system-1"]), cluster, False,
                         no_istioctl)
    assert [o["action"] for o in out["objects"]] == ["deleted", "deleted"] and cluster.store == {}


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_names_each_object_that_is_not_ready(monkeypatch):
    from ansible_collections.multimesh.istio.plugins.plugin_utils import kube_objects

    monkeypatch.setattr(kube_objects, "time", Clock())
    istio = item("Istio", "mesh-1", api_version="sailoperator.io/v1", spec={"namespace": "istio-system-1"})
    out = stage.converge(args(objects=[istio], wait=["Istio"], wait_timeout=10, wait_sleep=5), FakeCluster(), False,
                         no_istioctl)
    assert out["failed"] and out["pending"] == {"Istio mesh-1": "not reconciled yet (generation None, observed None)"}
    assert out["msg"].endswith("Timed out after 10s waiting for Istio to be ready: Istio mesh-1: not reconciled yet "
                               "(generation None, observed None)")


def test_wait_passes_on_ready_objects_without_extra_reads():
    cluster = FakeCluster()
    istio = item("Istio", "mesh-1", api_version="sailoperator.io/v1", spec={"namespace": "istio-system-1"},
                 metadata={"name": "mesh-1", "labels": OURS})
    stage.converge(args(objects=[istio]), cluster, False, no_istioctl)
    cluster.store[("Istio", None, "mesh-1")]["status"] = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True"}]}
    cluster.reads = 0
    out = stage.converge(args(objects=[istio], wait=["Istio"]), cluster, False, no_istioctl)
    assert out["ready"] == ["Istio mesh-1"] and not out["failed"] and cluster.reads == 1


def test_an_istio_is_ready_only_once_its_revision_reconciled_the_change_and_istiod_rolled_out(monkeypatch):
    """The real operator copies the revision's old Ready=True into the Istio as soon as it changed the revision's spec,
    before the chart upgrade: the revision's observedGeneration and the istiod rollout decide."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils import kube_objects

    monkeypatch.setattr(kube_objects, "time", Clock())
    cluster = FakeCluster()
    istio = item("Istio", "mesh-1", api_version="sailoperator.io/v1", spec={"namespace": "istio-system-1"},
                 metadata={"name": "mesh-1", "labels": OURS})
    stage.converge(args(objects=[istio]), cluster, False, no_istioctl)
    ready = [{"type": "Ready", "status": "True"}]
    cluster.store[("Istio", None, "mesh-1")]["status"] = {"observedGeneration": 1, "activeRevisionName": "mesh-1",
                                                          "conditions": ready}
    cluster.store[("IstioRevision", None, "mesh-1")] = {"kind": "IstioRevision", "metadata": {"name": "mesh-1", "generation": 3},
                                                        "status": {"observedGeneration": 2, "conditions": ready}}
    deployment = {"kind": "Deployment", "metadata": {"name": "istiod-mesh-1", "namespace": "istio-system-1", "generation": 5},
                  "spec": {"replicas": 1}, "status": {"observedGeneration": 5, "replicas": 2, "updatedReplicas": 1,
                                                      "conditions": [{"type": "Available", "status": "True"}]}}
    cluster.store[("Deployment", "istio-system-1", "istiod-mesh-1")] = deployment
    out = stage.converge(args(objects=[istio], wait=["Istio"], wait_timeout=4), cluster, False, no_istioctl)
    assert out["failed"] and out["pending"] == {"Istio mesh-1": (
        "IstioRevision mesh-1: not reconciled yet (generation 3, observed 2); Deployment istio-system-1/istiod-mesh-1: "
        "rollout: 1 of 1 replicas updated, 2 in all")}
    cluster.store[("IstioRevision", None, "mesh-1")]["status"]["observedGeneration"] = 3
    deployment["status"]["replicas"] = 1
    out = stage.converge(args(objects=[istio], wait=["Istio"], wait_timeout=4), cluster, False, no_istioctl)
    assert out["ready"] == ["Istio mesh-1"] and not out["failed"]


def test_an_istio_that_is_not_ready_says_why_its_istiod_does_not_start(monkeypatch):
    from ansible_collections.multimesh.istio.plugins.plugin_utils import kube_objects

    monkeypatch.setattr(kube_objects, "time", Clock())
    cluster = FakeCluster()
    istio = item("Istio", "slow", api_version="sailoperator.io/v1", spec={"namespace": "istio-system-slow"},
                 metadata={"name": "slow", "labels": OURS})
    stage.converge(args(objects=[istio]), cluster, False, no_istioctl)
    cluster.store[("Istio", None, "slow")]["status"] = {"observedGeneration": 1, "activeRevisionName": "slow", "conditions": [
        {"type": "Ready", "status": "False", "reason": "IstiodNotReady", "message": "istiod Deployment is scaled to zero replicas"}]}
    cluster.store[("Deployment", "istio-system-slow", "istiod-slow")] = {
        "kind": "Deployment", "metadata": {"name": "istiod-slow", "namespace": "istio-system-slow", "generation": 1},
        "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "no pod"},
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota"}]}}
    out = stage.converge(args(objects=[istio], wait=["Istio"], wait_timeout=4), cluster, False, no_istioctl)
    assert out["pending"] == {"Istio slow": (
        "Ready=False (IstiodNotReady: istiod Deployment is scaled to zero replicas); Deployment istio-system-slow/istiod-slow: "
        "Available=False (MinimumReplicasUnavailable: no pod); ReplicaFailure=True (FailedCreate: exceeded quota); "
        "rollout: 0 of 1 replicas updated, 0 in all")}


def test_render_writes_only_files_that_differ(tmp_path):
    out = stage.render(args(render_dir=str(tmp_path)), False)
    assert out["changed"] and out["written"] == ["20-control-plane-mesh-1.yaml"]
    path = tmp_path / "20-control-plane-mesh-1.yaml"
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o644" and "kind: PeerAuthentication" in path.read_text()
    again = stage.render(args(render_dir=str(tmp_path)), False)
    assert not again["changed"] and again["written"] == []


def test_render_in_check_mode_writes_nothing(tmp_path):
    out = stage.render(args(render_dir=str(tmp_path / "out")), True)
    assert out["changed"] and not (tmp_path / "out").exists()
    assert out["msg"].startswith("1 of 1 file(s) would be written")


def test_malformed_items_name_the_problem():
    with pytest.raises(stage.StageError, match="lacks apiVersion or kind"):
        stage.converge(args(objects=[{"group": "g", "object": {"kind": "Namespace"}}]), FakeCluster(), False, no_istioctl)


def test_check_mode_on_an_empty_cluster_reports_what_would_be_created():
    """The namespace of a namespaced object, or the CRD of a kind, may only come with this very run."""
    from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import NotServed

    class Empty(FakeCluster):
        def apply(self, obj, dry_run=False):
            if obj["kind"] == "PeerAuthentication":
                raise NotServed("security.istio.io/v1 PeerAuthentication is not served by the cluster")
            if obj["metadata"].get("namespace"):
                raise NotFound()
            return FakeCluster.apply(self, obj, dry_run)

    class NotFound(Exception):
        status = 404

    sample = item("ServiceAccount", "httpbin", "istio-system-1")
    out = stage.converge(args(objects=OBJECTS + [sample]), Empty(), True, no_istioctl)
    assert [o["action"] for o in out["objects"]] == ["created", "created", "created"] and not out["failed"]
    failed = stage.converge(args(), Empty(), False, no_istioctl)
    assert failed["failed"] and "PeerAuthentication istio-system-1/default: " in failed["msg"] and "not served" in failed["msg"]
    # What was done before the failure is reported: the namespace was created.
    assert failed["changed"] and [o["action"] for o in failed["objects"]] == ["created"]


def test_a_namespace_being_deleted_is_not_deleted_again():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    cluster.store[("Namespace", None, "istio-system-1")]["metadata"]["deletionTimestamp"] = "2026-11-25T00:00:00Z"
    writes = len(cluster.writes)
    out = stage.converge(args(state="absent", owned_namespaces=["istio-system-1"]), cluster, False, no_istioctl)
    assert [o["action"] for o in out["objects"]] == ["deleted", "terminating"]
    assert cluster.writes[writes:] == [("delete", "PeerAuthentication", "istio-system-1", "default")]


def test_removal_keeps_objects_of_the_same_name_that_are_not_ours():
    cluster = FakeCluster()
    foreign = dict(OBJECTS[1]["object"], metadata=dict(OBJECTS[1]["object"]["metadata"], labels={"team": "payments"}))
    cluster.store[key(foreign)] = copy.deepcopy(foreign)
    out = stage.converge(args(state="absent"), cluster, False, no_istioctl)
    assert out["objects"][0]["action"] == "kept, not created by this inventory" and not out["changed"]
    assert key(foreign) in cluster.store and cluster.writes == []
    assert out["msg"].endswith("kept (same name, not created by this inventory): PeerAuthentication istio-system-1/default")


def test_an_object_being_deleted_fails_the_apply_naming_it():
    cluster = FakeCluster()
    stage.converge(args(), cluster, False, no_istioctl)
    cluster.store[("Namespace", None, "istio-system-1")]["metadata"]["deletionTimestamp"] = "2026-11-25T00:00:00Z"
    out = stage.converge(args(), cluster, False, no_istioctl)
    assert out["failed"] and "Namespace istio-system-1 is being deleted (an earlier removal)" in out["msg"]


def test_removal_with_an_owner_keeps_another_inventorys_objects():
    cluster = FakeCluster()
    theirs = copy.deepcopy(OBJECTS[1]["object"])
    theirs["metadata"]["labels"] = dict(OURS, **{"multimesh.istio/owner": "team-b"})
    cluster.store[key(theirs)] = theirs
    out = stage.converge(args(state="absent", owner="team-a"), cluster, False, no_istioctl)
    assert out["objects"][0]["action"] == "kept, not created by this inventory" and key(theirs) in cluster.store
    theirs["metadata"]["labels"]["multimesh.istio/owner"] = "team-a"
    out = stage.converge(args(state="absent", owner="team-a"), cluster, False, no_istioctl)
    assert out["objects"][0]["action"] == "deleted" and key(theirs) not in cluster.store


# ------------------------------------------------------------------ tenant hardening: only ever change or remove
# what this inventory created (another inventory on the cluster, or a user, may be an adversary)

def namespace_of(owner=None, managed=True, name="istio-system-1"):
    labels = dict(OURS) if managed else {}
    if owner:
        labels["multimesh.istio/owner"] = owner
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels, "uid": "ns-uid",
                                                                  "resourceVersion": "7"}}


def test_an_owned_namespace_of_another_inventory_is_not_deleted():
    """Issue point 4: owned (or a default <mesh>-ingress) namespace that carries another inventory's owner label."""
    cluster = FakeCluster()
    theirs = namespace_of(owner="team-b")
    cluster.store[key(theirs)] = copy.deepcopy(theirs)
    out = stage.converge(args(state="absent", owner="team-a", owned_namespaces=["istio-system-1"]), cluster, False,
                         no_istioctl)
    assert cluster.store[key(theirs)] == theirs and cluster.writes == []
    assert out["objects"][-1]["action"] == "kept, not created by this inventory" and not out["changed"]
    assert out["msg"].endswith("kept (same name, not created by this inventory): Namespace istio-system-1")


def test_an_owned_namespace_needs_both_marks_to_be_deleted_and_loses_only_our_labels_otherwise():
    # Labelled by this inventory as a member it did not create (its owner label only), then declared owned.
    labelled = owned(labels={"multimesh.istio/owner": "team-a"})
    cluster = FakeCluster()
    stage.converge(args(owner="team-a", objects=labelled), cluster, False, no_istioctl)
    out = stage.converge(args(state="absent", owner="team-a", owned_namespaces=["istio-system-1"]), cluster, False,
                         no_istioctl)
    assert out["objects"][-1]["action"] == "released, not created by this inventory"
    assert "labels" not in cluster.store[("Namespace", None, "istio-system-1")]["metadata"]
    mine = owned(labels=dict(OURS, **{"multimesh.istio/owner": "team-a"}))
    cluster = FakeCluster()
    stage.converge(args(owner="team-a", objects=mine), cluster, False, no_istioctl)
    out = stage.converge(args(state="absent", owner="team-a", owned_namespaces=["istio-system-1"]), cluster, False,
                         no_istioctl)
    assert out["objects"][-1]["action"] == "deleted" and ("Namespace", None, "istio-system-1") not in cluster.store


class Replacing(FakeCluster):
    """Between the ownership check and the delete, someone replaces the object with one of their own."""

    def __init__(self, replacement, times=1):
        FakeCluster.__init__(self)
        self.replacement, self.times, self.preconditions = replacement, times, []

    def delete(self, checked):
        self.preconditions.append({"uid": checked["metadata"]["uid"], "resourceVersion": checked["metadata"]["resourceVersion"]})
        if self.times:
            self.times -= 1
            self.store[key(checked)] = copy.deepcopy(self.replacement(self.store[key(checked)]))
        return FakeCluster.delete(self, checked)


def test_a_delete_is_conditional_on_the_object_that_was_checked():
    """Issue point 7: an object replaced after its ownership was checked is checked again, never removed unchecked."""
    policy = OBJECTS[1]["object"]

    def foreign(live):
        return dict(policy, metadata=dict(policy["metadata"], labels={"team": "payments"}, uid="u2", resourceVersion="1"))

    cluster = Replacing(foreign)
    stage.converge(args(), cluster, False, no_istioctl)
    live = cluster.store[key(policy)]
    out = stage.converge(args(state="absent"), cluster, False, no_istioctl)
    assert cluster.preconditions[0] == {"uid": live["metadata"]["uid"], "resourceVersion": live["metadata"]["resourceVersion"]}
    assert cluster.store[key(policy)]["metadata"]["labels"] == {"team": "payments"}
    assert out["objects"][0]["action"] == "kept, not created by this inventory" and not out["failed"]


def test_a_delete_of_ours_changed_meanwhile_is_retried_and_one_that_keeps_changing_fails_naming_it():
    policy = OBJECTS[1]["object"]

    def touched(live):
        return dict(live, metadata=dict(live["metadata"], resourceVersion=str(int(live["metadata"]["resourceVersion"]) + 1)))

    cluster = Replacing(touched)
    stage.converge(args(), cluster, False, no_istioctl)
    out = stage.converge(args(state="absent"), cluster, False, no_istioctl)
    assert out["objects"][0]["action"] == "deleted" and key(policy) not in cluster.store and len(cluster.preconditions) == 2
    busy = Replacing(touched, times=99)
    stage.converge(args(), busy, False, no_istioctl)
    out = stage.converge(args(state="absent"), busy, False, no_istioctl)
    assert out["failed"] and key(policy) in busy.store
    assert "PeerAuthentication istio-system-1/default changed 3 times between its ownership check and its removal, so it " \
           "was not deleted. Fix: run again" in out["msg"]


def test_apply_refuses_to_take_over_an_object_it_did_not_create():
    """Issue point 3: server-side apply would add this inventory's labels to a user's httpbin (and cleanup would then
    delete it); the apply fails naming it, and writes nothing to it."""
    users = {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "httpbin", "namespace": "app-ns-2", "labels": {"team": "payments"}}}
    cluster = FakeCluster()
    cluster.store[key(users)] = copy.deepcopy(users)
    ours = item("Service", "httpbin", "app-ns-2", metadata={"name": "httpbin", "namespace": "app-ns-2", "labels": dict(
        OURS, **{"multimesh.istio/owner": "team-a"})}, spec={"ports": [{"port": 8000}]})
    out = stage.converge(args(objects=[ours], owner="team-a"), cluster, False, no_istioctl)
    assert out["failed"] and cluster.store[key(users)] == users and cluster.writes == [] and cluster.dry_runs == []
    assert ("Service app-ns-2/httpbin exists and is not this inventory's: it exists without this inventory's labels "
            "(app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a); nothing was written to it. "
            "Fix: remove or rename it") in out["msg"]
    theirs = copy.deepcopy(ours["object"])
    theirs["metadata"]["labels"]["multimesh.istio/owner"] = "team-b"
    cluster.store[key(users)] = theirs
    out = stage.converge(args(objects=[ours], owner="team-a"), cluster, False, no_istioctl)
    assert out["failed"] and "it belongs to the inventory 'team-b' (multimesh.istio/owner=team-b)" in out["msg"]


def test_apply_labels_a_namespace_that_exists_unless_it_must_be_ours_or_is_anothers():
    """Namespaces follow owned: one that is not may exist before and only gets labels; an owned one must be ours."""
    member = item("Namespace", "app-ns-1", metadata={"name": "app-ns-1", "labels": {"multimesh.istio/owner": "team-a"}})
    existing = namespace_of(managed=False, name="app-ns-1")
    for owned_namespaces, failed in (([], False), (["app-ns-1"], True)):
        cluster = FakeCluster()
        cluster.store[key(existing)] = copy.deepcopy(existing)
        out = stage.converge(args(objects=[member], owner="team-a", owned_namespaces=owned_namespaces), cluster, False,
                             no_istioctl)
        assert out["failed"] is failed, out["msg"]
    assert "Namespace app-ns-1 exists and is not this inventory's" in out["msg"] and "set owned: false" in out["msg"]
    cluster = FakeCluster()
    cluster.store[key(existing)] = namespace_of(owner="team-b", managed=False, name="app-ns-1")
    out = stage.converge(args(objects=[member], owner="team-a"), cluster, False, no_istioctl)
    assert out["failed"] and "it belongs to the inventory 'team-b'" in out["msg"] and cluster.writes == []


def test_removal_keeps_an_istioctl_install_of_another_inventory():
    """Issue point 5: the owner goes to istioctl_install, and a revision it keeps is reported as kept."""
    operator = item("IstioOperator", "mesh-1", "istio-system-1", api_version="install.istio.io/v1alpha1",
                    spec={"revision": "mesh-1"})
    seen = []

    def istioctl(params):
        seen.append(params)
        return {"changed": False, "kept": ["IstioOperator istio-system-1/mesh-1 (revision mesh-1): kept, ..."]}

    out = stage.converge(args(objects=[operator], state="absent", owner="team-b"), FakeCluster(), False, istioctl)
    assert [p["owner"] for p in seen] == ["team-b"]
    assert out["objects"][0]["action"] == "kept, not created by this inventory" and not out["changed"]
    assert out["msg"].endswith("kept (same name, not created by this inventory): IstioOperator istio-system-1/mesh-1")
