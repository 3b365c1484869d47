# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one data model for meshes: validation of the inventory and expansion of defaults.

Every role reads the expanded model this module returns; none re-derives a default.
Pure Python with no Ansible imports, so it is unit-testable; it runs on the controller
(plugins/action/mesh_model.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import os
import re

from ansible_collections.multimesh.istio.plugins.module_utils.names import DNS1123_SUBDOMAIN, is_dns1123_label, is_label_value
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import MANAGED_BY_LABEL, OWNER_LABEL, ownership_labels
from ansible_collections.multimesh.istio.plugins.plugin_utils import chart_names
from ansible_collections.multimesh.istio.plugins.plugin_utils import topology as topologies
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import field_manager
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import control_plane_values

BACKENDS = ("sail", "istioctl")
PLATFORMS = ("kubernetes", "openshift")
MTLS_MODES = ("STRICT", "PERMISSIVE")
SAMPLES = ("sleep", "curl", "httpbin", "helloworld")
DEFAULT_ISTIO_VERSION = "1.30.3"
DEFAULT_CNI_NAMESPACE = "istio-cni"
REVISION_LABEL = "istio.io/rev"
MESH_LABEL = "multimesh.istio/mesh"
# Namespaces Kubernetes itself owns: making them mesh members breaks the cluster.
RESERVED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")

MESH_KEYS = ("name", "namespace", "revision", "version", "discovery_labels", "mtls_mode",
             "members", "samples", "values", "topology", "mesh_id", "clusters", "sidecar_scope", "ingress_gateway",
             "update_strategy")
MEMBER_KEYS = ("name", "owned")
SIDECAR_SCOPE_KEYS = ("enabled", "namespaces")
INGRESS_GATEWAY_KEYS = ("enabled", "namespace", "owned", "service_type", "ports")
UPDATE_STRATEGY_KEYS = ("type", "inactive_revision_deletion_grace_period_seconds")
UPDATE_TYPES = ("InPlace", "RevisionBased")
GATEWAY_PORT_KEYS = ("name", "port", "target_port", "node_port")
SERVICE_TYPES = ("LoadBalancer", "NodePort", "ClusterIP")
# The proxy's health port, always on an ingress gateway's Service (load balancers probe it).
GATEWAY_STATUS_PORT = {"name": "status-port", "port": 15021, "target_port": 15021, "node_port": None}
DEFAULT_GATEWAY_PORTS = ({"name": "http2", "port": 80}, {"name": "https", "port": 443})
CNI_KEYS = ("enabled", "namespace", "version", "values")
SAIL_OPERATOR_KEYS = ("install", "version", "namespace", "chart_repo_url", "values")
DEFAULT_SAIL_OPERATOR = {"install": False, "version": "1.30.3", "namespace": "sail-operator",
                         "chart_repo_url": "https://istio-ecosystem.github.io/sail-operator", "values": {}}

# The one description of the inventory variables (entry point 'inventory' of the model role).
SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles", "model", "meta",
                         "argument_specs.yml")
DEFAULT_OWNER = "default"
# Names an inventory's file or directory has whatever the inventory is (AWX: inventory/hosts for every job; Ansible's
# /etc/ansible/hosts; no inventory file: the default): refused as the identity multimesh_owner defaults to.
GENERIC_INVENTORY_NAMES = ("", DEFAULT_OWNER, "inventory", "inventories", "hosts", "host", "ansible", "runner",
                           "localhost", "all", "ungrouped")
# Facts the collection sets itself: not typos.
SET_BY_THE_COLLECTION = ("multimesh_model",)

_HTTP_PORT_NAME = re.compile(r"http(?!s)")
# Used with fullmatch: '$' would also accept a trailing newline.
# A Service port name (IANA_SVC_NAME): at most 15 characters, lowercase alphanumerics and single dashes, a letter.
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


