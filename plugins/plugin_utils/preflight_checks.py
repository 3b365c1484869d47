# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Pre-flight: every reason not to touch a cluster, from its state given as data (plugins/action/preflight.py reads
it). The checks of other installations and of owned namespaces are in cluster_state.py; this module adds the CRDs,
the Istio resources and the member namespaces' labels, and puts them in order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.module_utils.ownership import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_LABEL,
    marks_text,
)
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import ours as _ours
from ansible_collections.multimesh.istio.plugins.plugin_utils.cluster_state import (
    SAIL_CRDS,
    TAG_CRD,
    cluster_object_problems,
    default_tag_problems,
    discovery_selectors,
    istioctl_strategy_problems,
    mesh_config_problems,
    object_labels,
    object_name,
    other_owner,
    owned_namespace_problems,
    ownership_problems,
    planned_namespace_labels,
    selector_matches,
    tag_webhook_problems,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import REVISION_LABEL
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import uses_cni

# The Istio CNI's node agent, however installed (its chart's DaemonSet label).
CNI_DAEMONSET_LABEL = "k8s-app=istio-cni-node"


def cni_wanted_elsewhere(model):
    """The meshes that use the Istio CNI while this inventory installs none: one must be on the cluster already."""
    return [] if model["cni"]["enabled"] else [m["name"] for m in model["meshes"] if uses_cni(m)]


def cni_problems(model, cni_daemonsets):
    """A mesh that uses the Istio CNI (its values.pilot.cni.enabled) on a cluster without one: its pods' istio-validation
    init container would fail. cni_daemonsets: the DaemonSets labelled CNI_DAEMONSET_LABEL, read only when
    cni_wanted_elsewhere(model) names a mesh."""
    if cni_daemonsets:
        return []
    return ["Mesh '{0}' uses the Istio CNI (values.pilot.cni.enabled) but this cluster runs none (no DaemonSet {1}) and "
            "multimesh_cni.enabled is false. Fix: set multimesh_cni.enabled: true, or remove values.pilot.cni from the "
            "mesh.".format(name, CNI_DAEMONSET_LABEL) for name in cni_wanted_elsewhere(model)]


def _strategy_change(istio, mesh):
    """An existing Istio cannot switch between InPlace and RevisionBased: InPlace's revision carries the name the
    tag would take (and the other way round), so the operator would refuse one of them."""
    running = (((istio.get("spec") or {}).get("updateStrategy") or {}).get("type")) or "InPlace"
    wanted = mesh["update_strategy"]["type"]
    if running == wanted:
        return []
    return ["Istio {0} runs with updateStrategy {1}, and mesh '{2}' asks for {3}: an existing mesh cannot switch, as the "
            "revision and tag names would collide. Fix: keep {1} for mesh '{2}', or remove it (playbooks/cleanup.yml) "
            "and converge it again with {3}.".format(object_name(istio), running, mesh["name"], wanted)]


def _crd_problems(model, crds):
    """The Sail Operator's CRDs, unless multimesh_sail_operator.install brings them (right after these checks)."""
    if model["backend"] != "sail" or model.get("sail_operator", {}).get("install"):
        return []
    problems = [
        "CRD {0} not found: the Sail Operator is not installed. Fix: on OpenShift install OpenShift Service "
        "Mesh 3 from OperatorHub; on Kubernetes set multimesh_sail_operator.install=true or install the "
        "sail-operator Helm chart.".format(crd) for crd in SAIL_CRDS if crd not in crds]
    tagged = [m["name"] for m in model["meshes"] if m["update_strategy"]["type"] == "RevisionBased"]
    if tagged and TAG_CRD not in crds:
        problems.append(
            "CRD {0} not found, and mesh(es) {1} use update_strategy RevisionBased (a revision tag). Fix: install a "
            "Sail Operator that serves IstioRevisionTag (1.26 or later), or use InPlace.".format(TAG_CRD, ", ".join(tagged)))
    return problems


def _own_istio_problems(istio, mesh, model):
    """An Istio under the name of one of this inventory's revisions must be this inventory's, and keep its strategy."""
    name, owner = object_name(istio), model.get("owner")
    if not _ours(istio):
        return ["Istio {0} exists and was not created by multimesh.istio. Fix: give mesh '{1}' another revision, or "
                "adopt it by labelling it {2}.".format(name, mesh["name"], marks_text(owner))]
    if other_owner(istio, model):
        return ["Istio {0} belongs to the inventory '{1}' ({2}={1}), not to this one ('{3}'). Fix: give mesh '{4}' "
                "another revision, or set multimesh_owner: {1} if this is that inventory.".format(
                    name, other_owner(istio, model), OWNER_LABEL, owner, mesh["name"])]
    if not _ours(istio, owner):  # the collection's mark, no inventory's (made by hand?)
        return ["Istio {0} carries {1}={2} but not {3}={4}, so this inventory did not create it. Fix: give mesh "
                "'{5}' another revision, or adopt it by labelling it {6}.".format(
                    name, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL, owner, mesh["name"], marks_text(owner))]
    return _strategy_change(istio, mesh)


def _istio_problems(model, istios, namespaces):
    """This inventory's Istios, and the others': each must have discoverySelectors that miss this inventory's
    namespaces (as they will be labelled)."""
    problems = []
    ours = dict((m["revision"], m) for m in model["meshes"])
    planned = planned_namespace_labels(model, namespaces)
    for istio in sorted(istios, key=object_name):
        name = object_name(istio)
        if name in ours:
            problems += _own_istio_problems(istio, ours[name], model)
            continue
        selectors = discovery_selectors(istio)
        if selectors is None:
            problems.append(
                "Istio {0} (not in this inventory) has no discoverySelectors, so it watches every namespace, this "
                "inventory's too. Fix: give it spec.values.meshConfig.discoverySelectors first.".format(name))
            continue
        seen = sorted(ns for ns, labels in planned.items() if any(selector_matches(s, labels) for s in selectors))
        if seen:
            problems.append(
                "Istio {0} (not in this inventory) selects namespaces of this inventory: {1}. Fix: change its "
                "discoverySelectors or this inventory's discovery_labels.".format(name, ", ".join(seen)))
    return problems


def _member_label_problems(model, namespaces):
    """A member namespace must not carry another mesh's revision, nor istio-injection (which overrides it)."""
    problems = []
    revisions = dict((member["name"], (mesh["name"], mesh["revision"]))
                     for mesh in model["meshes"] for member in mesh["labelled_namespaces"])
    for ns in sorted(namespaces, key=object_name):
        name = object_name(ns)
        if name not in revisions:
            continue
        mesh, revision = revisions[name]
        labels = object_labels(ns)
        if REVISION_LABEL in labels and labels[REVISION_LABEL] != revision:
            problems.append(
                "Namespace {0} (member of mesh '{1}') carries {2}={3}, another mesh's revision. Fix: remove it from "
                "that mesh first (or remove the label).".format(name, mesh, REVISION_LABEL, labels[REVISION_LABEL]))
        if "istio-injection" in labels:
            problems.append(
                "Namespace {0} (member of mesh '{1}') carries istio-injection={2}, which overrides {3}. Fix: remove "
                "the istio-injection label.".format(name, mesh, labels["istio-injection"], REVISION_LABEL))
    return problems


def preflight_problems(model, crds, istios, namespaces, istiods=(), default_tags=(), cluster_objects=None,
                       tag_webhooks=(), mesh_configs=(), cni_daemonsets=()):
    """Every reason not to touch the cluster, each naming the object and the fix; empty when it is safe.

    crds: names of the CustomResourceDefinitions present; istios: Istio objects; namespaces: Namespace objects;
    istiods: istiod Deployments (app=istiod), however installed; default_tags: MutatingWebhookConfigurations
    labelled istio.io/tag=default; cluster_objects: {kind: [objects]} of CLUSTER_OBJECT_KINDS; tag_webhooks: every
    MutatingWebhookConfiguration labelled istio.io/tag; mesh_configs: every ConfigMap labelled istio.io/rev;
    cni_daemonsets: the Istio CNI's DaemonSets (see cni_problems).
    """
    problems = _crd_problems(model, crds) + _istio_problems(model, istios, namespaces)
    problems += ownership_problems(model, namespaces, istiods) + owned_namespace_problems(model, namespaces)
    problems += default_tag_problems(model, default_tags) + tag_webhook_problems(model, tag_webhooks)
    problems += mesh_config_problems(model, mesh_configs, namespaces, istios)
    if model["backend"] == "istioctl":
        problems += istioctl_strategy_problems(model, istiods)
    problems += cluster_object_problems(model, cluster_objects or {}) + cni_problems(model, cni_daemonsets)
    return problems + _member_label_problems(model, namespaces)
