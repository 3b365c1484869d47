"""Pre-flight against other installations of Istio on the cluster (tenant issue, "every tenant is an adversary").

Point 8: a RevisionBased mesh's namespaces carry the tag (istio.io/rev=mesh-1), not the control-plane revision
(mesh-1-v1-30-2): an istiod of revision mesh-1 elsewhere, or a revision tag webhook (istio.io/tag=<name>) another
installation made under a name the members use, would inject them too.
Point 9: istiods not of this inventory (istioctl, Helm, another inventory's) whose mesh config (ConfigMap
istio-<revision>) discovers this inventory's member or control-plane namespaces.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.plugin_utils.cluster_state import (
    mesh_config_problems,
    tag_webhook_problems,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.preflight_checks import preflight_problems

CRDS = ["istios.sailoperator.io", "istiocnis.sailoperator.io", "istiorevisiontags.sailoperator.io"]


def model(backend="sail", owner="team-a"):
    return build_model(backend=backend, owner=owner, meshes=[
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "version": "1.30.2",
         "update_strategy": {"type": "RevisionBased"}},
        {"name": "payments", "namespace": "payments-system", "members": ["payments-app"]}])


def deployment(name, namespace, revision):
    return {"metadata": {"name": name, "namespace": namespace, "labels": {"app": "istiod", "istio.io/rev": revision}}}


def tag_hook(tag, revision, namespace, labels=None, owners=None, name=None):
    meta = {"name": name or "istio-revision-tag-" + tag,
            "labels": dict({"app": "sidecar-injector", "istio.io/tag": tag}, **(labels or {}))}
    if revision:
        meta["labels"]["istio.io/rev"] = revision
    if owners:
        meta["ownerReferences"] = [{"kind": kind, "name": who} for kind, who in owners]
    service = {"name": "istiod-" + (revision or tag), "namespace": namespace, "path": "/inject", "port": 443}
    return {"metadata": meta, "webhooks": [
        {"name": "rev.namespace.sidecar-injector.istio.io", "clientConfig": {"service": service}}]}


def mesh_config(revision, namespace, mesh=None, labels=None, owners=None, name=None):
    meta = {"name": name or ("istio" if revision == "default" else "istio-" + revision), "namespace": namespace,
            "labels": dict({"istio.io/rev": revision}, **(labels or {}))}
    if owners:
        meta["ownerReferences"] = [{"kind": kind, "name": who} for kind, who in owners]
    data = {"meshNetworks": "networks: {}\n"}
    if mesh is not None:
        data["mesh"] = mesh if isinstance(mesh, str) else yaml.safe_dump(mesh)
    return {"metadata": meta, "data": data}


ISTIOCTL = {"install.operator.istio.io/owning-resource": "payments",
            "install.operator.istio.io/owning-resource-namespace": "istio-payments", "operator.istio.io/component": "Pilot"}


# ------------------------------------------------------------- point 8: the tag the members carry

@pytest.mark.parametrize("backend", ["sail", "istioctl"])
def test_an_istiod_elsewhere_serving_the_tag_the_members_carry_is_reported(backend):
    """Members of a RevisionBased mesh carry istio.io/rev=mesh-1: an istiod of revision mesh-1 (a Helm or istioctl
    install) in another namespace injects them, though no revision mesh-1-v1-30-2 runs there."""
    helm = deployment("istiod-mesh-1", "istio-system", "mesh-1")
    problems = preflight_problems(model(backend), CRDS, [], [], [helm])
    assert problems == [
        "Tag mesh-1 of mesh 'mesh-1' (its namespaces carry istio.io/rev=mesh-1) is already served by istiod Deployment "
        "istio-system/istiod-mesh-1, outside the mesh's namespace istio-system-1. Fix: give mesh 'mesh-1' another "
        "revision, or remove that installation first."]
    # The control-plane revision is matched as before; the mesh's own istiods (any version) are fine.
    active = deployment("istiod-mesh-1-v1-30-2", "istio-system", "mesh-1-v1-30-2")
    assert preflight_problems(model(backend), CRDS, [], [], [active])[0].startswith(
        "Revision mesh-1-v1-30-2 of mesh 'mesh-1' is already served by istiod Deployment istio-system/istiod-mesh-1-v1-30-2")
    home = [deployment("istiod-mesh-1-v1-30-2", "istio-system-1", "mesh-1-v1-30-2"),
            deployment("istiod-mesh-1-v1-30-1", "istio-system-1", "mesh-1-v1-30-1"),
            deployment("istiod-payments", "payments-system", "payments")]
    assert preflight_problems(model(backend), CRDS, [], [], home) == []


def test_a_foreign_tag_webhook_under_the_members_tag_is_reported_naming_it_and_the_fix():
    foreign = tag_hook("mesh-1", "prod-1-29", "istio-system", labels={
        "install.operator.istio.io/owning-resource": "prod", "install.operator.istio.io/owning-resource-namespace": "istio-system"})
    problems = preflight_problems(model(), CRDS, [], [], tag_webhooks=[foreign])
    assert problems == [
        "MutatingWebhookConfiguration istio-revision-tag-mesh-1 is a revision tag mesh-1 (istio.io/tag=mesh-1; mesh-1 is "
        "the istio.io/rev label of the namespaces of mesh 'mesh-1') and is not that mesh's: it points at revision "
        "prod-1-29; made by: IstioOperator istio-system/prod, revision prod-1-29. Its webhook would inject the pods of "
        "namespaces labelled istio.io/rev=mesh-1 with another istiod. Fix: remove that tag if nothing uses it (istioctl "
        "tag remove mesh-1, or delete its IstioRevisionTag or the webhook configuration), or give mesh 'mesh-1' another "
        "revision."]


@pytest.mark.parametrize("hook,why", [
    # Points at the mesh's revision, but from another namespace (another istiod of that name).
    (tag_hook("mesh-1", "mesh-1-v1-30-2", "istio-system"), "it points into namespace istio-system"),
    # Another inventory's, made under this inventory's names.
    (tag_hook("mesh-1", "mesh-1-v1-30-2", "istio-system-1", labels={"multimesh.istio/owner": "team-b"}),
     "it belongs to the inventory 'team-b'"),
    # Made by the operator for another IstioRevisionTag.
    (tag_hook("mesh-1", "mesh-1-v1-30-2", "istio-system-1", owners=[("IstioRevisionTag", "other")]),
     "it is owned by IstioRevisionTag other"),
    # Named like the mesh's istiod revision.
    (tag_hook("mesh-1-v1-30-2", "legacy", "istio-system"), "it points at revision legacy"),
    # An InPlace mesh's members carry its revision: a tag of that name injects them too.
    (tag_hook("payments", "payments-helm", "istio-system"), "it points at revision payments-helm"),
    (tag_hook("payments", None, "payments-system"), "it points at revision (none: no istio.io/rev label)"),
])
def test_every_name_the_members_or_istiods_use_is_checked(hook, why):
    problems = tag_webhook_problems(model(), [hook])
    assert len(problems) == 1, problems
    assert problems[0].startswith("MutatingWebhookConfiguration {0} is a revision tag {1} ".format(
        hook["metadata"]["name"], hook["metadata"]["labels"]["istio.io/tag"]))
    assert " and is not that mesh's: {0}; made by: ".format(why) in problems[0]
    assert "Fix: remove that tag if nothing uses it" in problems[0]


def test_the_meshs_own_tag_webhooks_and_unrelated_tags_pass():
    hooks = [
        # The Sail Operator's, for the mesh's IstioRevisionTag.
        tag_hook("mesh-1", "mesh-1-v1-30-2", "istio-system-1", owners=[("IstioRevisionTag", "mesh-1")],
                 name="istio-revision-tag-mesh-1-istio-system-1"),
        # istioctl's (values.revisionTags), still on the earlier version during an upgrade.
        tag_hook("mesh-1", "mesh-1-v1-30-1", "istio-system-1", labels=ISTIOCTL),
        # Tags under names this inventory does not use are someone else's business.
        tag_hook("prod", "prod-1-29", "istio-system"),
        tag_hook("default", "prod-1-29", "istio-system"),
    ]
    assert tag_webhook_problems(model(), hooks) == []
    assert preflight_problems(model(), CRDS, [], [], tag_webhooks=hooks) == []


# ------------------------------------------------------------- point 9: what other istiods discover

def test_another_istioctl_inventorys_mesh_of_the_same_name_would_discover_this_ones_namespaces():
    """Two istioctl inventories each with a mesh 'payments': the other's istiod selects istio-discovery=payments."""
    theirs = mesh_config("payments", "istio-payments", {"discoverySelectors": [{"matchLabels": {"istio-discovery": "payments"}}]},
                         labels=ISTIOCTL)
    problems = preflight_problems(model("istioctl"), [], [], [], mesh_configs=[theirs])
    assert problems == [
        "istiod revision payments (mesh config ConfigMap istio-payments/istio-payments; made by: IstioOperator "
        "istio-payments/payments, revision payments) is not this inventory's, and its discoverySelectors select "
        "namespaces of this inventory: payments-app, payments-system. Fix: change that installation's "
        "meshConfig.discoverySelectors, or this inventory's discovery_labels (for example after a mesh name no other "
        "installation uses)."]