class ModelError(Exception):
    """Raised with every problem found in the inventory, so a user fixes them in one go."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ModelError, self).__init__(
            "Invalid multimesh inventory ({0} problem{1}):\n- {2}".format(
                len(self.errors), "" if len(self.errors) == 1 else "s", "\n- ".join(self.errors)))


class _Collector:
    """Collects errors; each names where (mesh and field), what is wrong, and the fix."""

    def __init__(self):
        self.errors = []

    def add(self, where, problem, fix):
        self.errors.append("{0}: {1}. Fix: {2}.".format(where, problem, fix))


def _type_name(value):
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _suggest(key, allowed):
    close = difflib.get_close_matches(key, allowed, n=1)
    return "did you mean '{0}'? Allowed keys: {1}".format(close[0], ", ".join(allowed)) if close else \
        "remove it; allowed keys: {0}".format(", ".join(allowed))


def _check_type(errs, where, value, expected, fix):
    """True when value has the expected Python type (bool is not an int here)."""
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if not ok:
        errs.add(where, "must be {0}, got {1}".format(_type_name(expected()), _type_name(value)), fix)
    return ok


def _check_unknown_keys(errs, where, data, allowed):
    for key in sorted(set(data) - set(allowed), key=str):
        errs.add("{0}.{1}".format(where, key), "unknown key", _suggest(str(key), allowed))


def _check_dns_label(errs, where, value, what="a Kubernetes name"):
    if not _check_type(errs, where, value, str, "quote it as a string"):
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


def _check_labels(errs, where, labels):
    if not _check_type(errs, where, labels, dict, "give a mapping of label key to value, e.g. {istio-discovery: mesh-1}"):
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
            errs.add("{0}.{1}".format(where, key), "label value must be a string, got {0}".format(_type_name(value)),
                     "quote the value")
            ok = False
        elif value and not is_label_value(value):
            errs.add("{0}.{1}".format(where, key), "label value '{0}' is not valid label syntax".format(value),
                     "use at most 63 characters [A-Za-z0-9-_.], alphanumeric at both ends")
            ok = False
    return ok


def _normalize_version(errs, where, value):
    """Return the version without a leading 'v' ('1.30.3', '1.30-latest'), or None if invalid."""
    if not isinstance(value, str):
        errs.add(where, "must be a string, got {0}".format(_type_name(value)), "quote the version, e.g. \"1.30.3\"")
        return None
    match = _VERSION.fullmatch(value)
    if not match:
        errs.add(where, "'{0}' is not an Istio version".format(value), "use MAJOR.MINOR.PATCH such as 1.30.3, or 1.30-latest (quoted)")
        return None
    return value[1:] if value.startswith("v") else value


def _expand_component(errs, where, raw, component, keys, switch):
    """multimesh_cni and multimesh_sail_operator share a shape: an on/off switch, a namespace, a version and
    Helm values. Fills component (holding the defaults) from raw and returns the raw mapping, or None if unusable."""
    if raw is None:
        return None
    if not _check_type(errs, where, raw, dict, "give a mapping with keys " + ", ".join(keys)):
        return None
    _check_unknown_keys(errs, where, raw, keys)
    if switch in raw and _check_type(errs, "{0}.{1}".format(where, switch), raw[switch], bool, "use true or false"):
        component[switch] = raw[switch]
    if "namespace" in raw and _check_dns_label(errs, where + ".namespace", raw["namespace"], "a namespace name"):
        component["namespace"] = raw["namespace"]
    if raw.get("version") is not None:
        component["version"] = _normalize_version(errs, where + ".version", raw["version"]) or component["version"]
    if raw.get("values") is not None and _check_type(errs, where + ".values", raw["values"], dict,
                                                     "give the Helm values as a mapping"):
        component["values"] = copy.deepcopy(raw["values"])
    return raw


def _expand_cni(errs, raw, default_version):
    cni = {"enabled": True, "namespace": DEFAULT_CNI_NAMESPACE, "version": default_version, "values": {}}
    _expand_component(errs, "multimesh_cni", raw, cni, CNI_KEYS, "enabled")
    return cni


def _expand_sail_operator(errs, raw, backend):
    where = "multimesh_sail_operator"
    operator = copy.deepcopy(DEFAULT_SAIL_OPERATOR)
    raw = _expand_component(errs, where, raw, operator, SAIL_OPERATOR_KEYS, "install")
    if raw and "chart_repo_url" in raw and _check_type(errs, where + ".chart_repo_url", raw["chart_repo_url"], str,
                                                       "give the Helm repository URL as a string"):
        if not raw["chart_repo_url"].startswith(("https://", "oci://")):
            errs.add(where + ".chart_repo_url", "'{0}' is neither https:// nor oci://".format(raw["chart_repo_url"]),
                     "use an https:// or oci:// chart repository")
        else:
            operator["chart_repo_url"] = raw["chart_repo_url"]
    if operator["install"] and backend != "sail":
        errs.add(where + ".install", "the Sail Operator is only used by multimesh_backend=sail",
                 "set install: false, or multimesh_backend: sail")
    # kubernetes.core.helm reaches an OCI registry only through chart_ref; its chart_repo_url is for https:// repos.
    url = operator["chart_repo_url"]
    operator["chart_ref"] = url.rstrip("/") + "/sail-operator" if url.startswith("oci://") else "sail-operator"
    return operator


def _expand_samples(errs, where, raw):
    if not _check_type(errs, where, raw, list, "give a list such as [sleep, httpbin]"):
        return []
    samples = []
    for index, item in enumerate(raw):
        if item not in SAMPLES:
            errs.add("{0}[{1}]".format(where, index), "unknown sample '{0}'".format(item),
                     "use one of " + ", ".join(SAMPLES))
        elif item in samples:
            errs.add("{0}[{1}]".format(where, index), "sample '{0}' is listed twice".format(item), "list it once")
        else:
            samples.append(item)
    return samples


def _expand_member(errs, where, raw):
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        errs.add(where, "must be a namespace name or a mapping {name, owned}, got " + _type_name(raw),
                 "write the namespace name as a string")
        return None
    _check_unknown_keys(errs, where, raw, MEMBER_KEYS)
    if "name" not in raw:
        errs.add(where + ".name", "is required", "name the member namespace")
        return None
    if not _check_dns_label(errs, where + ".name", raw["name"], "a namespace name"):
        return None
    if raw["name"] in RESERVED_NAMESPACES:
        errs.add(where + ".name", "'{0}' is a namespace Kubernetes owns".format(raw["name"]),
                 "put workloads in a namespace of their own")
        return None
    owned = raw.get("owned", False)
    if not _check_type(errs, where + ".owned", owned, bool, "use true (the collection may delete it) or false"):
        owned = False
    return {"name": raw["name"], "owned": owned}


def _check_values(errs, where, values, namespace):
    """Reject values that would silently defeat what the model sets or reach out of the mesh (REFUSED_VALUES)."""
    if not _check_type(errs, where, values, dict, "give the control plane's Helm values as a mapping"):
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


def _expand_mesh(errs, index, raw, defaults, clusters):
    where = "multimesh_meshes[{0}]".format(index)
    if not _check_type(errs, where, raw, dict, "give each mesh as a mapping with at least 'name' and 'namespace'"):
        return None
    name = raw.get("name")
    if isinstance(name, str) and name:
        where = "mesh '{0}'".format(name)
    _check_unknown_keys(errs, where, raw, MESH_KEYS)
    for key in ("name", "namespace"):
        if key not in raw:
            errs.add("{0}.{1}".format(where, key), "is required",
                     "set it, e.g. {0}: {1}".format(key, "mesh-1" if key == "name" else "istio-system-1"))
    if "name" not in raw or "namespace" not in raw:
        return None
    valid = _check_dns_label(errs, where + ".name", name, "a mesh name")
    valid = _check_dns_label(errs, where + ".namespace", raw["namespace"], "a namespace name") and valid
    revision = raw.get("revision", name)
    if "revision" in raw or valid:  # a defaulted revision repeats the name's error otherwise
        valid = _check_dns_label(errs, where + ".revision", revision, "an Istio revision") and valid
    if isinstance(raw.get("namespace"), str) and raw["namespace"] in RESERVED_NAMESPACES:
        errs.add(where + ".namespace", "'{0}' is a namespace Kubernetes owns".format(raw["namespace"]),
                 "give the control plane its own namespace, e.g. istio-system-" + str(name))
    version = defaults["version"]
    if raw.get("version") is not None:
        version = _normalize_version(errs, where + ".version", raw["version"]) or version
    labels = raw.get("discovery_labels", {"istio-discovery": name})
    valid = _check_labels(errs, where + ".discovery_labels", labels) and valid
    mtls_mode = raw.get("mtls_mode", "STRICT")
    if mtls_mode not in MTLS_MODES:
        errs.add(where + ".mtls_mode", "unsupported mode {0!r}".format(mtls_mode),
                 "use STRICT (isolates meshes) or PERMISSIVE (migration only)")
    members = []
    raw_members = raw.get("members", [])
    if _check_type(errs, where + ".members", raw_members, list, "give a list of namespace names"):
        for member_index, item in enumerate(raw_members):
            member = _expand_member(errs, "{0}.members[{1}]".format(where, member_index), item)
            if member is None:
                continue
            if any(m["name"] == member["name"] for m in members):
                errs.add("{0}.members[{1}]".format(where, member_index),
                         "namespace '{0}' is listed twice".format(member["name"]), "list it once")
                continue
            members.append(member)
    scope = _expand_sidecar_scope(errs, where + ".sidecar_scope", raw.get("sidecar_scope"))
    gateway = _expand_ingress_gateway(errs, where + ".ingress_gateway", raw.get("ingress_gateway"), name, revision)
    if gateway and any(m["name"] == gateway["namespace"] for m in members):
        errs.add(where + ".ingress_gateway.namespace", "'{0}' is a member of this mesh".format(gateway["namespace"]),
                 "give the gateway a namespace of its own (the default is {0}-ingress)".format(name))
        gateway = None
    # Every namespace the members stage labels into the mesh: the members, and its ingress gateway's namespace.
    labelled = members + ([{"name": gateway["namespace"], "owned": gateway["owned"]}] if gateway else [])
    samples = _expand_samples(errs, where + ".samples", raw["samples"]) if "samples" in raw else list(defaults["samples"])
    values = _check_values(errs, where + ".values", raw.get("values", {}), raw["namespace"])
    topology, mesh_id, placements = topologies.expand_topology(errs, where, raw, clusters)
    strategy = _expand_update_strategy(errs, where + ".update_strategy", raw.get("update_strategy"))
    control_plane_revision = _control_plane_revision(errs, where, revision, version, strategy, topology)
    if not valid:
        return None
    return {
        "topology": topology,
        "mesh_id": mesh_id,
        # Which cluster plays which part; None: the mesh runs on every cluster of the inventory, on its own in each.
        "placements": placements,
        "name": name,
        "namespace": raw["namespace"],
        # The label member namespaces carry. InPlace: the istiod revision itself; RevisionBased: a revision tag that
        # follows the active revision, control_plane_revision (one per version), so that namespaces never change.
        "revision": revision,
        "control_plane_revision": control_plane_revision,
        "update_strategy": strategy,
        "version": version,
        "discovery_labels": dict(labels),
        "mtls_mode": mtls_mode,
        "members": members,
        "ingress_gateway": gateway,
        # Also when it has none: what removal looks for after a mesh dropped its gateway.
        "ingress_gateway_name": ingress_gateway_name(name),
        "labelled_namespaces": labelled,
        "samples": samples,
        "values": values,
        # Derived once here so that roles never rebuild them.
        "discovery_selectors": [{"matchLabels": dict(labels)}],
        "member_labels": dict(labels, **{REVISION_LABEL: revision}),
        # The egress hosts of the Sidecar 'default' in each member namespace ([] when the mesh opts out): the mesh's
        # own namespaces and those listed, so its proxies never receive another mesh's services.
        "sidecar_egress_hosts": sorted(set(
            "{0}/*".format(ns) for ns in [raw["namespace"]] + [m["name"] for m in labelled] + scope["namespaces"]))
        if scope["enabled"] else [],
    }


def _expand_update_strategy(errs, where, raw):
    """{type, inactive_revision_deletion_grace_period_seconds} of a mesh (Sail's Istio.spec.updateStrategy)."""
    strategy = {"type": "InPlace", "inactive_revision_deletion_grace_period_seconds": 30}
    if raw is None:
        return strategy
    if not _check_type(errs, where, raw, dict, "give a mapping such as {type: RevisionBased}"):
        return strategy
    _check_unknown_keys(errs, where, raw, UPDATE_STRATEGY_KEYS)
    kind = raw.get("type", "InPlace")
    if kind not in UPDATE_TYPES:
        errs.add(where + ".type", "unsupported strategy {0!r}".format(kind),
                 "use InPlace (the control plane is upgraded where it runs) or RevisionBased (a revision per version, "
                 "the mesh's namespaces follow its revision tag)")
    else:
        strategy["type"] = kind
    key = "inactive_revision_deletion_grace_period_seconds"
    grace = raw.get(key, strategy[key])
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        errs.add("{0}.{1}".format(where, key), "{0!r} is not a number of seconds".format(grace), "use an integer >= 0")
    else:
        strategy[key] = grace
    return strategy


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


def _control_plane_revision(errs, where, revision, version, strategy, topology):
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


def _expand_sidecar_scope(errs, where, raw):
    """{enabled, namespaces} of a mesh's sidecar_scope; on by default."""
    scope = {"enabled": True, "namespaces": []}
    if raw is None:
        return scope
    if not _check_type(errs, where, raw, dict, "give a mapping such as {enabled: true, namespaces: [istio-system]}"):
        return scope
    _check_unknown_keys(errs, where, raw, SIDECAR_SCOPE_KEYS)
    if "enabled" in raw and _check_type(errs, where + ".enabled", raw["enabled"], bool, "use true or false"):
        scope["enabled"] = raw["enabled"]
    namespaces = raw.get("namespaces", [])
    if _check_type(errs, where + ".namespaces", namespaces, list, "give a list of namespace names"):
        for index, ns in enumerate(namespaces):
            if _check_dns_label(errs, "{0}.namespaces[{1}]".format(where, index), ns, "a namespace name"):
                scope["namespaces"].append(ns)
    return scope


def _expand_gateway_port(errs, where, raw):
    if not _check_type(errs, where, raw, dict, "give a mapping such as {name: http2, port: 80}"):
        return None
    _check_unknown_keys(errs, where, raw, GATEWAY_PORT_KEYS)
    port = dict((key, raw.get(key)) for key in GATEWAY_PORT_KEYS)
    valid = isinstance(port["name"], str) and len(port["name"]) <= 15 and bool(_SERVICE_PORT_NAME.fullmatch(port["name"]))
    if not valid:
        errs.add(where + ".name", "{0!r} is not a Service port name".format(port["name"]),
                 "use at most 15 lowercase letters, digits and single dashes, with a letter, e.g. http2")
    ranges = (("port", 1, 65535, "a port number 1-65535", ""),
              ("target_port", 1, 65535, "a port number 1-65535", ", or leave it unset (= port)"),
              ("node_port", 30000, 32767, "a port in Kubernetes' NodePort range 30000-32767",
               ", or leave it unset (allocated, never colliding)"))
    for key, low, high, what, otherwise in ranges:
        value = port[key]
        if value is None and key != "port":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errs.add("{0}.{1}".format(where, key), "{0!r} is not {1}".format(value, what), "use " + what + otherwise)
            valid = False
    if port["port"] == GATEWAY_STATUS_PORT["port"] or port["name"] == GATEWAY_STATUS_PORT["name"]:
        errs.add(where, "port 15021 'status-port' is the gateway's health port, always exposed", "use another port")
        valid = False
    return port if valid else None


def ingress_gateway_name(mesh_name):
    """The name of a mesh's ingress gateway (Deployment, Service, Gateway...) and of its selector labels."""
    return "ingressgateway-" + mesh_name


def _expand_ingress_gateway(errs, where, raw, mesh_name, revision):
    """The mesh's own ingress gateway (None when off): injected by its revision, in a namespace of the mesh, with a
    selector label no other gateway carries."""
    if raw is None:
        return None
    if not _check_type(errs, where, raw, dict, "give a mapping such as {enabled: true, service_type: NodePort}"):
        return None
    _check_unknown_keys(errs, where, raw, INGRESS_GATEWAY_KEYS)
    enabled = raw.get("enabled", True)
    if not _check_type(errs, where + ".enabled", enabled, bool, "use true or false") or not enabled:
        return None
    namespace = raw.get("namespace", "{0}-ingress".format(mesh_name))
    valid = _check_dns_label(errs, where + ".namespace", namespace, "a namespace name")
    # A namespace the collection names itself is its own; one the user names may hold other things: cleanup deletes
    # it only when declared owned.
    owned = raw.get("owned", "namespace" not in raw)
    if not _check_type(errs, where + ".owned", owned, bool, "use true or false"):
        valid = False
    name = ingress_gateway_name(mesh_name)
    if len(name) > 63:
        errs.add(where, "the gateway's name '{0}' is longer than 63 characters".format(name),
                 "give the mesh a name of at most 48 characters")
        valid = False
    if namespace in RESERVED_NAMESPACES:
        errs.add(where + ".namespace", "'{0}' is a namespace Kubernetes owns".format(namespace),
                 "use a namespace of the mesh's own, e.g. {0}-ingress".format(mesh_name))
        valid = False
    service_type = raw.get("service_type", "LoadBalancer")
    if service_type not in SERVICE_TYPES:
        errs.add(where + ".service_type", "unsupported type {0!r}".format(service_type), "use one of " + ", ".join(SERVICE_TYPES))
        valid = False
    ports = []
    raw_ports = raw.get("ports", [dict(p) for p in DEFAULT_GATEWAY_PORTS])
    if _check_type(errs, where + ".ports", raw_ports, list, "give a list of {name, port} mappings") and not raw_ports:
        errs.add(where + ".ports", "is empty", "list at least one port, e.g. {name: http2, port: 80}")
    for index, item in enumerate(raw_ports if isinstance(raw_ports, list) else []):
        port = _expand_gateway_port(errs, "{0}.ports[{1}]".format(where, index), item)
        if port and any(p[k] == port[k] for p in ports for k in ("name", "port")):
            errs.add("{0}.ports[{1}]".format(where, index), "name or port number repeats an earlier port",
                     "give every port its own name and number")
        elif port and port["node_port"] and any(p["node_port"] == port["node_port"] for p in ports):
            errs.add("{0}.ports[{1}].node_port".format(where, index), "repeats an earlier port's node_port",
                     "give every port its own node_port, or leave it unset")
        elif port and port["node_port"] and service_type == "ClusterIP":
            errs.add("{0}.ports[{1}].node_port".format(where, index), "a ClusterIP Service has no node ports",
                     "use service_type NodePort or LoadBalancer, or leave node_port unset")
        elif port:
            ports.append(port)
    if not valid:
        return None
    return {"name": name, "namespace": namespace, "owned": owned, "revision": revision, "service_type": service_type,
            "ports": [dict(GATEWAY_STATUS_PORT)] + [dict(p, target_port=p["target_port"] or p["port"]) for p in ports],
            # The ports its Gateway serves plain HTTP on (named http..., as Istio's protocol selection reads them).
            "http_ports": [p["port"] for p in ports if _HTTP_PORT_NAME.match(p["name"])]}


def _selects(selector_labels, namespace_labels):
    return all(namespace_labels.get(k) == v for k, v in selector_labels.items())


def _check_cross_mesh(errs, meshes, cni):
    seen = {}
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
    # A RevisionBased mesh's active revision is an IstioRevision name too: no other mesh may use it as its revision.
    for mesh in meshes:
        for other in meshes:
            active = other["control_plane_revision"]
            if other is not mesh and active != other["revision"] and mesh["revision"] == active:
                errs.add("mesh '{0}'.revision".format(mesh["name"]),
                         "'{0}' is the active revision of mesh '{1}' (RevisionBased)".format(active, other["name"]),
                         "give every mesh a unique revision")
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
            where = "mesh '{0}'.members[{1}]".format(mesh["name"], index) if index < len(mesh["members"]) else \
                "mesh '{0}'.ingress_gateway.namespace".format(mesh["name"])
            ns = member["name"]
            if ns in control_planes:
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
    # A mesh's selector must not match the labels another mesh puts on its namespaces.
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


def _plan_cluster_objects(errs, meshes):
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


def _check_trust_domains(errs, meshes):
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


def _check_default_mesh(errs, default_mesh, raw_meshes, meshes):
    """The mesh whose revision is the cluster's default (revision tag `default`, default validator), or None."""
    if default_mesh in (None, ""):
        return None
    if not _check_type(errs, "multimesh_default_mesh", default_mesh, str, "give the name of one mesh, or leave it empty"):
        return None
    names = [m["name"] for m in meshes]
    if default_mesh not in names and len(meshes) == len(raw_meshes):
        errs.add("multimesh_default_mesh", "{0!r} is not a mesh of this inventory".format(default_mesh),
                 "use one of {0}, or leave it empty for no default revision".format(", ".join(names) or "the meshes"))
        return None
    return default_mesh


def _fmt(labels):
    return ",".join("{0}={1}".format(k, v) for k, v in sorted(labels.items()))


def owner_from_inventory(inventory_file, inventory_dir, awx_inventory_id=None):
    """The default multimesh_owner, as a label value; raises ModelError when nothing identifies the inventory.

    Under AWX (awx_inventory_id, an extra variable AWX passes to every job) awx-<inventory id>: AWX writes every job's
    inventory to inventory/hosts, so its file names no inventory; the id stays when the inventory is renamed.
    Elsewhere the inventory's name: its file, or its directory for hosts.yml-like files. A generic name
    (GENERIC_INVENTORY_NAMES) is refused: other inventories have it too, and the owner decides what cleanup removes."""
    import os.path

    if awx_inventory_id not in (None, ""):
        if isinstance(awx_inventory_id, bool) or not re.fullmatch(r"[0-9]{1,59}", str(awx_inventory_id)):
            raise ModelError(["multimesh_owner: unset, and awx_inventory_id {0!r} is not an AWX inventory id to derive "
                              "it from (awx-<id>). Fix: set multimesh_owner to a name of this inventory's own, unique on "
                              "its clusters.".format(awx_inventory_id)])
        return "awx-{0}".format(awx_inventory_id)
    stem = os.path.splitext(os.path.basename(inventory_file or ""))[0]
    generic = stem.lower() in GENERIC_INVENTORY_NAMES
    name = os.path.basename(os.path.normpath(inventory_dir)) if ((not stem or generic) and inventory_dir) else stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or "")[:63].strip("-_.")
    if not name or name.lower() in GENERIC_INVENTORY_NAMES:
        raise ModelError(["multimesh_owner: unset, and the inventory's name it would default to, {0!r} (from {1}), is "
                          "one any inventory may have - AWX, for one, writes every job's inventory to inventory/hosts - "
                          "so another inventory with that name could change and remove this one's objects. Fix: set "
                          "multimesh_owner to a name of this inventory's own, unique on its clusters (e.g. "
                          "team-a-meshes), or name the inventory's file or directory after it.".format(
                              name or DEFAULT_OWNER, inventory_file or "no inventory file")])
    return name


