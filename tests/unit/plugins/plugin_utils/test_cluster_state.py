"""Decisions from cluster state given as data: pre-flight, readiness, departed members."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.cluster_state import (
    cluster_object_problems,
    departed_members,
    selector_matches,
    takeover_problems,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.kube_objects import readiness
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.planned_objects import planned_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.preflight_checks import preflight_problems

MODEL = build_model(meshes=[
    {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]},
    {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2", "app-ns-3"],
     "values": {"pilot": {"env": {"A": "1"}}, "meshConfig": {"accessLogFile": "/dev/stdout"}}},
])
CRDS = ["istios.sailoperator.io", "istiocnis.sailoperator.io"]
OURS = {"app.kubernetes.io/managed-by": "multimesh.istio"}


def ns(name, labels=None, managed=None):
    meta = {"name": name, "labels": labels or {}}
    if managed:
        meta["managedFields"] = [{"manager": managed, "operation": "Apply",
                                  "fieldsV1": {"f:metadata": {"f:labels": {"f:" + k: {} for k in labels}}}}]
    return {"metadata": meta}


def istio(name, selectors=None, labels=None, **status):
    values = {"meshConfig": {"discoverySelectors": selectors}} if selectors is not None else {}
    obj = {"metadata": {"name": name, "labels": labels or {}, "generation": 2}, "spec": {"values": values}}
    if status:
        obj["status"] = status
    return obj


# ------------------------------------------------------------- selectors and values

@pytest.mark.parametrize("selector,labels,expected", [
    ({}, {"a": "1"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "3"]}]}, {"a": "3"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"b": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"b": "1"}, True),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
])
def test_selector_semantics(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


def test_unknown_operator_is_an_error():
    with pytest.raises(ValueError):
        selector_matches({"matchExpressions": [{"key": "a", "operator": "Gt"}]}, {})


# ------------------------------------------------------------- pre-flight

def test_a_clean_cluster_passes():
    assert preflight_problems(MODEL, CRDS, [], [ns("default"), ns("app-ns-1")]) == []


def test_missing_crds_say_how_to_install_the_operator():
    problems = preflight_problems(MODEL, ["istiocnis.sailoperator.io"], [], [])
    assert len(problems) == 1
    assert problems[0].startswith("CRD istios.sailoperator.io not found: the Sail Operator is not installed. Fix:")


def test_crds_are_not_needed_by_istioctl():
    model = dict(MODEL, backend="istioctl")
    assert preflight_problems(model, [], [], []) == []


def test_our_own_istios_are_fine_and_a_foreign_one_with_our_name_is_not():
    mine = dict(OURS, **{"multimesh.istio/owner": MODEL["owner"]})
    assert preflight_problems(MODEL, CRDS, [istio("mesh-1", labels=mine)], []) == []
    problems = preflight_problems(MODEL, CRDS, [istio("mesh-2", selectors=[{"matchLabels": {"x": "y"}}])], [])
    assert problems == ["Istio mesh-2 exists and was not created by multimesh.istio. Fix: give mesh 'mesh-2' another "
                        "revision, or adopt it by labelling it app.kubernetes.io/managed-by=multimesh.istio "
                        "multimesh.istio/owner=default."]
    # The collection's mark without this inventory's identity: not this inventory's either.
    problems = preflight_problems(MODEL, CRDS, [istio("mesh-1", labels=OURS)], [])
    assert problems == ["Istio mesh-1 carries app.kubernetes.io/managed-by=multimesh.istio but not "
                        "multimesh.istio/owner=default, so this inventory did not create it. Fix: give mesh 'mesh-1' "
                        "another revision, or adopt it by labelling it app.kubernetes.io/managed-by=multimesh.istio "
                        "multimesh.istio/owner=default."]


def test_foreign_istio_without_selectors_is_rejected():
    problems = preflight_problems(MODEL, CRDS, [istio("default")], [])
    assert problems and problems[0].startswith("Istio default (not in this inventory) has no discoverySelectors")


def test_foreign_istio_selecting_our_namespaces_is_named_with_them():
    foreign = istio("legacy", selectors=[{"matchExpressions": [{"key": "istio-discovery", "operator": "Exists"}]}])
    problems = preflight_problems(MODEL, CRDS, [foreign], [])
    assert problems == ["Istio legacy (not in this inventory) selects namespaces of this inventory: app-ns-1, app-ns-2, "
                        "app-ns-3, istio-system-1, istio-system-2. Fix: change its discoverySelectors or this "
                        "inventory's discovery_labels."]


def test_foreign_istio_matching_existing_labels_of_our_namespace_is_caught():
    foreign = istio("legacy", selectors=[{"matchLabels": {"team": "payments"}}])
    assert preflight_problems(MODEL, CRDS, [foreign], [ns("app-ns-2", {"team": "other"})]) == []
    assert "app-ns-2" in preflight_problems(MODEL, CRDS, [foreign], [ns("app-ns-2", {"team": "payments"})])[0]


def test_foreign_istio_with_disjoint_selectors_is_fine():
    foreign = istio("legacy", selectors=[{"matchLabels": {"istio-discovery": "legacy"}}])
    assert preflight_problems(MODEL, CRDS, [foreign], []) == []


def test_member_with_another_revision_or_injection_label_is_rejected():
    namespaces = [ns("app-ns-1", {"istio.io/rev": "canary"}), ns("app-ns-2", {"istio-injection": "enabled"}),
                  ns("app-ns-3", {"istio.io/rev": "mesh-2"}), ns("elsewhere", {"istio.io/rev": "x"})]
    problems = preflight_problems(MODEL, CRDS, [], namespaces)
    assert [p.split(" (")[0] for p in problems] == ["Namespace app-ns-1", "Namespace app-ns-2"]
    assert "istio.io/rev=canary, another mesh's revision" in problems[0]


# ------------------------------------------------------------- readiness

def test_ready_when_observed_and_ready_condition_true():
    obj = istio("mesh-1", observedGeneration=2, conditions=[{"type": "Reconciled", "status": "True"},
                                                            {"type": "Ready", "status": "True"}])
    assert readiness(obj) == (True, "Ready")


def test_not_ready_explains_failing_conditions():
    obj = istio("mesh-1", observedGeneration=2, state="NotReady", conditions=[
        {"type": "Reconciled", "status": "True"},
        {"type": "Ready", "status": "False", "reason": "IstiodNotReady", "message": "istiod Deployment is not ready"}])
    assert readiness(obj) == (False, "Ready=False (IstiodNotReady: istiod Deployment is not ready)")


def test_stale_status_is_not_ready():
    obj = istio("mesh-1", observedGeneration=1, conditions=[{"type": "Ready", "status": "True"}])
    assert readiness(obj) == (False, "not reconciled yet (generation 2, observed 1)")
    assert readiness(istio("mesh-1")) == (False, "not reconciled yet (generation 2, observed None)")


def test_no_conditions_yet():
    assert readiness(istio("m", observedGeneration=2, state="Pending")) == (False, "no Ready condition yet (state Pending)")


def test_deployments_are_ready_when_available():
    deployment = {"kind": "Deployment", "metadata": {"name": "httpbin", "generation": 1}, "spec": {"replicas": 2},
                  "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                             "conditions": [{"type": "Available", "status": "True"}]}}
    assert readiness(deployment) == (True, "Available")
    # Available while old pods still serve: not rolled out yet (kubectl rollout status waits too).
    deployment["status"].update(replicas=3, updatedReplicas=1)
    assert readiness(deployment) == (False, "rollout: 1 of 2 replicas updated, 3 in all")
    deployment["status"].update(replicas=2, updatedReplicas=2)
    deployment["status"]["conditions"] = [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                                          "message": "no pod"}]
    assert readiness(deployment) == (False, "Available=False (MinimumReplicasUnavailable: no pod)")


# ------------------------------------------------------------- departed members

def test_departed_members_are_ours_only():
    namespaces = [
        ns("app-ns-1", {"istio.io/rev": "mesh-1"}, managed=MODEL["field_manager"]),      # still a member
        ns("old-app", {"istio.io/rev": "mesh-1", "istio-discovery": "mesh-1"}, managed=MODEL["field_manager"]),  # left
        ns("kubectl-labelled", {"istio.io/rev": "mesh-2"}, managed="kubectl-label"),  # not labelled by us
        ns("other-mesh", {"istio.io/rev": "foreign"}, managed=MODEL["field_manager"]),     # not a mesh of ours
        ns("istio-system-1", {"istio.io/rev": "mesh-1"}, managed=MODEL["field_manager"]),  # a control plane
    ]
    assert departed_members(MODEL, namespaces) == ["old-app"]


def test_crds_are_not_required_when_the_operator_will_be_installed():
    model = build_model(meshes=[{"name": "m", "namespace": "n"}], sail_operator={"install": True})
    assert preflight_problems(model, [], [], []) == []


def test_foreign_istio_selecting_the_label_the_collection_sets_is_caught():
    """The plan holds every label the collection sets: the managed-by label of control-plane and CNI namespaces."""
    foreign = istio("legacy", selectors=[{"matchLabels": {"app.kubernetes.io/managed-by": "multimesh.istio"}}])
    problems = preflight_problems(MODEL, CRDS, [foreign], [])
    assert problems == ["Istio legacy (not in this inventory) selects namespaces of this inventory: istio-cni, "
                        "istio-system-1, istio-system-2. Fix: change its discoverySelectors or this inventory's "
                        "discovery_labels."]


def test_another_inventorys_istio_namespaces_and_revisions_are_refused():
    """Issue 13 point 2: two inventories on one cluster never take each other's objects."""
    model = build_model(owner="team-a", meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]}])
    theirs = dict(OURS, **{"multimesh.istio/owner": "team-b"})
    assert preflight_problems(model, CRDS, [istio("mesh-1", labels=dict(OURS, **{"multimesh.istio/owner": "team-a"}))],
                              []) == []
    problems = preflight_problems(model, CRDS, [istio("mesh-1", labels=theirs)],
                                  [ns("app-ns-1", {"multimesh.istio/owner": "team-b"}), ns("istio-cni", theirs)])
    assert problems == [
        "Istio mesh-1 belongs to the inventory 'team-b' (multimesh.istio/owner=team-b), not to this one ('team-a'). "
        "Fix: give mesh 'mesh-1' another revision, or set multimesh_owner: team-b if this is that inventory.",
        "Namespace app-ns-1 belongs to the inventory 'team-b' (multimesh.istio/owner=team-b), not to this one "
        "('team-a'). Fix: take it out of this inventory, or set multimesh_owner: team-b if this is that inventory."]
    helm = {"metadata": {"name": "istiod-mesh-1", "namespace": "istio-system",
                         "labels": {"app": "istiod", "istio.io/rev": "mesh-1"}}}
    home = {"metadata": {"name": "istiod-mesh-1", "namespace": "istio-system-1", "labels": {"istio.io/rev": "mesh-1"}}}
    assert preflight_problems(model, CRDS, [], [], [helm, home]) == [
        "Revision mesh-1 of mesh 'mesh-1' is already served by istiod Deployment istio-system/istiod-mesh-1, outside "
        "the mesh's namespace istio-system-1. Fix: give mesh 'mesh-1' another revision, or remove that installation first."]


