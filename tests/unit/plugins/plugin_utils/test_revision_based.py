"""A RevisionBased mesh (issue 15 item 4, Sail): a revision per version named by the operator, a tag named like the
mesh's revision that namespaces carry; everything that talks to istiod uses the active revision."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_checks as judges
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import (
    ModelError,
    build_model,
    is_version_revision,
    version_revision,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.preflight_checks import preflight_problems
from ansible_collections.multimesh.istio.plugins.plugin_utils.upgrade import earlier_revisions, live_revisions

CRDS = ["istios.sailoperator.io", "istiocnis.sailoperator.io", "istiorevisiontags.sailoperator.io"]


def meshes(strategy=None, **changes):
    first = dict({"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"], "version": "1.30.2"}, **changes)
    if strategy is not None:
        first["update_strategy"] = strategy
    return [first, {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2"]}]


def errors(**kwargs):
    with pytest.raises(ModelError) as caught:
        build_model(**kwargs)
    return caught.value.errors


def test_the_active_revision_is_named_by_version_and_the_mesh_revision_becomes_the_tag():
    model = build_model(meshes=meshes({"type": "RevisionBased"}), samples=["sleep"])
    first, second = model["meshes"]
    assert first["revision"] == "mesh-1" and first["control_plane_revision"] == "mesh-1-v1-30-2"
    assert first["update_strategy"] == {"type": "RevisionBased", "inactive_revision_deletion_grace_period_seconds": 30}
    # Namespaces keep the tag; istiod, its Service and its cluster-scoped objects carry the active revision.
    assert first["member_labels"]["istio.io/rev"] == "mesh-1"
    assert first["istiod_service"] == "istiod-mesh-1-v1-30-2"
    assert {o["name"] for o in first["cluster_objects"]} >= {"istiod-clusterrole-mesh-1-v1-30-2-istio-system-1",
                                                             "istio-sidecar-injector-mesh-1-v1-30-2-istio-system-1"}
    assert second["control_plane_revision"] == "mesh-2" and second["update_strategy"]["type"] == "InPlace"


@pytest.mark.parametrize("kwargs,field,fragment", [
    (dict(meshes=meshes({"type": "Canary"})), "mesh 'mesh-1'.update_strategy.type", "unsupported strategy 'Canary'"),
    (dict(meshes=meshes({"typ": "RevisionBased"})), "mesh 'mesh-1'.update_strategy.typ", "did you mean 'type'"),
    (dict(meshes=meshes({"type": "RevisionBased", "inactive_revision_deletion_grace_period_seconds": -1})),
     "mesh 'mesh-1'.update_strategy.inactive_revision_deletion_grace_period_seconds", "not a number of seconds"),
    (dict(meshes=meshes("RevisionBased")), "mesh 'mesh-1'.update_strategy", "give a mapping"),
    (dict(meshes=meshes({"type": "RevisionBased"}, revision="default")), "mesh 'mesh-1'.update_strategy",
     "revision 'default' cannot be a RevisionBased mesh's tag"),
    (dict(meshes=meshes({"type": "RevisionBased"}, revision="r" * 56)), "mesh 'mesh-1'.revision", "longer than 63"),
    (dict(meshes=[meshes({"type": "RevisionBased"})[0], {"name": "m3", "namespace": "m3", "revision": "mesh-1-v1-30-2"}]),
     "mesh 'm3'.revision", "'mesh-1-v1-30-2' is the active revision of mesh 'mesh-1' (RevisionBased)"),
])
def test_bad_strategies_name_the_field_and_the_fix(kwargs, field, fragment):
    found = errors(**kwargs)
    assert len(found) == 1, found
    assert found[0].startswith(field + ": ") and fragment in found[0] and "Fix: " in found[0], found


def test_pre_flight_wants_the_tag_crd_only_for_revision_based_meshes():
    tagged = build_model(meshes=meshes({"type": "RevisionBased"}))
    problems = preflight_problems(tagged, CRDS[:2], [], [])
    assert len(problems) == 1 and problems[0].startswith("CRD istiorevisiontags.sailoperator.io not found, and mesh(es) "
                                                         "mesh-1 use update_strategy RevisionBased")
    assert preflight_problems(tagged, CRDS, [], []) == []
    assert preflight_problems(build_model(meshes=meshes()), CRDS[:2], [], []) == []


def hook(name, rev, tag=None):
    labels = {"istio.io/rev": rev}
    if tag:
        labels["istio.io/tag"] = tag
    return {"metadata": {"name": name, "labels": labels}}


def test_control_planes_are_checked_on_the_active_revision_and_the_tag_must_point_at_it():
    model = build_model(meshes=meshes({"type": "RevisionBased"}))
    deployments = [{"metadata": {"namespace": "istio-system-1", "name": "istiod-mesh-1-v1-30-2"}, "status": {"readyReplicas": 1}},
                   {"metadata": {"namespace": "istio-system-2", "name": "istiod-mesh-2"}, "status": {"readyReplicas": 1}}]
    mutating = [hook("istio-sidecar-injector-mesh-1-v1-30-2-istio-system-1", "mesh-1-v1-30-2"),
                hook("istio-sidecar-injector-mesh-2-istio-system-2", "mesh-2"),
                hook("istio-revision-tag-mesh-1-istio-system-1", "mesh-1-v1-30-2", tag="mesh-1")]
    validating = [hook("istio-validator-mesh-1-v1-30-2-istio-system-1", "mesh-1-v1-30-2"),
                  hook("istio-validator-mesh-2-istio-system-2", "mesh-2")]
    checks = dict((c["name"], c) for c in judges.check_control_planes(model, deployments, mutating, validating))
    assert set(c["status"] for c in checks.values()) == {"pass"}, checks
    assert checks["revision tag mesh-1"]["observed"] == "tag mesh-1 -> mesh-1-v1-30-2"
    assert "revision tag mesh-2" not in checks
    stale = mutating[:2] + [hook("istio-revision-tag-mesh-1-istio-system-1", "mesh-1-v1-30-1", tag="mesh-1")]
    tag = dict((c["name"], c) for c in judges.check_control_planes(model, deployments, stale, validating))["revision tag mesh-1"]
    assert (tag["status"], tag["observed"]) == ("fail", "tag mesh-1 -> mesh-1-v1-30-1")
    assert tag["reason"] == "new pods of mesh-1 are not injected by its active revision"


def test_a_pod_is_bound_when_the_active_revision_injected_it():
    model = build_model(meshes=meshes({"type": "RevisionBased"}))
    pod = {"metadata": {"namespace": "app-ns-1", "name": "app", "labels": {"istio.io/rev": "mesh-1"},
                        "annotations": {"sidecar.istio.io/status": '{"revision":"mesh-1-v1-30-2"}'}},
           "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy", "env": [
               {"name": "PROXY_CONFIG", "value": '{"discoveryAddress":"istiod-mesh-1-v1-30-2.istio-system-1.svc:15012"}'}]}]}}
    checks = dict((c["name"], c) for c in judges.check_pods(model, [pod]))
    assert checks["binding app-ns-1/app"]["status"] == "pass", checks["binding app-ns-1/app"]


def test_pre_flight_refuses_to_switch_an_existing_mesh_between_strategies():
    ours = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "default"}
    in_place = {"metadata": {"name": "mesh-1", "labels": ours}, "spec": {"updateStrategy": {"type": "InPlace"}}}
    problems = preflight_problems(build_model(meshes=meshes({"type": "RevisionBased"})), CRDS, [in_place], [])
    assert problems == [
        "Istio mesh-1 runs with updateStrategy InPlace, and mesh 'mesh-1' asks for RevisionBased: an existing mesh cannot "
        "switch, as the revision and tag names would collide. Fix: keep InPlace for mesh 'mesh-1', or remove it "
        "(playbooks/cleanup.yml) and converge it again with RevisionBased."]
    revision_based = {"metadata": {"name": "mesh-1", "labels": ours}, "spec": {"updateStrategy": {"type": "RevisionBased"}}}
    assert preflight_problems(build_model(meshes=meshes({"type": "RevisionBased"})), CRDS, [revision_based], []) == []
    assert "asks for InPlace" in preflight_problems(build_model(meshes=meshes()), CRDS, [revision_based], [])[0]
    # An Istio written before the strategy existed (no updateStrategy) is InPlace.
    assert preflight_problems(build_model(meshes=meshes()), CRDS, [{"metadata": in_place["metadata"], "spec": {}}], []) == []


def test_an_istioctl_revision_based_mesh_installs_its_version_s_revision_with_the_mesh_s_tag():
    """istioctl: the IstioOperator of <revision>-v<version> renders the tag's webhook (the chart's revisionTags), so
    the newest install moves it; the namespaces keep istio.io/rev=<revision>."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.values import control_plane_values

    mesh = build_model(backend="istioctl", meshes=meshes({"type": "RevisionBased"}))["meshes"][0]
    assert mesh["control_plane_revision"] == "mesh-1-v1-30-2" and mesh["member_labels"]["istio.io/rev"] == "mesh-1"
    assert control_plane_values(mesh, "istioctl")["revisionTags"] == ["mesh-1"]
    inplace = build_model(backend="istioctl", meshes=meshes(None))["meshes"][0]
    assert "revisionTags" not in control_plane_values(inplace, "istioctl")