def inventory_spec(path=SPEC_PATH):
    """The options of the model role's 'inventory' entry point: every multimesh_* variable, documented."""
    import yaml  # controller only

    with open(path) as handle:
        return yaml.safe_load(handle)["argument_specs"]["inventory"]["options"]


def model_inputs(spec):
    """{variable: build_model keyword} for the documented variables the model is built from."""
    accepted = build_model.__code__.co_varnames[:build_model.__code__.co_argcount]
    return dict((name, name[len("multimesh_"):]) for name in spec if name[len("multimesh_"):] in accepted)


def unknown_variables(names, spec):
    """Errors for multimesh_* variables the collection does not read (typos)."""
    known = sorted(spec) + list(SET_BY_THE_COLLECTION)
    errs = _Collector()
    for name in sorted(names):
        if name.startswith("multimesh_") and name not in known:
            errs.add("variable {0}".format(name), "is not a multimesh.istio variable", _suggest(name, known))
    return errs.errors


def with_versions(meshes, versions):
    """The inventory's meshes with the named meshes' version replaced (playbooks/upgrade.yml's upgrade_version):
    (meshes, errors). Only names of this inventory's meshes; the versions themselves are validated by build_model."""
    errs = _Collector()
    if not versions:
        return meshes, []
    if not isinstance(versions, dict):
        errs.add("model_versions", "must be a mapping of mesh name to version, got {0}".format(_type_name(versions)),
                 "give e.g. {mesh-2: 1.30.3}")
        return meshes, errs.errors
    listed = [m for m in meshes if isinstance(m, dict)] if isinstance(meshes, list) else []
    names = [m.get("name") for m in listed]
    for name in versions:
        if name not in names:
            errs.add("model_versions", "no mesh named {0!r} in multimesh_meshes (meshes: {1})".format(
                name, ", ".join(str(n) for n in names) or "none"), "name one of them (upgrade.yml: -e upgrade_mesh=<name>)")
    replaced = [dict(m, version=versions[m.get("name")]) if isinstance(m, dict) and m.get("name") in versions else m
                for m in (meshes if isinstance(meshes, list) else [])]
    return (replaced if isinstance(meshes, list) else meshes), errs.errors


