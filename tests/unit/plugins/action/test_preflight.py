"""The preflight action: reads every object the run would apply and refuses, before any write, those that exist
without this inventory's labels (issue point 3: a user's httpbin Service, an owned namespace someone else made)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import MagicMock

from ansible_collections.multimesh.istio.plugins.action import preflight
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

OURS = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "team-a"}
CRD_NAMES = ("istios.sailoperator.io", "istiocnis.sailoperator.io")


def obj(api_version, kind, name, namespace=None, labels=None):
    meta = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


class ReadOnlyCluster(object):
    """get and list over stored objects; any write fails the test."""

    def __init__(self, objects):
        self.objects = dict(((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]), o) for o in objects)
        for name in CRD_NAMES:
            self.objects[("CustomResourceDefinition", None, name)] = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        self.reads, self.discovered, self.listed = 0, [], []

    def resource(self, api_version, kind):
        """networking.istio.io is not served here (Istio's CRDs not installed yet)."""
        self.discovered.append(kind)
        if api_version.startswith("networking.istio.io/"):
            raise preflight.NotServed("{0} {1} is not served".format(api_version, kind))

    def get(self, wanted):
        self.reads += 1
        meta = wanted["metadata"]
        return self.objects.get((wanted["kind"], meta.get("namespace"), meta["name"]))

    def list(self, api_version, kind, label_selector=None, field_selector=None):
        """label_selector: key=value, or key (the label exists)."""
        key, equals, value = (label_selector or "").partition("=")
        self.listed.append((kind, label_selector))
        return [o for (k, dummy, dummy2), o in sorted(self.objects.items(), key=lambda i: str(i[0]))
                if k == kind and (not key or (o["metadata"]["labels"].get(key) == value if equals
                                              else key in o["metadata"]["labels"]))]


def run(model, cluster, monkeypatch):
    monkeypatch.setattr(preflight, "connect", lambda auth: cluster)
    task = MagicMock()
    task.args = {"model": model}
    task.async_val = 0
    task.check_mode = False
    action = preflight.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "cluster-1"})