# ------------------------------------------------------------------ a mesh's own revisions, exactly (tenant issue, point 12)

@pytest.mark.parametrize("name,own", [
    ("mesh-1-v1-30-2", True), ("mesh-1-v1-31-0", True), ("mesh-1-v1-30-latest", True),
    ("mesh-1-vendor", False), ("mesh-1-v1-30-2-canary", False), ("mesh-1-v1-30", False), ("mesh-1-v1", False),
    ("mesh-1-v1-v1-30-2", False), ("mesh-1", False), ("xmesh-1-v1-30-2", False), (None, False),
])
def test_a_revision_based_mesh_s_revisions_are_exactly_those_its_versions_make(name, own):
    assert is_version_revision("mesh-1", name) is own
    # The name the model gives each version is one of them.
    assert is_version_revision("mesh-1", version_revision("mesh-1", "1.30-latest"))


def default_tag(revision):
    return {"metadata": {"name": "istio-revision-tag-default", "labels": {"istio.io/tag": "default", "istio.io/rev": revision}}}


@pytest.mark.parametrize("backend", ["sail", "istioctl"])
def test_a_default_tag_on_a_revision_that_only_starts_like_the_mesh_s_is_not_taken_over(backend):
    """Making mesh-1 the default deletes the default tag of a revision not its own: one on mesh-1-vendor (another
    installation's) must stop pre-flight, as any foreign default tag does; mesh-1's earlier version's may go."""
    model = build_model(backend=backend, default_mesh="mesh-1", meshes=meshes({"type": "RevisionBased"}, version="1.30.3"))
    assert preflight_problems(model, CRDS, [], [], [], [default_tag("mesh-1-v1-30-2")]) == []
    for foreign in ("mesh-1-vendor", "mesh-1-v1-30-2-canary"):
        assert preflight_problems(model, CRDS, [], [], [], [default_tag(foreign)]) == [
            "The default revision tag istio-revision-tag-default points at revision {0}, which is not in this inventory; "
            "making mesh 'mesh-1' the default would take it over. Fix: remove that tag first (istioctl tag remove "
            "default) if it may go, or leave multimesh_default_mesh unset.".format(foreign)]