def test_an_istiod_without_discovery_selectors_sees_every_namespace():
    helm = mesh_config("default", "istio-system", {"defaultConfig": {"discoveryAddress": "istiod.istio-system.svc:15012"}})
    problems = mesh_config_problems(model("istioctl"), [helm], [])
    assert problems == [
        "istiod revision default (mesh config ConfigMap istio-system/istio; made by: revision default) is not this "
        "inventory's and has no discoverySelectors, so it discovers every namespace, this inventory's too: app-ns-1, "
        "istio-system-1, payments-app, payments-system. Fix: give that installation meshConfig.discoverySelectors that "
        "select none of this inventory's namespaces, or remove it, before converging this inventory."]
    # No `mesh` at all: istiod's defaults, which discover everything as well.
    assert "has no discoverySelectors" in mesh_config_problems(model("istioctl"), [mesh_config("x", "x-system")], [])[0]


@pytest.mark.parametrize("selector,seen", [
    ({"matchLabels": {"istio-discovery": "mesh-1"}}, "app-ns-1, istio-system-1"),
    ({"matchExpressions": [{"key": "istio-discovery", "operator": "In", "values": ["payments", "x"]}]},
     "payments-app, payments-system"),
    ({"matchExpressions": [{"key": "istio-discovery", "operator": "NotIn", "values": ["mesh-1"]}]},
     "payments-app, payments-system"),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "Exists"}]}, "app-ns-1, payments-app"),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "DoesNotExist"}]}, "istio-system-1, payments-system"),
    # The label an existing namespace already carries counts too.
    ({"matchLabels": {"team": "payments"}}, "payments-app"),
    # Also the owner label this run will set on the members.
    ({"matchLabels": {"multimesh.istio/owner": "team-a"}}, "app-ns-1, istio-system-1, payments-app, payments-system"),
])
def test_selectors_are_evaluated_against_the_labels_this_run_sets(selector, seen):
    other = mesh_config("legacy", "legacy-system", {"discoverySelectors": [{"matchLabels": {"x": "y"}}, selector]})
    namespaces = [{"metadata": {"name": "payments-app", "labels": {"team": "payments"}}}]
    problems = mesh_config_problems(model("istioctl"), [other], namespaces)
    assert len(problems) == 1 and ("select namespaces of this inventory: " + seen + ". Fix:") in problems[0], problems


