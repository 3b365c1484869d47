# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Decisions taken from cluster state given as data: what other installations and inventories have on the cluster
(pre-flight's checks of them, put in order by preflight_checks.py), objects to take over, departed members.

Actions and roles read the cluster and hand the objects to these functions (roles through the
filters in plugins/filter/cluster_state.py), so every decision is unit-testable without a cluster.
Over 400 lines: the checks of foreign installations share the selector and ownership helpers here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

from ansible_collections.multimesh.istio.plugins.module_utils.names import object_label
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import (
    FIELD_MANAGER,
    OWNER_LABEL,
    carries_marks,
    marks_text,
    ownership_labels,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils import chart_names
from ansible_collections.multimesh.istio.plugins.plugin_utils.kube_objects import claim_problem
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import labels_owned_by
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import REVISION_LABEL, is_version_revision

SAIL_CRDS = ("istios.sailoperator.io", "istiocnis.sailoperator.io")
# Needed only by RevisionBased meshes (their revision tag).
TAG_CRD = "istiorevisiontags.sailoperator.io"
# The label of a revision tag's MutatingWebhookConfiguration: the tag's name.
TAG_LABEL = "istio.io/tag"


# ------------------------------------------------------------------ selectors

def _expression_matches(expr, labels):
    key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError("unknown label selector operator {0!r}".format(operator))


def selector_matches(selector, labels):
    """Kubernetes LabelSelector semantics; an empty selector matches everything."""
    selector = selector or {}
    return (all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())
            and all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or []))


def discovery_selectors(istio):
    """The discoverySelectors of a Sail Istio resource, or None when it has none (it then sees every namespace)."""
    values = (istio.get("spec") or {}).get("values") or {}
    selectors = (values.get("meshConfig") or {}).get("discoverySelectors")
    return selectors or None


# ------------------------------------------------------------------ pre-flight

def object_name(obj):
    """metadata.name of an object given as data."""
    return (obj.get("metadata") or {}).get("name")


def object_labels(obj):
    """metadata.labels of an object given as data ({} when it has none)."""
    return (obj.get("metadata") or {}).get("labels") or {}


def planned_namespace_labels(model, namespaces):
    """{namespace: labels it will carry after the run}: current labels plus those the collection sets."""
    current = dict((object_name(ns), object_labels(ns)) for ns in namespaces)
    planned = {}
    owned = dict(model.get("ownership_labels") or ownership_labels())
    cni = model.get("cni") or {}
    if cni.get("enabled"):
        planned[cni["namespace"]] = dict(current.get(cni["namespace"], {}), **owned)
    for mesh in model["meshes"]:
        planned[mesh["namespace"]] = dict(current.get(mesh["namespace"], {}), **dict(mesh["discovery_labels"], **owned))
        for member in mesh["labelled_namespaces"]:
            labels = dict(mesh["member_labels"], **(owned if member.get("owned") else model.get("owner_label", {})))
            planned[member["name"]] = dict(current.get(member["name"], {}), **labels)
    return planned


def other_owner(obj, model):
    """The identity of the other inventory obj belongs to, or None (ours, or no identity)."""
    owner = object_labels(obj).get(OWNER_LABEL)
    return owner if owner and owner != model.get("owner", owner) else None