def test_a_default_tag_of_a_revision_outside_the_inventory_is_not_taken_over():
    model = build_model(default_mesh="mesh-1", meshes=[{"name": "mesh-1", "namespace": "istio-system-1"},
                                                       {"name": "mesh-2", "namespace": "istio-system-2"}])
    ours = {"metadata": {"name": "istio-revision-tag-default", "labels": {"istio.io/tag": "default", "istio.io/rev": "mesh-2"}}}
    foreign = {"metadata": {"name": "istio-revision-tag-default-x",
                            "labels": {"istio.io/tag": "default", "istio.io/rev": "prod-1-29"}}}
    assert preflight_problems(model, CRDS, [], [], [], [ours]) == []
    problems = preflight_problems(model, CRDS, [], [], [], [ours, foreign])
    assert len(problems) == 1 and problems[0].startswith(
        "The default revision tag istio-revision-tag-default-x points at revision prod-1-29, which is not in this inventory")
    assert preflight_problems(dict(model, default_mesh=None), CRDS, [], [], [], [foreign]) == []


# ------------------------------------------------------------- cluster-scoped names another install holds

def chart_object(name, labels=None, subjects_ns=None, webhook_ns=None, owners=None, annotations=None):
    meta = {"name": name, "labels": dict({"app": "istiod", "release": "istio"}, **(labels or {}))
            if labels is not False else {}}
    if owners:
        meta["ownerReferences"] = [{"kind": kind, "name": who} for kind, who in owners]
    if annotations:
        meta["annotations"] = annotations
    obj = {"metadata": meta}
    if subjects_ns:
        obj["subjects"] = [{"kind": "ServiceAccount", "name": "istiod-mesh-2", "namespace": subjects_ns}]
    if webhook_ns:
        obj["webhooks"] = [{"name": "rev.namespace.sidecar-injector.istio.io",
                            "clientConfig": {"service": {"name": "istiod-mesh-2", "namespace": webhook_ns}}}]
    return obj


