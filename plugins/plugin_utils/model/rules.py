# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The mesh model's rules beyond the schema: names and labels Kubernetes accepts, Istio versions, control-plane
values a mesh must not set, and what the meshes sharing a cluster must keep apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multimesh.istio.plugins.module_utils.names import DNS1123_SUBDOMAIN, is_dns1123_label, is_label_value
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import MANAGED_BY_LABEL, OWNER_LABEL
from ansible_collections.multimesh.istio.plugins.plugin_utils import chart_names
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.schema import check_type, type_name

REVISION_LABEL = "istio.io/rev"
MESH_LABEL = "multimesh.istio/mesh"
# Namespaces Kubernetes itself owns: making them mesh members breaks the cluster.
RESERVED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")

_SERVICE_PORT_NAME = re.compile(r"(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)")
# A patch release or MINOR-latest: Sail's Istio.spec.version accepts nothing else (v1.30 is refused at apply time).
_VERSION = re.compile(r"v?(\d+)\.(\d+)(\.\d+|-latest)")
# Discovery label keys that must not select a mesh's namespaces, with the reason.
_FORBIDDEN_DISCOVERY_KEYS = {
    MANAGED_BY_LABEL: "is set by the collection on every control-plane and CNI namespace, so it would select them all",
    OWNER_LABEL: "is set by the collection on every namespace of the inventory, so it would select them all",
    "istio-injection": "overrides istio.io/rev on the namespace (injection by the default revision), so the first "
                       "run passes and pre-flight blocks every later one",
}
# The one list of control-plane values a mesh must not set (multimesh_meshes[].values): README's values section and
# the model role's argument spec name each of them (a unit test checks). {path: (what it does, the fix, the values
# that are allowed anyway)}; "{value}" and "{namespace}" in the text stand for the value given and the mesh's namespace,
# _MESH_NAMESPACE among the allowed values for the mesh's namespace.
_MESH_NAMESPACE = object()
_KEEP_OWN = "remove it; each mesh keeps its policy and trust in its own control plane"
_TAGS_FIX = ("remove it; the collection makes the tags itself - update_strategy RevisionBased: the tag of the mesh's "
             "revision; multimesh_default_mesh: the default tag")
REFUSED_VALUES = {
    ("meshConfig", "discoverySelectors"): ("is built from discovery_labels and must not be set here",
                                           "remove it and set the mesh's 'discovery_labels'", ()),
    ("global", "revision"): ("is set by the collection from 'revision'", "remove it", ()),
    # The chart's own revision value: the Sail Operator and istioctl set it from the revision they install.
    ("revision",): ("is set from the mesh's 'revision' (the Sail Operator and istioctl overwrite it)",
                    "remove it; set the mesh's 'revision'", ()),
    ("global", "istioNamespace"): ("'{value}' differs from the mesh namespace '{namespace}'",
                                   "remove it; the collection sets it from the mesh's 'namespace'", (_MESH_NAMESPACE,)),
    ("meshConfig", "rootNamespace"): ("moves the root namespace away from the control-plane namespace, so the STRICT "
                                      "PeerAuthentication there stops being mesh-wide", _KEEP_OWN, ()),
    ("global", "caAddress"): ("makes the mesh's proxies get certificates from another CA than its own istiod",
                              _KEEP_OWN, ()),
    ("meshConfig", "defaultConfig", "discoveryAddress"): ("points the mesh's proxies at another control plane",
                                                          _KEEP_OWN, ()),
    # A tag renders a webhook that injects the namespaces labelled istio.io/rev=<tag> with this mesh's proxies: a tag
    # named after another mesh's revision would take that mesh's pods.
    ("revisionTags",): ("renders a revision tag's injection webhook, which injects every namespace labelled "
                        "istio.io/rev=<tag> - another mesh's too when the tag is its revision", _TAGS_FIX, ([],)),
    ("defaultRevision",): ("makes this mesh's revision the cluster's default (istio-injection=enabled namespaces, "
                           "istiod-default-validator)", "remove it and set multimesh_default_mesh", ("",)),
    ("sidecarInjectorWebhook", "enableNamespacesByDefault"): (
        "makes the mesh's injector inject every namespace without an injection label - other meshes' and namespaces "
        "outside any mesh", "remove it (or set it false); the mesh injects its 'members'", (False,)),
}