def ownership_problems(model, namespaces, istiods):
    """Namespaces of this inventory that another inventory labelled, and revisions of this inventory that an istiod
    elsewhere already serves (an istioctl or Helm install, another inventory's)."""
    problems = []
    # The CNI namespace is shared by every inventory of the cluster: not checked here.
    planned = set(mesh["namespace"] for mesh in model["meshes"]) | set(
        member["name"] for mesh in model["meshes"] for member in mesh["labelled_namespaces"]) | set(
        name for name, dummy in _gateway_namespaces(model))
    for ns in sorted(namespaces, key=object_name):
        other = other_owner(ns, model)
        if object_name(ns) in planned and other:
            problems.append(
                "Namespace {0} belongs to the inventory '{1}' ({2}={1}), not to this one ('{3}'). Fix: take it out of "
                "this inventory, or set multimesh_owner: {1} if this is that inventory.".format(
                    object_name(ns), other, OWNER_LABEL, model.get("owner")))
    # Every name the mesh's namespaces and istiod answer to: a RevisionBased mesh's tag too (its members carry
    # istio.io/rev=<tag>, which an istiod of revision <tag> elsewhere would inject as well).
    homes = dict((name, (mesh, tag)) for mesh in model["meshes"] for name, tag in revision_names(mesh))
    for deployment in sorted(istiods, key=object_name):
        meta = deployment.get("metadata") or {}
        revision = object_labels(deployment).get(REVISION_LABEL)
        mesh, tag = homes.get(revision, (None, False))
        if mesh and meta.get("namespace") != mesh["namespace"]:
            problems.append(
                "{0} {1} of mesh '{2}'{3} is already served by istiod Deployment {4}/{5}, outside the mesh's namespace "
                "{6}. Fix: give mesh '{2}' another revision, or remove that installation first.".format(
                    "Tag" if tag else "Revision", revision, mesh["name"],
                    " (its namespaces carry {0}={1})".format(REVISION_LABEL, revision) if tag else "",
                    meta.get("namespace"), meta.get("name"), mesh["namespace"]))
    return problems


def revision_names(mesh):
    """[(name, is the tag)]: the names a mesh's namespaces and istiod use - the revision its members carry in
    istio.io/rev (a RevisionBased mesh's tag) and its istiod's revision."""
    names = [(mesh["revision"], mesh["revision"] != mesh["control_plane_revision"])]
    if mesh["control_plane_revision"] != mesh["revision"]:
        names.append((mesh["control_plane_revision"], False))
    return names


def _mesh_revision(mesh, revision):
    """Whether revision is one of mesh's own: its tag, its istiod's revision, or (RevisionBased) another version's
    revision <revision>-v<version> that upgrade.yml has not retired yet (not mesh-1-vendor)."""
    return revision in (mesh["revision"], mesh["control_plane_revision"]) or (
        mesh["update_strategy"]["type"] == "RevisionBased" and is_version_revision(mesh["revision"], revision))


def _gateway_namespaces(model):
    """[(namespace, what it is)]: the namespaces of seed 004's istiod gateways, which the collection creates and owns."""
    return [(mesh["istiod_gateway"]["namespace"], "the istiod gateway of mesh '{0}'".format(mesh["name"]))
            for mesh in model["meshes"] if (mesh.get("istiod_gateway") or {}).get("namespace")]


def _gateway_namespace_fix(owner):
    return ("delete it if nothing needs it (site.yml creates it; create the gateway's TLS credential there after "
            "that), or, to hand it to this inventory on purpose, label it {0} (cleanup then deletes it)".format(
                marks_text(owner)))


def owned_namespace_problems(model, namespaces):
    """Owned namespaces (cleanup deletes them) must be this inventory's: one that exists without its labels is
    someone else's, and labelling it would make cleanup delete it. Another inventory's is reported above."""
    existing = dict((object_name(ns), ns) for ns in namespaces)
    owned = [(member["name"], "owned, in mesh '{0}'".format(mesh["name"]), None)
             for mesh in model["meshes"] for member in mesh["labelled_namespaces"] if member["owned"]]
    gateways = [(name, what, _gateway_namespace_fix(model.get("owner"))) for name, what in _gateway_namespaces(model)]
    problems = []
    for name, what, fix in owned + gateways:
        ns = existing.get(name)
        problem = claim_problem(ns, model.get("owner")) if ns else None
        if problem and not other_owner(ns, model):
            problems.append("Namespace {0} ({1}) exists and is not this inventory's: {2}. Fix: {3}.".format(
                name, what, problem[0], fix or problem[1]))
    return problems