def test_disjoint_selectors_this_inventorys_own_and_other_configmaps_pass():
    configs = [
        mesh_config("legacy", "legacy-system", {"discoverySelectors": [{"matchLabels": {"istio-discovery": "legacy"}}]}),
        # This inventory's: in a mesh's namespace under one of its revisions (RevisionBased: any version's).
        mesh_config("payments", "payments-system", {}, labels=ISTIOCTL),
        mesh_config("mesh-1-v1-30-2", "istio-system-1", {}),
        mesh_config("mesh-1-v1-30-1", "istio-system-1", {}),
        # Not an istiod's mesh config.
        mesh_config("legacy", "legacy-system", {}, name="istio-sidecar-injector-legacy"),
        # Being deleted.
        dict(mesh_config("gone", "gone-system", {}),
             metadata=dict(mesh_config("gone", "gone-system", {})["metadata"], deletionTimestamp="2026-01-01T00:00:00Z")),
    ]
    assert mesh_config_problems(model("istioctl"), configs, []) == []


@pytest.mark.parametrize("config,start", [
    # This inventory's namespace and revision, but another inventory's owner label.
    (mesh_config("payments", "payments-system", {}, labels={"multimesh.istio/owner": "team-b"}),
     "istiod revision payments (mesh config ConfigMap payments-system/istio-payments; made by: inventory 'team-b', "
     "revision payments) is not this inventory's and has no discoverySelectors"),
    # A revision of this inventory in another namespace.
    (mesh_config("payments", "istio-system", {}), "istiod revision payments (mesh config ConfigMap istio-system/istio-payments"),
    # A revision this inventory does not have, in one of its namespaces.
    (mesh_config("payments-old", "payments-system", {}), "istiod revision payments-old (mesh config ConfigMap "
                                                         "payments-system/istio-payments-old"),
])
def test_the_owner_label_and_the_meshs_namespace_and_revisions_decide_what_is_ours(config, start):
    problems = mesh_config_problems(model("istioctl"), [config], [])
    assert len(problems) == 1 and problems[0].startswith(start), problems