def build_model(backend="sail", istio_version=None, cni=None, meshes=None, samples=None, render_dir=None,
                sail_operator=None, default_mesh=None, owner=DEFAULT_OWNER, verify_report_dir="multimesh-verify",
                platform="kubernetes",
                ca_dir="multimesh-ca", *,
                clusters=None, here=None):
    """Validate the inventory and return the expanded model of one cluster; raise ModelError listing every problem.

    clusters: the inventory's cluster hosts [{host, name, network}] (name/network None when unset); here: the host
    this model is for. Without them the inventory is one cluster. Every host validates the whole inventory."""
    errs = _Collector()
    if backend not in BACKENDS:
        errs.add("multimesh_backend", "unsupported backend {0!r}".format(backend),
                 "use 'sail' (Sail Operator / OpenShift Service Mesh 3) or 'istioctl'")
    if platform not in PLATFORMS:
        errs.add("multimesh_platform", "unsupported platform {0!r}".format(platform),
                 "use 'kubernetes', or 'openshift' (istioctl then installs with values.global.platform: openshift)")
    version = _normalize_version(errs, "multimesh_istio_version", istio_version or DEFAULT_ISTIO_VERSION) \
        or DEFAULT_ISTIO_VERSION
    default_samples = _expand_samples(errs, "multimesh_samples", [] if samples is None else samples)
    cni_model = _expand_cni(errs, cni, version)
    operator = _expand_sail_operator(errs, sail_operator, backend)
    for name, value in (("multimesh_render_dir", render_dir), ("multimesh_verify_report_dir", verify_report_dir),
                        ("multimesh_ca_dir", ca_dir)):
        if value is not None:
            _check_type(errs, name, value, str, "give a path as a string, or leave it unset")
    if not is_label_value(owner):
        errs.add("multimesh_owner", "{0!r} is not a label value".format(owner),
                 "use at most 63 characters [A-Za-z0-9-_.], alphanumeric at both ends, e.g. the inventory's name")
    inventory = topologies.expand_clusters(errs, clusters or [{"host": here or "cluster", "name": here or "cluster"}])
    local = [c for c in inventory if c["host"] == here] or inventory[:1]
    expanded = []
    raw_meshes = [] if meshes is None else meshes
    if _check_type(errs, "multimesh_meshes", raw_meshes, list, "give a list of meshes"):
        if not raw_meshes:
            errs.add("multimesh_meshes", "is empty", "define at least one mesh with 'name' and 'namespace'")
        defaults = {"version": version, "samples": default_samples}
        for index, raw in enumerate(raw_meshes):
            mesh = _expand_mesh(errs, index, raw, defaults, inventory)
            if mesh is not None:
                expanded.append(mesh)
    topologies.check_mesh_ids(errs, expanded)
    topologies.check_unique_names(errs, expanded)
    topologies.check_gateways(errs, expanded)
    # Namespaces, revisions and selectors must be apart among the meshes that share a cluster.
    views = {}
    for cluster in inventory:
        views[cluster["host"]] = [v for v in (topologies.local_view(m, cluster) for m in expanded) if v is not None]
        topologies.link_gateways(views[cluster["host"]])
        topologies.check_gateway_names(errs, views[cluster["host"]], cluster["name"])
        _check_cross_mesh(errs, views[cluster["host"]], cni_model)
        _plan_cluster_objects(errs, views[cluster["host"]])
    _check_trust_domains(errs, expanded)
    for mesh in expanded:
        if backend == "istioctl" and cni_model["enabled"] and mesh["revision"] == "cni":
            errs.add("mesh '{0}'.revision".format(mesh["name"]), "'cni' is the revision of the shared CNI's IstioOperator",
                     "give this mesh another revision")
    default_mesh = _check_default_mesh(errs, default_mesh, raw_meshes if isinstance(raw_meshes, list) else [], expanded)
    if errs.errors:
        # The same mistake seen from several clusters is reported once.
        raise ModelError(sorted(set(errs.errors), key=errs.errors.index))
    meshes_here = views[local[0]["host"]] if local else []
    for mesh in meshes_here:
        mesh["default"] = mesh["name"] == default_mesh
        # Derived once here, from the finished view: the roles' templates only write them out.
        mesh["control_plane_values"] = control_plane_values(mesh, backend, cni_model, platform)
    several = len(inventory) > 1
    return {
        "backend": backend,
        "platform": platform,
        "istio_version": version,
        "cni": cni_model,
        "sail_operator": operator,
        "samples": default_samples,
        "meshes": meshes_here,
        # This cluster and all of the inventory's; with several, each writes into a directory of its own.
        "cluster": local[0] if local else None,
        "clusters": inventory,
        "render_dir": os.path.join(render_dir, local[0]["name"]) if render_dir and several and local else
        (render_dir or None),
        "render": bool(render_dir),
        "verify_report_dir": os.path.join(verify_report_dir, local[0]["name"]) if several and local else
        verify_report_dir,
        # Roots of the multicluster meshes (one sub-directory per mesh) on the controller.
        "ca_dir": ca_dir,
        "owner": owner,
        "field_manager": field_manager(owner),
        # The labels that mark what this inventory created (the objects cleanup may delete).
        "ownership_labels": ownership_labels(owner),
        # On member namespaces, which the collection labels but need not have created.
        "owner_label": {OWNER_LABEL: owner},
        "default_mesh": default_mesh,
    }