def takeover_problems(model, planned, live):
    """Objects a converge would apply that exist and are not this inventory's: server-side apply would add its labels
    without a conflict, and cleanup would then delete them (a user's httpbin in a member namespace).

    planned: planned_objects(model); live: {(apiVersion, kind, namespace, name): the object, or None}."""
    problems = []
    for obj in planned:
        found = live.get((obj["apiVersion"], obj["kind"], obj["namespace"], obj["name"]))
        problem = claim_problem(dict(found, kind=obj["kind"]), None if obj["shared"] else model.get("owner")) \
            if found else None
        if problem:
            fix = _SHARED_FIX.format(marks_text()) if obj["shared"] else problem[1]
            problems.append("{0}, which this run would apply, exists and is not this inventory's: {1}. Fix: {2}.".format(
                object_label(obj["kind"], obj["namespace"], obj["name"]), problem[0], fix))
    return problems


# The shared CNI someone else installed: use it as it is, or hand it over.
_SHARED_FIX = ("set multimesh_cni.enabled: false to use it as it is; or to hand it to this collection on purpose, label "
               "it {0} (cleanup then removes it once no mesh needs it)")


def istioctl_strategy_problems(model, istiods):
    """istioctl: an installed mesh cannot switch strategy either. InPlace runs istiod-<revision>, RevisionBased
    istiod-<revision>-v<version> behind the tag <revision>: both at once would inject the same namespaces twice, and
    neither upgrade.yml nor cleanup.yml would find the other install."""
    problems = []
    for mesh in model["meshes"]:
        running = sorted(set(object_labels(d).get(REVISION_LABEL) for d in istiods
                             if (d.get("metadata") or {}).get("namespace") == mesh["namespace"]))
        based = mesh["update_strategy"]["type"] == "RevisionBased"
        other = [r for r in running if (r == mesh["revision"]) if based] or \
            [r for r in running if is_version_revision(mesh["revision"], r) and not based]
        if other:
            problems.append(
                "Mesh '{0}' asks for update_strategy {1}, but istiod revision {2} of the other strategy runs in {3}: an "
                "installed mesh cannot switch. Fix: keep {4} for mesh '{0}', or remove it (playbooks/cleanup.yml with "
                "that strategy) and converge it again.".format(
                    mesh["name"], mesh["update_strategy"]["type"], ", ".join(other), mesh["namespace"],
                    "InPlace" if based else "RevisionBased"))
    return problems


def default_tag_problems(model, tags):
    """Making a mesh the default takes the default tag over; one that points outside this inventory is not ours."""
    if not model.get("default_mesh"):
        return []
    revisions = set(mesh["control_plane_revision"] for mesh in model["meshes"])
    # A RevisionBased mesh's earlier versions are its own too (istioctl's default tag stays on the revision that made
    # it): exactly the revisions its versions make (mesh-1-v1-30-2), not whatever starts like them (mesh-1-vendor).
    based = [mesh["revision"] for mesh in model["meshes"] if mesh["update_strategy"]["type"] == "RevisionBased"]
    problems = []
    for tag in sorted(tags, key=object_name):
        revision = object_labels(tag).get(REVISION_LABEL)
        if revision not in revisions and not any(is_version_revision(own, revision) for own in based):
            problems.append(
                "The default revision tag {0} points at revision {1}, which is not in this inventory; making mesh '{2}' "
                "the default would take it over. Fix: remove that tag first (istioctl tag remove default) if it may go, "
                "or leave multimesh_default_mesh unset.".format(object_name(tag), revision, model["default_mesh"]))
    return problems


def _tag_owner_problem(hook, mesh, model):
    """Why a tag webhook named like one of mesh's revisions is not that mesh's, or None when it is (one the Sail
    Operator or istioctl made for the mesh: it points at a revision of the mesh, in the mesh's namespace)."""
    labels = object_labels(hook)
    if other_owner(hook, model):
        return "it belongs to the inventory '{0}'".format(other_owner(hook, model))
    if not _mesh_revision(mesh, labels.get(REVISION_LABEL)):
        return "it points at revision {0}".format(labels.get(REVISION_LABEL) or "(none: no istio.io/rev label)")
    elsewhere = sorted(_referenced_namespaces("MutatingWebhookConfiguration", hook) - set([mesh["namespace"]]))
    if elsewhere:
        return "it points into namespace {0}".format(", ".join(elsewhere))
    for ref in (hook.get("metadata") or {}).get("ownerReferences") or []:
        if (ref.get("kind") == "IstioRevisionTag" and ref.get("name") != mesh["revision"]) or (
                ref.get("kind") in ("Istio", "IstioRevision") and not _mesh_revision(mesh, ref.get("name"))):
            return "it is owned by {0} {1}".format(ref.get("kind"), ref.get("name"))
    return None