def istiod(revision, namespace="istio-system-1"):
    return {"metadata": {"name": "istiod-" + revision, "namespace": namespace,
                         "labels": {"app": "istiod", "istio.io/rev": revision}}}


def test_istioctl_upgrades_retire_only_the_mesh_s_own_earlier_revisions():
    """upgrade.yml uninstalls the earlier revisions of a RevisionBased mesh: never an istiod mesh-1-vendor beside them."""
    model = build_model(backend="istioctl", meshes=meshes({"type": "RevisionBased"}, version="1.30.3"))
    found = [istiod("mesh-1-v1-30-2"), istiod("mesh-1-v1-30-3"), istiod("mesh-1-vendor"), istiod("mesh-1-v1-30-2-canary")]
    assert earlier_revisions(model["meshes"], found) == [{"namespace": "istio-system-1", "revision": "mesh-1-v1-30-2"}]
    assert live_revisions(model["meshes"][0], "istioctl", {"istiods": found, "tags": []})[2] == [
        "mesh-1-v1-30-2", "mesh-1-v1-30-3"]


def test_an_istiod_that_only_starts_like_a_version_revision_is_no_strategy_switch():
    """An InPlace istioctl mesh beside an istiod mesh-1-vendor: not a RevisionBased install of mesh-1."""
    model = build_model(backend="istioctl", meshes=meshes())
    assert [p for p in preflight_problems(model, [], [], [], [istiod("mesh-1-vendor")]) if "cannot switch" in p] == []
    assert [p for p in preflight_problems(model, [], [], [], [istiod("mesh-1-v1-30-2")]) if "cannot switch" in p]
