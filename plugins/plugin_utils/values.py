# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The Helm values of a mesh's control plane on one cluster, computed once into the model (each mesh's
``control_plane_values``) by one pipeline of small steps, as the Sail Operator computes its own
(pkg/revision/values.go): the user's values, then what the mesh's part in a multicluster topology needs, the
platform, the shared CNI, and last what the model enforces (what makes each mesh isolated).

Each step returns a mapping and says how it meets what came before: an override wins, a default gives way."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.multimesh.istio.plugins.plugin_utils import topology

OVERRIDE, DEFAULT = "override", "default"


def _plain(data):
    """A plain JSON-like copy (templating engines hand over lazy containers that do not deep-copy)."""
    return json.loads(json.dumps(data))


def deep_merge(base, override):
    """A copy of base with override merged in: mappings merge recursively, anything else is replaced."""
    merged = _plain(base)
    for key, value in _plain(override).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(mesh, backend, platform, cni):
    """multimesh_meshes[].values, which the model validated (REFUSED_VALUES keeps out what later steps own)."""
    return mesh["values"]


def multicluster_values(mesh, backend, platform, cni):
    """meshID, cluster name, network, remote/config/external settings (topology.values)."""
    return topology.values(mesh) if mesh.get("multicluster") else {}


def platform_values(mesh, backend, platform, cni):
    """istioctl on OpenShift: Istio's charts need to know. The Sail Operator knows its platform itself."""
    return {"global": {"platform": "openshift"}} if backend == "istioctl" and platform == "openshift" else {}


def cni_values(mesh, backend, platform, cni):
    """The shared CNI enabled: the mesh uses it (pilot.cni.enabled - Istio's default is false, and the Sail Operator
    enables it by itself on OpenShift only), so that injection adds istio-validation instead of the privileged
    istio-init. A mesh's own values can still say otherwise, so this is a default."""
    return {"pilot": {"cni": {"enabled": True}}} if (cni or {}).get("enabled") else {}


def enforced_values(mesh, backend, platform, cni):
    """What isolates the mesh. Sail: its discoverySelectors (istioctl puts them in IstioOperator.spec.meshConfig).
    istioctl: istiod's namespace; the default validator only for the default mesh (the base chart's defaultRevision;
    empty renders none); for RevisionBased meshes the tag its namespaces carry, pointing at this install's revision
    (the newest install moves it)."""
    if backend == "sail":
        return {"meshConfig": {"discoverySelectors": mesh["discovery_selectors"]}}
    owned = {"global": {"istioNamespace": mesh["namespace"]},
             "defaultRevision": mesh["control_plane_revision"] if mesh.get("default") else ""}
    if mesh["update_strategy"]["type"] == "RevisionBased":
        owned["revisionTags"] = [mesh["revision"]]
    return owned


# In order; each (step, how it meets the values before it).
PIPELINE = (
    (user_values, OVERRIDE),
    (multicluster_values, OVERRIDE),
    (platform_values, OVERRIDE),
    (cni_values, DEFAULT),
    (enforced_values, OVERRIDE),
)


def control_plane_values(mesh, backend, cni=None, platform="kubernetes"):
    """The Helm values of mesh's control plane (mesh: one cluster's view of it, as the model holds it)."""
    values = {}
    for step, how in PIPELINE:
        found = step(mesh, backend, platform, cni)
        if found:
            values = deep_merge(values, found) if how == OVERRIDE else deep_merge(found, values)
    return values


def uses_cni(mesh):
    """Whether the mesh's injector relies on the Istio CNI (values.pilot.cni.enabled, the shared CNI's default)."""
    return bool(((mesh.get("control_plane_values") or {}).get("pilot") or {}).get("cni", {}).get("enabled"))


# Values istioctl would overwrite if given in IstioOperator.spec.values: its translation sets pilot.cni.enabled
# from components.cni.enabled (the shared CNI is installed apart, so false) and, where the profile has no pilot.cni,
# that write lands in the user's own values too. spec.unvalidatedValues is merged after it.
ISTIOCTL_UNVALIDATED = (("pilot", "cni"),)


def istio_operator_values(values):
    """{values, unvalidatedValues} of an IstioOperator carrying these Helm values: what istioctl would overwrite
    (ISTIOCTL_UNVALIDATED, (section, key) pairs) moves to unvalidatedValues, {} when nothing moved."""
    values, unvalidated = _plain(values), {}
    for section, key in ISTIOCTL_UNVALIDATED:
        found = values.get(section)
        if isinstance(found, dict) and key in found:
            unvalidated.setdefault(section, {})[key] = found.pop(key)
            if not found:
                del values[section]
    return {"values": values, "unvalidatedValues": unvalidated}