def tag_webhook_problems(model, hooks):
    """Revision tags (MutatingWebhookConfigurations labelled istio.io/tag=<name>) that another installation made under
    a name this inventory's namespaces or istiods use: its webhook injects every pod of a namespace labelled
    istio.io/rev=<name> - this inventory's members - with an istiod that is not the mesh's."""
    names = dict((name, (mesh, tag)) for mesh in model["meshes"] for name, tag in revision_names(mesh))
    problems = []
    for hook in sorted(hooks, key=object_name):
        name = object_labels(hook).get(TAG_LABEL)
        if name not in names:
            continue
        mesh, dummy = names[name]
        if name == "default":
            # The default tag (a mesh with revision default) may point at whichever mesh is multimesh_default_mesh.
            target = [m for m in model["meshes"] if _mesh_revision(m, object_labels(hook).get(REVISION_LABEL))]
            mesh = target[0] if target else mesh
        why = _tag_owner_problem(hook, mesh, model)
        if why:
            used = ("the {0} label of the namespaces of mesh '{1}'".format(REVISION_LABEL, mesh["name"])
                    if name == mesh["revision"] else "the revision of mesh '{0}''s istiod".format(mesh["name"]))
            problems.append(
                "MutatingWebhookConfiguration {0} is a revision tag {1} ({2}={1}; {1} is {3}) and is not that mesh's: "
                "{4}; made by: {5}. Its webhook would inject the pods of namespaces labelled {6}={1} with another "
                "istiod. Fix: remove that tag if nothing uses it (istioctl tag remove {1}, or delete its "
                "IstioRevisionTag or the webhook configuration), or give mesh '{7}' another revision.".format(
                    object_name(hook), name, TAG_LABEL, used, why, _describe_owner(hook), REVISION_LABEL, mesh["name"]))
    return problems


def _mesh_config_selectors(configmap):
    """(discoverySelectors or None, error or None) of an istiod's mesh ConfigMap (data key `mesh`, YAML)."""
    try:
        config = yaml.safe_load((configmap.get("data") or {}).get("mesh") or "") or {}
    except yaml.YAMLError as exc:
        return None, "its mesh config is not YAML ({0})".format(str(exc).splitlines()[0])
    if not isinstance(config, dict):
        return None, "its mesh config is not a mapping"
    selectors = config.get("discoverySelectors")
    if selectors is not None and not (isinstance(selectors, list) and all(isinstance(s, dict) for s in selectors)):
        return None, "its discoverySelectors are not a list of label selectors"
    return selectors or None, None


def _checked_as_istio(configmap, foreign_istios, selectors):
    """Whether the Sail Operator wrote configmap for an Istio the check of Istio resources already judged (owned by it
    or by one of its IstioRevisions) with the same selectors: reported once, as that Istio."""
    for ref in (configmap.get("metadata") or {}).get("ownerReferences") or []:
        for name, istio in foreign_istios.items():
            if (ref.get("kind") == "Istio" and ref.get("name") == name) or (
                    ref.get("kind") == "IstioRevision" and (ref.get("name") == name or (ref.get("name") or "").startswith(name + "-"))):
                if discovery_selectors(istio) == selectors:
                    return True
    return False