def test_an_unreadable_mesh_config_is_reported():
    broken = mesh_config("legacy", "legacy-system", "discoverySelectors: [unclosed\n")
    problems = mesh_config_problems(model("istioctl"), [broken], [])
    assert len(problems) == 1 and problems[0].startswith(
        "istiod revision legacy (mesh config ConfigMap legacy-system/istio-legacy; made by: revision legacy) is not this "
        "inventory's, and its mesh config is not YAML")
    assert "which namespaces it discovers is unknown. Fix: " in problems[0]


def test_a_foreign_sail_istio_is_reported_once_unless_its_configmap_says_otherwise():
    """The Sail Operator writes a foreign Istio's mesh config from its spec: the Istio's message says it all. A
    ConfigMap that claims the Istio as owner but holds other selectors is judged by what it holds."""
    istio = {"metadata": {"name": "legacy"}, "spec": {"values": {}}}
    written = mesh_config("legacy-v1-30-2", "legacy-system", {}, owners=[("IstioRevision", "legacy-v1-30-2")])
    problems = preflight_problems(model(), CRDS, [istio], [], mesh_configs=[written])
    assert len(problems) == 1 and problems[0].startswith("Istio legacy (not in this inventory) has no discoverySelectors")
    selective = {"metadata": {"name": "legacy"}, "spec": {"values": {"meshConfig": {"discoverySelectors": [
        {"matchLabels": {"istio-discovery": "legacy"}}]}}}}
    problems = preflight_problems(model(), CRDS, [selective], [], mesh_configs=[written])
    assert len(problems) == 1 and problems[0].startswith("istiod revision legacy-v1-30-2 (mesh config ConfigMap "
                                                         "legacy-system/istio-legacy-v1-30-2; made by: IstioRevision "
                                                         "legacy-v1-30-2, revision legacy-v1-30-2) is not this inventory's")


def test_a_mesh_with_revision_default_keeps_this_inventorys_default_tag_and_refuses_anothers():
    """Namespaces labelled istio.io/rev=default are injected by the default tag: it must be this inventory's."""
    both = build_model(backend="istioctl", default_mesh="mesh-2", meshes=[
        {"name": "legacy", "namespace": "istio-system-1", "revision": "default", "members": ["app-ns-1"]},
        {"name": "mesh-2", "namespace": "istio-system-2"}])
    ours = tag_hook("default", "mesh-2", "istio-system-2")
    assert tag_webhook_problems(both, [ours]) == []
    foreign = tag_hook("default", "prod-1-29", "istio-system")
    problems = tag_webhook_problems(both, [foreign])
    assert len(problems) == 1 and problems[0].startswith(
        "MutatingWebhookConfiguration istio-revision-tag-default is a revision tag default (istio.io/tag=default; default "
        "is the istio.io/rev label of the namespaces of mesh 'legacy') and is not that mesh's: it points at revision "
        "prod-1-29")


def test_only_the_revisions_of_the_meshs_versions_are_its_own():
    """mesh-1-vendor starts like mesh-1's revisions but is no version of it."""
    vendor_tag = tag_hook("mesh-1", "mesh-1-vendor", "istio-system-1")
    assert " and is not that mesh's: it points at revision mesh-1-vendor; " in tag_webhook_problems(model(), [vendor_tag])[0]
    vendor_config = mesh_config("mesh-1-vendor", "istio-system-1", {})
    assert mesh_config_problems(model(), [vendor_config], [])[0].startswith(
        "istiod revision mesh-1-vendor (mesh config ConfigMap istio-system-1/istio-mesh-1-vendor")
