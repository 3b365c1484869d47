# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The parts of the inventory below a mesh or beside the meshes, each expanded with its defaults (from the spec):
the CNI, the Sail Operator, samples, members, the update strategy, the sidecar scope and the ingress gateway.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multimesh.istio.plugins.plugin_utils.model import schema
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.rules import (
    RESERVED_NAMESPACES,
    check_dns_label,
    normalize_version,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.schema import (
    check_type,
    check_unknown_keys,
    type_name,
)

_MESH = ("multimesh_meshes",)
_GATEWAY = _MESH + ("ingress_gateway",)
# A mesh's members are 'elements: raw' in the spec (a name, or this mapping), so the spec lists no keys for them.
MEMBER_KEYS = ("name", "owned")
# The proxy's health port, always on an ingress gateway's Service (load balancers probe it).
GATEWAY_STATUS_PORT = {"name": "status-port", "port": 15021, "target_port": 15021, "node_port": None}
_HTTP_PORT_NAME = re.compile(r"http(?!s)")
# Used with fullmatch: '$' would also accept a trailing newline.
# A Service port name (IANA_SVC_NAME): at most 15 characters, lowercase alphanumerics and single dashes, a letter.
_SERVICE_PORT_NAME = re.compile(r"(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)")


def _expand_component(errs, where, raw, component, keys, switch):
    """multimesh_cni and multimesh_sail_operator share a shape: an on/off switch, a namespace, a version and
    Helm values. Fills component (holding the defaults) from raw and returns the raw mapping, or None if unusable."""
    if raw is None:
        return None
    if not check_type(errs, where, raw, dict, "give a mapping with keys " + ", ".join(keys)):
        return None
    check_unknown_keys(errs, where, raw, keys)
    if switch in raw and check_type(errs, "{0}.{1}".format(where, switch), raw[switch], bool, "use true or false"):
        component[switch] = raw[switch]
    if "namespace" in raw and check_dns_label(errs, where + ".namespace", raw["namespace"], "a namespace name"):
        component["namespace"] = raw["namespace"]
    if raw.get("version") is not None:
        component["version"] = normalize_version(errs, where + ".version", raw["version"]) or component["version"]
    if raw.get("values") is not None and check_type(errs, where + ".values", raw["values"], dict,
                                                    "give the Helm values as a mapping"):
        component["values"] = copy.deepcopy(raw["values"])
    return raw


def expand_cni(errs, raw, default_version):
    cni = dict(schema.defaults("multimesh_cni"), version=default_version)
    _expand_component(errs, "multimesh_cni", raw, cni, schema.keys("multimesh_cni"), "enabled")
    return cni


def expand_sail_operator(errs, raw, backend):
    where = "multimesh_sail_operator"
    operator = schema.defaults(where)
    raw = _expand_component(errs, where, raw, operator, schema.keys(where), "install")
    if raw and "chart_repo_url" in raw and check_type(errs, where + ".chart_repo_url", raw["chart_repo_url"], str,
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


def expand_samples(errs, where, raw, allowed):
    """The sample apps listed, each one of allowed (the spec's choices for where)."""
    if not check_type(errs, where, raw, list, "give a list such as [sleep, httpbin]"):
        return []
    samples = []
    for index, item in enumerate(raw):
        if item not in allowed:
            errs.add("{0}[{1}]".format(where, index), "unknown sample '{0}'".format(item),
                     "use one of " + ", ".join(allowed))
        elif item in samples:
            errs.add("{0}[{1}]".format(where, index), "sample '{0}' is listed twice".format(item), "list it once")
        else:
            samples.append(item)
    return samples


def expand_member(errs, where, raw):
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        errs.add(where, "must be a namespace name or a mapping {name, owned}, got " + type_name(raw),
                 "write the namespace name as a string")
        return None
    check_unknown_keys(errs, where, raw, MEMBER_KEYS)
    if "name" not in raw:
        errs.add(where + ".name", "is required", "name the member namespace")
        return None
    if not check_dns_label(errs, where + ".name", raw["name"], "a namespace name"):
        return None
    if raw["name"] in RESERVED_NAMESPACES:
        errs.add(where + ".name", "'{0}' is a namespace Kubernetes owns".format(raw["name"]),
                 "put workloads in a namespace of their own")
        return None
    owned = raw.get("owned", False)
    if not check_type(errs, where + ".owned", owned, bool, "use true (the collection may delete it) or false"):
        owned = False
    return {"name": raw["name"], "owned": owned}


def expand_update_strategy(errs, where, raw):
    """{type, inactive_revision_deletion_grace_period_seconds} of a mesh (Sail's Istio.spec.updateStrategy)."""
    strategy, raw = schema.expand_mapping(errs, where, raw, _MESH + ("update_strategy",), "{type: RevisionBased}")
    if raw is None:
        return strategy
    kind = raw.get("type", strategy["type"])
    if kind not in schema.choices(*_MESH + ("update_strategy", "type")):
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


def expand_sidecar_scope(errs, where, raw):
    """{enabled, namespaces} of a mesh's sidecar_scope; on by default."""
    scope, raw = schema.expand_mapping(errs, where, raw, _MESH + ("sidecar_scope",),
                                       "{enabled: true, namespaces: [istio-system]}")
    if raw is None:
        return scope
    if "enabled" in raw and check_type(errs, where + ".enabled", raw["enabled"], bool, "use true or false"):
        scope["enabled"] = raw["enabled"]
    namespaces = raw.get("namespaces", [])
    if check_type(errs, where + ".namespaces", namespaces, list, "give a list of namespace names"):
        for index, ns in enumerate(namespaces):
            if check_dns_label(errs, "{0}.namespaces[{1}]".format(where, index), ns, "a namespace name"):
                scope["namespaces"].append(ns)
    return scope


def _expand_gateway_port(errs, where, raw):
    if not check_type(errs, where, raw, dict, "give a mapping such as {name: http2, port: 80}"):
        return None
    allowed = schema.keys(*_GATEWAY + ("ports",))
    check_unknown_keys(errs, where, raw, allowed)
    port = dict((key, raw.get(key)) for key in allowed)
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


def expand_ingress_gateway(errs, where, raw, mesh_name, revision):
    """The mesh's own ingress gateway (None when off): injected by its revision, in a namespace of the mesh, with a
    selector label no other gateway carries."""
    if raw is None:
        return None
    if not check_type(errs, where, raw, dict, "give a mapping such as {enabled: true, service_type: NodePort}"):
        return None
    check_unknown_keys(errs, where, raw, schema.keys(*_GATEWAY))
    enabled = raw.get("enabled", schema.default(*_GATEWAY + ("enabled",)))
    if not check_type(errs, where + ".enabled", enabled, bool, "use true or false") or not enabled:
        return None
    namespace = raw.get("namespace", "{0}-ingress".format(mesh_name))
    valid = check_dns_label(errs, where + ".namespace", namespace, "a namespace name")
    # A namespace the collection names itself is its own; one the user names may hold other things: cleanup deletes
    # it only when declared owned.
    owned = raw.get("owned", "namespace" not in raw)
    if not check_type(errs, where + ".owned", owned, bool, "use true or false"):
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
    service_type = raw.get("service_type", schema.default(*_GATEWAY + ("service_type",)))
    service_types = schema.choices(*_GATEWAY + ("service_type",))
    if service_type not in service_types:
        errs.add(where + ".service_type", "unsupported type {0!r}".format(service_type), "use one of " + ", ".join(service_types))
        valid = False
    ports = []
    raw_ports = raw.get("ports", schema.default(*_GATEWAY + ("ports",)))
    if check_type(errs, where + ".ports", raw_ports, list, "give a list of {name, port} mappings") and not raw_ports:
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