def test_the_meshs_own_cluster_objects_pass():
    existing = {
        "ClusterRole": [chart_object("istiod-clusterrole-mesh-2-istio-system-2")],
        "ClusterRoleBinding": [chart_object("istiod-clusterrole-mesh-2-istio-system-2", subjects_ns="istio-system-2")],
        "MutatingWebhookConfiguration": [chart_object("istio-sidecar-injector-mesh-2-istio-system-2",
                                                      labels={"istio.io/rev": "mesh-2"}, webhook_ns="istio-system-2",
                                                      owners=[("Istio", "mesh-2")])],
        # Not a name any mesh of the inventory would create: someone else's business.
        "ValidatingWebhookConfiguration": [chart_object("istio-validator-other", labels=False)],
    }
    assert cluster_object_problems(MODEL, existing) == []
    assert preflight_problems(MODEL, CRDS, [], [], cluster_objects=existing) == []


@pytest.mark.parametrize("kind,obj,why,owner", [
    ("ClusterRole", chart_object("istiod-clusterrole-mesh-1-istio-system-1", labels=False),
     "it carries none of the labels Istio's charts set", "no owner recorded (made by hand?)"),
    ("ClusterRoleBinding", chart_object("istiod-clusterrole-mesh-1-istio-system-1", subjects_ns="istio-system-1-b"),
     "it points into namespace istio-system-1-b", "no owner recorded"),
    ("MutatingWebhookConfiguration", chart_object("istio-sidecar-injector-mesh-1-istio-system-1",
                                                  labels={"istio.io/rev": "mesh"}),
     "it carries istio.io/rev=mesh", "revision mesh"),
    ("ValidatingWebhookConfiguration", chart_object("istio-validator-mesh-1-istio-system-1",
                                                    labels={"multimesh.istio/owner": "payments-team"}),
     "it belongs to the inventory 'payments-team'", "inventory 'payments-team'"),
    ("ClusterRole", chart_object("istio-reader-clusterrole-mesh-1-istio-system-1", owners=[("IstioRevision", "mesh")],
                                 annotations={"meta.helm.sh/release-name": "mesh-istiod",
                                              "meta.helm.sh/release-namespace": "istio-system"}),
     "it is owned by IstioRevision mesh", "Helm release istio-system/mesh-istiod, IstioRevision mesh"),
])
def test_a_cluster_object_of_someone_else_is_named_with_both_owners(kind, obj, why, owner):
    problems = cluster_object_problems(MODEL, {kind: [obj]})
    assert len(problems) == 1, problems
    assert problems[0].startswith("{0} {1}, which the install of mesh 'mesh-1' (revision mesh-1, namespace "
                                  "istio-system-1) would create, exists and is not that mesh's: {2}; made by: {3}".format(
                                      kind, obj["metadata"]["name"], why, owner))
    assert "Fix: remove it if nothing uses it, or give mesh 'mesh-1' another revision or namespace." in problems[0]