def check_dns_label(errs, where, value, what="a Kubernetes name"):
    if not check_type(errs, where, value, str, "quote it as a string"):
        return False
    if not is_dns1123_label(value):
        errs.add(where, "'{0}' is not a valid DNS-1123 label ({1})".format(value, what),
                 "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
        return False
    return True


def _label_key_problem(key):
    if not isinstance(key, str) or not key:
        return "label key must be a non-empty string"
    prefix, dummy, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return "label key prefix '{0}' is not a DNS-1123 subdomain".format(prefix)
    if not is_label_value(name):
        return "label key name '{0}' must be at most 63 characters [A-Za-z0-9-_.], alphanumeric at both ends".format(name)
    return None


def _kubernetes_label(key):
    """Keys under the kubernetes.io and k8s.io prefixes belong to Kubernetes."""
    prefix = key.rpartition("/")[0]
    return prefix in ("kubernetes.io", "k8s.io") or prefix.endswith((".kubernetes.io", ".k8s.io"))


def check_labels(errs, where, labels):
    if not check_type(errs, where, labels, dict, "give a mapping of label key to value, e.g. {istio-discovery: mesh-1}"):
        return False
    if not labels:
        errs.add(where, "is empty, so the discovery selector would select every namespace",
                 "give at least one label, e.g. {istio-discovery: <mesh name>}")
        return False
    ok = True
    for key, value in labels.items():
        problem = _label_key_problem(key)
        if problem:
            errs.add("{0}.{1}".format(where, key), problem, "use a valid Kubernetes label key such as 'istio-discovery'")
            ok = False
            continue
        if key == REVISION_LABEL:
            errs.add("{0}.{1}".format(where, key), "the revision label is set by the collection from 'revision'",
                     "remove it from discovery_labels and set the mesh's 'revision' instead")
            ok = False
            continue
        if key in _FORBIDDEN_DISCOVERY_KEYS or _kubernetes_label(key):
            errs.add("{0}.{1}".format(where, key), _FORBIDDEN_DISCOVERY_KEYS.get(key) or (
                "'{0}' is a label Kubernetes sets (kubernetes.io/metadata.name, for one, selects namespaces by name, "
                "another mesh's included)".format(key)), "use a label of your own, e.g. {istio-discovery: <mesh name>}")
            ok = False
            continue
        if not isinstance(value, str):
            errs.add("{0}.{1}".format(where, key), "label value must be a string, got {0}".format(type_name(value)),
                     "quote the value")
            ok = False
        elif value and not is_label_value(value):
            errs.add("{0}.{1}".format(where, key), "label value '{0}' is not valid label syntax".format(value),
                     "use at most 63 characters [A-Za-z0-9-_.], alphanumeric at both ends")
            ok = False
    return ok


def normalize_version(errs, where, value):
    """Return the version without a leading 'v' ('1.30.3', '1.30-latest'), or None if invalid."""
    if not isinstance(value, str):
        errs.add(where, "must be a string, got {0}".format(type_name(value)), "quote the version, e.g. \"1.30.3\"")
        return None
    match = _VERSION.fullmatch(value)
    if not match:
        errs.add(where, "'{0}' is not an Istio version".format(value), "use MAJOR.MINOR.PATCH such as 1.30.3, or 1.30-latest (quoted)")
        return None
    return value[1:] if value.startswith("v") else value


def check_values(errs, where, values, namespace):
    """Reject values that would silently defeat what the model sets or reach out of the mesh (REFUSED_VALUES)."""
    if not check_type(errs, where, values, dict, "give the control plane's Helm values as a mapping"):
        return {}
    for path, (why, fix, allowed) in REFUSED_VALUES.items():
        node, found = values, True
        for key in path:
            found = isinstance(node, dict) and key in node
            node = node.get(key) if found else None
        allowed = [namespace if a is _MESH_NAMESPACE else a for a in allowed]
        if not found or node is None or any(type(node) is type(a) and node == a for a in allowed):  # False is not 0
            continue
        errs.add(where + "." + ".".join(path), why.format(value=node, namespace=namespace), fix)
    return copy.deepcopy(values)


def version_revision(revision, version):
    """The revision a RevisionBased mesh's istiod runs at a version (Sail's name): mesh-1 at 1.30.3 is mesh-1-v1-30-3."""
    return "{0}-v{1}".format(revision, version.replace(".", "-"))


# What version_revision makes of any version the model accepts (_VERSION): MAJOR-MINOR-PATCH or MAJOR-MINOR-latest.
_VERSION_SUFFIX = r"-v[0-9]+-[0-9]+-([0-9]+|latest)"


def is_version_revision(revision, name):
    """Whether name is the revision of one of the versions of the RevisionBased mesh with this revision (its tag):
    mesh-1-v1-30-3 and mesh-1-v1-30-latest are mesh-1's, mesh-1-vendor or mesh-1-v1-30-3-canary are not."""
    return isinstance(revision, str) and isinstance(name, str) and \
        re.fullmatch(re.escape(revision) + _VERSION_SUFFIX, name) is not None


def control_plane_revision(errs, where, revision, version, strategy, topology):
    """The revision istiod runs as: the mesh's revision (InPlace), or, RevisionBased, Sail's name for the revision of
    this version (mesh-1 at 1.30.3 is mesh-1-v1-30-3; the mesh's revision becomes the tag pointing at it)."""
    if strategy["type"] != "RevisionBased" or not isinstance(revision, str):
        return revision
    if revision == "default":
        errs.add(where + ".update_strategy", "revision 'default' cannot be a RevisionBased mesh's tag (the 'default' tag "
                 "takes over istio-injection=enabled for the whole cluster)", "give the mesh a revision of its own")
    if topology != "single":
        errs.add(where + ".update_strategy", "RevisionBased is not supported for a {0} mesh yet (a tag cannot point at "
                 "a remote revision)".format(topology), "use InPlace for meshes across clusters")
    name = version_revision(revision, version)
    if len(name) > 63:
        errs.add(where + ".revision", "'{0}' with the version makes the revision '{1}', longer than 63 characters".format(
            revision, name), "use a shorter revision")
    return name


def _selects(selector_labels, namespace_labels):
    return all(namespace_labels.get(k) == v for k, v in selector_labels.items())


def check_cross_mesh(errs, meshes, cni):
    """What the meshes of one cluster must keep apart: names, revisions, namespaces, node ports and selectors."""
    _check_unique_fields(errs, meshes)
    _check_active_revisions(errs, meshes)
    _check_namespaces(errs, meshes, cni)
    _check_selectors(errs, meshes)


def _check_unique_fields(errs, meshes):
    for field in ("name", "namespace", "revision"):
        seen = {}
        for mesh in meshes:
            value = mesh[field]
            if value in seen:
                if field == "revision" and value == "default":
                    errs.add("mesh '{0}'.revision".format(mesh["name"]),
                             "revision 'default' is already used by mesh '{0}'; only one mesh can be the default".format(seen[value]),
                             "give this mesh its own revision (e.g. its name)")
                else:
                    errs.add("mesh '{0}'.{1}".format(mesh["name"], field),
                             "'{0}' is already the {1} of mesh '{2}'".format(value, field, seen[value]),
                             "give every mesh a unique {0}".format(field))
            else:
                seen[value] = mesh["name"]


def _check_active_revisions(errs, meshes):
    """A RevisionBased mesh's active revision is an IstioRevision name too: no other mesh may use it as its revision."""
    for mesh in meshes:
        for other in meshes:
            active = other["control_plane_revision"]
            if other is not mesh and active != other["revision"] and mesh["revision"] == active:
                errs.add("mesh '{0}'.revision".format(mesh["name"]),
                         "'{0}' is the active revision of mesh '{1}' (RevisionBased)".format(active, other["name"]),
                         "give every mesh a unique revision")


def _check_namespaces(errs, meshes, cni):
    """A namespace is one mesh's member, never a control plane's or the CNI's; a node port is one gateway's."""
    control_planes = dict((m["namespace"], m["name"]) for m in meshes)
    owner = {}
    node_ports = {}
    for mesh in meshes:
        gateway = mesh.get("ingress_gateway")
        for port in gateway["ports"] if gateway else []:
            other = node_ports.setdefault(port["node_port"], mesh["name"]) if port["node_port"] else mesh["name"]
            if other != mesh["name"]:
                errs.add("mesh '{0}'.ingress_gateway.ports".format(mesh["name"]),
                         "node_port {0} is already the ingress gateway port of mesh '{1}'".format(port["node_port"], other),
                         "give every mesh's gateway its own node ports, or leave node_port unset")
        for index, member in enumerate(mesh["labelled_namespaces"]):
            is_gateway = index >= len(mesh["members"])
            where = "mesh '{0}'.ingress_gateway.namespace".format(mesh["name"]) if is_gateway else \
                "mesh '{0}'.members[{1}]".format(mesh["name"], index)
            ns = member["name"]
            if ns in control_planes and is_gateway:
                # The gateway's account lists the Secrets of its namespace (SDS requires it): the CA key and the
                # remote secrets' tokens of a control-plane namespace would be in reach.
                errs.add(where, "'{0}' is the control-plane namespace of mesh '{1}': the gateway's account may list "
                         "every Secret of its namespace, which there holds the CA key and the remote secrets' tokens".format(
                             ns, control_planes[ns]),
                         "give the ingress gateway a namespace of its own (omit namespace: {0}-ingress)".format(mesh["name"]))
            elif ns in control_planes:
                whose = control_planes[ns]
                errs.add(where, "'{0}' is the control-plane namespace of mesh '{1}'".format(ns, whose),
                         "remove it from members; control-plane namespaces are labelled automatically" if whose == mesh["name"]
                         else "use a different namespace for workloads")
            elif ns in owner:
                errs.add(where, "namespace '{0}' is already a member of mesh '{1}'".format(ns, owner[ns]),
                         "a namespace belongs to one mesh only; remove it from one of them")
            elif cni["enabled"] and ns == cni["namespace"]:
                errs.add(where, "'{0}' is the IstioCNI namespace".format(ns), "use a different namespace for workloads")
            else:
                owner[ns] = mesh["name"]
    if cni["enabled"] and cni["namespace"] in control_planes:
        errs.add("multimesh_cni.namespace", "'{0}' is the control-plane namespace of mesh '{1}'".format(
            cni["namespace"], control_planes[cni["namespace"]]), "give the shared CNI its own namespace, e.g. istio-cni")


def _check_selectors(errs, meshes):
    """A mesh's selector must not match the labels another mesh puts on its namespaces."""
    reported = set()
    for mesh in meshes:
        for other in meshes:
            pair = frozenset((id(mesh), id(other)))
            if other is mesh or pair in reported:
                continue
            targets = [other["discovery_labels"], other["member_labels"]]
            if any(_selects(mesh["discovery_labels"], t) for t in targets):
                reported.add(pair)
                errs.add("mesh '{0}'.discovery_labels".format(mesh["name"]),
                         "selector {0} also selects the namespaces of mesh '{1}' (labelled {2})".format(
                             _fmt(mesh["discovery_labels"]), other["name"], _fmt(other["member_labels"])),
                         "give each mesh a distinct value, e.g. istio-discovery: {0}".format(mesh["name"]))


def plan_cluster_objects(errs, meshes):
    """Name what each mesh's install creates outside any namespace; two meshes of this cluster must not share a name
    (names join revision and namespace with '-': revision a-b in namespace c meets revision a in namespace b-c)."""
    makers = {}
    for mesh in meshes:
        mesh["cluster_objects"] = chart_names.cluster_scoped_objects(mesh["role"], mesh["control_plane_revision"],
                                                                     mesh["namespace"], mesh["values"])
        shared = {}
        for obj in mesh["cluster_objects"]:
            other = makers.setdefault((obj["kind"], obj["name"]), mesh)
            if other is not mesh:
                shared.setdefault(other["name"], (other, []))[1].append(obj)
        for other, objs in shared.values():
            errs.add("mesh '{0}'.revision".format(mesh["name"]),
                     "its install would create {0} {1}{2}, as would mesh '{3}' (revision {4}, namespace {5})".format(
                         objs[0]["kind"], objs[0]["name"],
                         " and {0} more object(s)".format(len(objs) - 1) if len(objs) > 1 else "",
                         other["name"], other["control_plane_revision"], other["namespace"]),
                     "choose revisions and namespaces whose '-'-joined names differ, e.g. revision = mesh name")


def check_trust_domains(errs, meshes):
    """Two meshes with one trust domain accept each other's workload identities."""
    seen = {}
    for mesh in meshes:
        domain = (mesh["values"].get("meshConfig") or {}).get("trustDomain") if isinstance(
            mesh["values"].get("meshConfig"), dict) else None
        if domain is None:
            continue
        if domain in seen:
            errs.add("mesh '{0}'.values.meshConfig.trustDomain".format(mesh["name"]),
                     "'{0}' is already the trust domain of mesh '{1}', so each would accept the other's identities".format(
                         domain, seen[domain]), "give every mesh its own trust domain, or leave it unset")
        else:
            seen[domain] = mesh["name"]


def check_default_mesh(errs, default_mesh, raw_meshes, meshes):
    """The mesh whose revision is the cluster's default (revision tag `default`, default validator), or None."""
    if default_mesh in (None, ""):
        return None
    if not check_type(errs, "multimesh_default_mesh", default_mesh, str, "give the name of one mesh, or leave it empty"):
        return None
    names = [m["name"] for m in meshes]
    if default_mesh not in names and len(meshes) == len(raw_meshes):
        errs.add("multimesh_default_mesh", "{0!r} is not a mesh of this inventory".format(default_mesh),
                 "use one of {0}, or leave it empty for no default revision".format(", ".join(names) or "the meshes"))
        return None
    return default_mesh


def _fmt(labels):
    return ",".join("{0}={1}".format(k, v) for k, v in sorted(labels.items()))