def mesh_config_problems(model, configmaps, namespaces, istios=()):
    """istiods that are not this inventory's and would discover one of its member or control-plane namespaces.

    configmaps: ConfigMaps labelled istio.io/rev in every namespace - an istiod's mesh config is istio-<revision>
    (istio for revision default) in its namespace, whoever installed it (istioctl, Helm, the Sail Operator); its
    `mesh` holds discoverySelectors (none: the istiod discovers every namespace). This inventory's are those in one of
    its meshes' namespaces under one of that mesh's revisions, without another inventory's owner label."""
    planned = planned_namespace_labels(model, namespaces)
    mine = set(mesh["namespace"] for mesh in model["meshes"]) | set(
        member["name"] for mesh in model["meshes"] for member in mesh["labelled_namespaces"])
    targets = dict((ns, labels) for ns, labels in planned.items() if ns in mine)
    ours = set(m["revision"] for m in model["meshes"])
    foreign_istios = dict((object_name(i), i) for i in istios if object_name(i) not in ours)
    problems = []
    for cm in sorted(configmaps, key=lambda c: ((c.get("metadata") or {}).get("namespace") or "", object_name(c) or "")):
        meta = cm.get("metadata") or {}
        revision, namespace = object_labels(cm).get(REVISION_LABEL), meta.get("namespace")
        if not revision or object_name(cm) != "istio" + chart_names.revision_suffix(revision) or meta.get("deletionTimestamp"):
            continue  # not an istiod's mesh config (the injector's, a root certificate...), or on its way out
        if not other_owner(cm, model) and any(
                mesh["namespace"] == namespace and _mesh_revision(mesh, revision) for mesh in model["meshes"]):
            continue
        selectors, error = _mesh_config_selectors(cm)
        if not error and _checked_as_istio(cm, foreign_istios, selectors):
            continue
        where = "istiod revision {0} (mesh config ConfigMap {1}/{2}; made by: {3}) is not this inventory's".format(
            revision, namespace, object_name(cm), _describe_owner(cm))
        if error:
            problems.append(
                "{0}, and {1}: which namespaces it discovers is unknown. Fix: correct that installation's mesh config "
                "(meshConfig.discoverySelectors), or remove it, before converging this inventory.".format(where, error))
            continue
        if selectors is None:
            seen = sorted(targets)
            problems.append(
                "{0} and has no discoverySelectors, so it discovers every namespace, this inventory's too: {1}. Fix: give "
                "that installation meshConfig.discoverySelectors that select none of this inventory's namespaces, or "
                "remove it, before converging this inventory.".format(where, ", ".join(seen)))
            continue
        seen = sorted(ns for ns, labels in targets.items() if any(selector_matches(s, labels) for s in selectors))
        if seen:
            problems.append(
                "{0}, and its discoverySelectors select namespaces of this inventory: {1}. Fix: change that "
                "installation's meshConfig.discoverySelectors, or this inventory's discovery_labels (for example "
                "after a mesh name no other installation uses).".format(where, ", ".join(seen)))
    return problems


# Kinds of the cluster-scoped objects a control plane's install creates (chart_names.cluster_scoped_objects).
CLUSTER_OBJECT_KINDS = {
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
}
# What `istioctl install` labels its objects with: the IstioOperator's namespace and name.
_ISTIOCTL_OWNER = ("install.operator.istio.io/owning-resource-namespace", "install.operator.istio.io/owning-resource")
# Labels Istio's charts put on what they render: an object without any was made by something else.
_CHART_MARKS = ("release", "app.kubernetes.io/part-of", REVISION_LABEL)


def _referenced_namespaces(kind, obj):
    """The namespaces an object points into: a binding's subjects, a webhook's service."""
    if kind == "ClusterRoleBinding":
        return set(s.get("namespace") for s in obj.get("subjects") or [] if s.get("namespace"))
    if kind.endswith("WebhookConfiguration"):
        return set(((w.get("clientConfig") or {}).get("service") or {}).get("namespace")
                   for w in obj.get("webhooks") or [] if ((w.get("clientConfig") or {}).get("service") or {}).get("namespace"))
    return set()