def model():
    return build_model(owner="team-a", samples=["httpbin"], meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1", {"name": "app-ns-2", "owned": True}]}])


def test_a_users_object_with_a_planned_name_stops_the_run_naming_it(monkeypatch):
    users = obj("v1", "Service", "httpbin", "app-ns-1", {"team": "payments"})
    others = obj("v1", "ServiceAccount", "httpbin", "app-ns-1", dict(OURS, **{"multimesh.istio/owner": "team-b"}))
    mine = obj("apps/v1", "Deployment", "httpbin", "app-ns-1", OURS)
    cluster = ReadOnlyCluster([users, others, mine, obj("v1", "Namespace", "app-ns-1")])
    result = run(model(), cluster, monkeypatch)
    assert result["failed"] and result["msg"].startswith("Pre-flight found 2 problem(s); nothing was changed")
    assert result["problems"] == [
        "ServiceAccount app-ns-1/httpbin, which this run would apply, exists and is not this inventory's: it belongs to "
        "the inventory 'team-b' (multimesh.istio/owner=team-b). Fix: take it out of this inventory, or set "
        "multimesh_owner: team-b if this is that inventory.",
        "Service app-ns-1/httpbin, which this run would apply, exists and is not this inventory's: it exists without "
        "this inventory's labels (app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a). Fix: "
        "remove or rename it if nothing needs it, or leave out of this inventory what makes it; or to hand it to this "
        "inventory on purpose, label it app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a "
        "(cleanup then deletes it)."]
    assert result["objects"] == len(preflight.planned_objects(model()))
    # One discovery per kind: a kind not served is not asked about again for each of its objects (two Sidecars here).
    assert sorted(cluster.discovered) == [
        "Deployment", "IstioCNI", "PeerAuthentication", "Service", "ServiceAccount", "Sidecar"]


def test_an_owned_namespace_must_be_this_inventorys_and_another_may_exist(monkeypatch):
    cluster = ReadOnlyCluster([obj("v1", "Namespace", "app-ns-1", labels={"team": "payments"}),
                               obj("v1", "Namespace", "app-ns-2", labels={"team": "payments"})])
    result = run(model(), cluster, monkeypatch)
    assert result["problems"] == [
        "Namespace app-ns-2 (owned, in mesh 'mesh-1') exists and is not this inventory's: it exists without this "
        "inventory's labels (app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a). Fix: set "
        "owned: false for it (members[].owned or ingress_gateway.owned): it then only gets the mesh's labels and "
        "cleanup never deletes it; or to hand it to this inventory on purpose, label it "
        "app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a (cleanup then deletes it)."]
    cluster.objects[("Namespace", None, "app-ns-2")]["metadata"]["labels"] = dict(OURS)
    result = run(model(), cluster, monkeypatch)
    assert not result.get("failed") and result["problems"] == [], result
    assert result["msg"].startswith("Pre-flight passed: 0 Istio resource(s), 2 namespaces and ")


def test_foreign_tag_webhooks_and_istiods_discovering_this_inventorys_namespaces_stop_the_run(monkeypatch):
    """Tenant issue points 8 and 9: every revision tag and every istiod's mesh ConfigMap is read, whoever made them."""
    rb = build_model(owner="team-a", backend="istioctl", meshes=[
        {"name": "payments", "namespace": "istio-system-1", "members": ["app-ns-1"], "version": "1.30.2",
         "update_strategy": {"type": "RevisionBased"}}])
    tag = obj("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "istio-revision-tag-payments",
              labels={"istio.io/tag": "payments", "istio.io/rev": "prod"})
    tag["webhooks"] = [{"name": "rev.namespace.sidecar-injector.istio.io",
                        "clientConfig": {"service": {"name": "istiod-prod", "namespace": "istio-system"}}}]
    theirs = obj("v1", "ConfigMap", "istio-payments", "istio-payments", {"istio.io/rev": "payments"})
    theirs["data"] = {"mesh": "discoverySelectors:\n- matchLabels:\n    istio-discovery: payments\n"}
    mine = obj("v1", "ConfigMap", "istio-payments-v1-30-2", "istio-system-1", {"istio.io/rev": "payments-v1-30-2"})
    mine["data"] = {"mesh": "discoverySelectors:\n- matchLabels:\n    istio-discovery: payments\n"}
    cluster = ReadOnlyCluster([tag, theirs, mine])
    result = run(rb, cluster, monkeypatch)
    assert result["failed"] and result["msg"].startswith("Pre-flight found 2 problem(s); nothing was changed")
    assert result["problems"][0].startswith(
        "MutatingWebhookConfiguration istio-revision-tag-payments is a revision tag payments (istio.io/tag=payments; "
        "payments is the istio.io/rev label of the namespaces of mesh 'payments') and is not that mesh's: it points at "
        "revision prod")
    assert result["problems"][1].startswith(
        "istiod revision payments (mesh config ConfigMap istio-payments/istio-payments; made by: revision payments) is "
        "not this inventory's, and its discoverySelectors select namespaces of this inventory: app-ns-1, istio-system-1.")
    assert ("MutatingWebhookConfiguration", "istio.io/tag") in cluster.listed
    assert ("ConfigMap", "istio.io/rev") in cluster.listed


def test_a_mesh_that_uses_the_cni_where_none_runs_stops_the_run_and_the_daemonsets_are_read_only_then(monkeypatch):
    """Issue 28 item 1: without multimesh_cni a mesh's own values.pilot.cni.enabled needs a CNI already there; its
    pods' istio-validation would fail otherwise. With the shared CNI enabled nothing is read for it."""
    asks = build_model(owner="team-a", cni={"enabled": False}, meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "values": {"pilot": {"cni": {"enabled": True}}}},
        {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2"]}])
    cluster = ReadOnlyCluster([])
    result = run(asks, cluster, monkeypatch)
    assert result["problems"] == [
        "Mesh 'mesh-1' uses the Istio CNI (values.pilot.cni.enabled) but this cluster runs none (no DaemonSet "
        "k8s-app=istio-cni-node) and multimesh_cni.enabled is false. Fix: set multimesh_cni.enabled: true, or remove "
        "values.pilot.cni from the mesh."]
    assert ("DaemonSet", "k8s-app=istio-cni-node") in cluster.listed
    # A CNI someone else runs (OpenShift's, another inventory's) serves it.
    cluster = ReadOnlyCluster([obj("apps/v1", "DaemonSet", "istio-cni-node", "kube-system", {"k8s-app": "istio-cni-node"})])
    assert run(asks, cluster, monkeypatch)["problems"] == []
    # The shared CNI enabled: every mesh uses it, and nothing is read for it.
    cluster = ReadOnlyCluster([])
    assert run(model(), cluster, monkeypatch)["problems"] == []
    assert "DaemonSet" not in [kind for kind, dummy in cluster.listed]