def test_a_role_follows_its_binding():
    name = "istiod-gateway-controller-mesh-1-istio-system-1"
    existing = {"ClusterRole": [chart_object(name)],
                "ClusterRoleBinding": [chart_object(name, subjects_ns="elsewhere")]}
    problems = cluster_object_problems(MODEL, existing)
    assert [p.split(",")[0] for p in problems] == ["ClusterRole " + name, "ClusterRoleBinding " + name]
    assert all("it points into namespace elsewhere" in p for p in problems)


def test_an_earlier_revision_of_a_revision_based_default_mesh_keeps_its_default_tag():
    """istioctl's default tag stays on the revision that made it; upgrade.yml then runs with the next version."""
    model = build_model(backend="istioctl", default_mesh="mesh-1", meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "version": "1.30.3", "update_strategy": {"type": "RevisionBased"}}])
    tag = {"metadata": {"name": "istio-revision-tag-default", "labels": {"istio.io/tag": "default", "istio.io/rev": "mesh-1-v1-30-2"}}}
    assert preflight_problems(model, [], [], [], [], [tag]) == []


@pytest.mark.parametrize("strategy,running,other", [
    ("RevisionBased", "mesh-1", "InPlace"),
    (None, "mesh-1-v1-30-2", "RevisionBased"),
])
def test_an_installed_istioctl_mesh_cannot_switch_strategy(strategy, running, other):
    mesh = {"name": "mesh-1", "namespace": "istio-system-1"}
    if strategy:
        mesh["update_strategy"] = {"type": strategy}
    model = build_model(backend="istioctl", meshes=[mesh])
    istiod = {"metadata": {"name": "istiod-" + running, "namespace": "istio-system-1", "labels": {"istio.io/rev": running}}}
    elsewhere = {"metadata": {"name": "istiod-" + running, "namespace": "other", "labels": {"istio.io/rev": running}}}
    problems = preflight_problems(model, [], [], [], [istiod])
    assert problems == ["Mesh 'mesh-1' asks for update_strategy {0}, but istiod revision {1} of the other strategy runs in "
                        "istio-system-1: an installed mesh cannot switch. Fix: keep {2} for mesh 'mesh-1', or remove it "
                        "(playbooks/cleanup.yml with that strategy) and converge it again.".format(
                            strategy or "InPlace", running, other)]
    same = dict(mesh, update_strategy={"type": other})
    same_model = build_model(backend="istioctl", meshes=[same])
    assert [p for p in preflight_problems(same_model, [], [], [], [istiod]) if "cannot switch" in p] == []
    assert [p for p in preflight_problems(model, [], [], [], [elsewhere]) if "cannot switch" in p] == []


def test_the_shared_cni_needs_only_the_collections_mark_the_rest_this_inventorys():
    """Issue point 3, before any write: an object the run would apply that exists without the marks is refused."""
    model = build_model(owner="team-a", cni={"enabled": True}, meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]}])
    planned = planned_objects(model)
    key = ("sailoperator.io/v1", "IstioCNI", None, "default")
    policy = ("security.istio.io/v1", "PeerAuthentication", "istio-system-1", "default")
    assert takeover_problems(model, planned, {key: {"metadata": {"labels": OURS}}, policy: None}) == []
    problems = takeover_problems(model, planned, {key: {"metadata": {}}, policy: {"metadata": {"labels": OURS}}})
    assert [p.split(", which")[0] for p in problems] == ["IstioCNI default", "PeerAuthentication istio-system-1/default"]
    assert "without this inventory's labels (app.kubernetes.io/managed-by=multimesh.istio). Fix: set " \
           "multimesh_cni.enabled: false to use it as it is" in problems[0]
    assert "(app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a)" in problems[1]