def _describe_owner(obj):
    """Who made obj, as far as its labels, annotations and owner references say."""
    meta = obj.get("metadata") or {}
    labels, notes = object_labels(obj), meta.get("annotations") or {}
    said = []
    if labels.get(OWNER_LABEL):
        said.append("inventory '{0}'".format(labels[OWNER_LABEL]))
    if notes.get("meta.helm.sh/release-name"):
        said.append("Helm release {0}/{1}".format(notes.get("meta.helm.sh/release-namespace"), notes["meta.helm.sh/release-name"]))
    if labels.get(_ISTIOCTL_OWNER[1]):
        said.append("IstioOperator {0}/{1}".format(labels.get(_ISTIOCTL_OWNER[0]), labels[_ISTIOCTL_OWNER[1]]))
    said += ["{0} {1}".format(ref.get("kind"), ref.get("name")) for ref in meta.get("ownerReferences") or []]
    if labels.get(REVISION_LABEL):
        said.append("revision {0}".format(labels[REVISION_LABEL]))
    return ", ".join(said) or "no owner recorded (made by hand?)"


def _not_the_meshs(kind, obj, mesh, model, bindings):
    """Why an existing object carrying a name mesh's install would create is not that install's, or None."""
    labels = object_labels(obj)
    if other_owner(obj, model):
        return "it belongs to the inventory '{0}'".format(other_owner(obj, model))
    if labels.get(REVISION_LABEL) not in (None, mesh["control_plane_revision"]):
        return "it carries {0}={1}".format(REVISION_LABEL, labels[REVISION_LABEL])
    refs = [r for r in (obj.get("metadata") or {}).get("ownerReferences") or []
            if r.get("kind") in ("Istio", "IstioRevision") and r.get("name") not in (mesh["revision"], mesh["control_plane_revision"])]
    if refs:
        return "it is owned by {0} {1}".format(refs[0]["kind"], refs[0]["name"])
    elsewhere = sorted(_referenced_namespaces(kind, obj) - set([mesh["namespace"]]))
    if elsewhere:
        return "it points into namespace {0}".format(", ".join(elsewhere))
    if kind == "ClusterRole" and object_name(obj) in bindings:  # a role is its same-named binding's
        return _not_the_meshs("ClusterRoleBinding", bindings[object_name(obj)], mesh, model, {})
    if not any(labels.get(key) for key in _CHART_MARKS) and not carries_marks(labels):
        return "it carries none of the labels Istio's charts set"
    return None


def cluster_object_problems(model, existing):
    """Objects outside any namespace that a mesh's install would create but that exist and are not that mesh's.

    existing: {kind: [objects]} for the kinds of CLUSTER_OBJECT_KINDS."""
    found = dict((kind, dict((object_name(o), o) for o in objs)) for kind, objs in existing.items())
    bindings = found.get("ClusterRoleBinding", {})
    problems = []
    for mesh in model["meshes"]:
        for planned in mesh.get("cluster_objects") or []:
            obj = found.get(planned["kind"], {}).get(planned["name"])
            why = _not_the_meshs(planned["kind"], obj, mesh, model, bindings) if obj else None
            if why:
                problems.append(
                    "{0} {1}, which the install of mesh '{2}' (revision {3}, namespace {4}) would create, exists and is "
                    "not that mesh's: {5}; made by: {6}. Fix: remove it if nothing uses it, or give mesh '{2}' another "
                    "revision or namespace.".format(planned["kind"], planned["name"], mesh["name"], mesh["control_plane_revision"],
                                                    mesh["namespace"], why, _describe_owner(obj)))
    return problems


# ------------------------------------------------------------------ members that left

def departed_members(model, namespaces):
    """Namespaces still labelled for a mesh of this inventory by this collection but no longer its members."""
    members = set(m["name"] for mesh in model["meshes"] for m in mesh["labelled_namespaces"])
    control_planes = set(mesh["namespace"] for mesh in model["meshes"])
    revisions = set(mesh["revision"] for mesh in model["meshes"])
    departed = []
    for ns in sorted(namespaces, key=object_name):
        name, labels = object_name(ns), object_labels(ns)
        if name in members or name in control_planes:
            continue
        if labels.get(REVISION_LABEL) in revisions and labels_owned_by(ns, model.get("field_manager", FIELD_MANAGER),
                                                                       label=REVISION_LABEL):
            departed.append(name)
    return departed
