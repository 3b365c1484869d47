# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The mesh model's assembly: each mesh expanded from the inventory, each cluster's view of the meshes it takes part
in, and the finished model of one cluster (its keys are model/shape.py's).

Pure Python with no Ansible imports, so it is unit-testable; it runs on the controller (plugins/action/mesh_model.py).
Every role reads the model build_model returns, and nothing changes it afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.multimesh.istio.plugins.module_utils.names import is_label_value
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import OWNER_LABEL, ownership_labels
from ansible_collections.multimesh.istio.plugins.plugin_utils import topology as topologies
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import field_manager
from ansible_collections.multimesh.istio.plugins.plugin_utils.model import expand, rules, schema
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.inventory import DEFAULT_OWNER
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.schema import Collector, ModelError, check_type
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import control_plane_values

_MESH = ("multimesh_meshes",)
DEFAULT_ISTIO_VERSION = schema.default("multimesh_istio_version")


def _mesh_where(errs, index, raw):
    """Where a mesh's errors point ("mesh 'mesh-1'", or its index without a usable name), None when it is unusable."""
    where = "multimesh_meshes[{0}]".format(index)
    if not check_type(errs, where, raw, dict, "give each mesh as a mapping with at least 'name' and 'namespace'"):
        return None
    name = raw.get("name")
    if isinstance(name, str) and name:
        where = "mesh '{0}'".format(name)
    schema.check_unknown_keys(errs, where, raw, schema.keys(*_MESH))
    for key in ("name", "namespace"):
        if key not in raw:
            errs.add("{0}.{1}".format(where, key), "is required",
                     "set it, e.g. {0}: {1}".format(key, "mesh-1" if key == "name" else "istio-system-1"))
    if "name" not in raw or "namespace" not in raw:
        return None
    return where


def _check_names(errs, where, raw, revision):
    """The mesh's name, namespace and revision are Kubernetes names; True when they are."""
    name = raw["name"]
    valid = rules.check_dns_label(errs, where + ".name", name, "a mesh name")
    valid = rules.check_dns_label(errs, where + ".namespace", raw["namespace"], "a namespace name") and valid
    if "revision" in raw or valid:  # a defaulted revision repeats the name's error otherwise
        valid = rules.check_dns_label(errs, where + ".revision", revision, "an Istio revision") and valid
    if isinstance(raw.get("namespace"), str) and raw["namespace"] in rules.RESERVED_NAMESPACES:
        errs.add(where + ".namespace", "'{0}' is a namespace Kubernetes owns".format(raw["namespace"]),
                 "give the control plane its own namespace, e.g. istio-system-" + str(name))
    return valid


def _expand_members(errs, where, raw_members):
    members = []
    if not check_type(errs, where + ".members", raw_members, list, "give a list of namespace names"):
        return members
    for member_index, item in enumerate(raw_members):
        member = expand.expand_member(errs, "{0}.members[{1}]".format(where, member_index), item)
        if member is None:
            continue
        if any(m["name"] == member["name"] for m in members):
            errs.add("{0}.members[{1}]".format(where, member_index),
                     "namespace '{0}' is listed twice".format(member["name"]), "list it once")
            continue
        members.append(member)
    return members


def _expand_gateway(errs, where, raw, revision, members):
    """The mesh's ingress gateway, None when off or when its namespace is one of the members."""
    name = raw["name"]
    gateway = expand.expand_ingress_gateway(errs, where + ".ingress_gateway", raw.get("ingress_gateway"), name, revision)
    if gateway and any(m["name"] == gateway["namespace"] for m in members):
        errs.add(where + ".ingress_gateway.namespace", "'{0}' is a member of this mesh".format(gateway["namespace"]),
                 "give the gateway a namespace of its own (the default is {0}-ingress)".format(name))
        return None
    return gateway


def _expand_mesh(errs, index, raw, defaults, clusters):
    """One mesh of multimesh_meshes with its defaults filled in, or None when it is unusable."""
    where = _mesh_where(errs, index, raw)
    if where is None:
        return None
    name = raw["name"]
    revision = raw.get("revision", name)
    valid = _check_names(errs, where, raw, revision)
    version = defaults["version"]
    if raw.get("version") is not None:
        version = rules.normalize_version(errs, where + ".version", raw["version"]) or version
    labels = raw.get("discovery_labels", {"istio-discovery": name})
    valid = rules.check_labels(errs, where + ".discovery_labels", labels) and valid
    mtls_mode = raw.get("mtls_mode", schema.default(*_MESH + ("mtls_mode",)))
    if mtls_mode not in schema.choices(*_MESH + ("mtls_mode",)):
        errs.add(where + ".mtls_mode", "unsupported mode {0!r}".format(mtls_mode),
                 "use STRICT (isolates meshes) or PERMISSIVE (migration only)")
    members = _expand_members(errs, where, raw.get("members", schema.default(*_MESH + ("members",))))
    scope = expand.expand_sidecar_scope(errs, where + ".sidecar_scope", raw.get("sidecar_scope"))
    gateway = _expand_gateway(errs, where, raw, revision, members)
    samples = expand.expand_samples(errs, where + ".samples", raw["samples"], schema.choices(*_MESH + ("samples",))) \
        if "samples" in raw else list(defaults["samples"])
    values = rules.check_values(errs, where + ".values", raw.get("values", schema.default(*_MESH + ("values",))),
                                raw["namespace"])
    topology, mesh_id, placements = topologies.expand_topology(errs, where, raw, clusters)
    strategy = expand.expand_update_strategy(errs, where + ".update_strategy", raw.get("update_strategy"))
    control_plane_revision = rules.control_plane_revision(errs, where, revision, version, strategy, topology)
    if not valid:
        return None
    return _mesh(raw, revision, version, labels, mtls_mode, members, scope, gateway, samples, values, strategy,
                 topology=topology, mesh_id=mesh_id, placements=placements, control_plane_revision=control_plane_revision)


def _mesh(raw, revision, version, labels, mtls_mode, members, scope, gateway, samples, values, strategy, **topology):
    """The expanded mesh (before any cluster's view of it): the inventory's keys and what is derived from them."""
    name = raw["name"]
    # Every namespace the members stage labels into the mesh: the members, and its ingress gateway's namespace.
    labelled = members + ([{"name": gateway["namespace"], "owned": gateway["owned"]}] if gateway else [])
    return {
        "topology": topology["topology"],
        "mesh_id": topology["mesh_id"],
        # Which cluster plays which part; None: the mesh runs on every cluster of the inventory, on its own in each.
        "placements": topology["placements"],
        "name": name,
        "namespace": raw["namespace"],
        # The label member namespaces carry. InPlace: the istiod revision itself; RevisionBased: a revision tag that
        # follows the active revision, control_plane_revision (one per version), so that namespaces never change.
        "revision": revision,
        "control_plane_revision": topology["control_plane_revision"],
        "update_strategy": strategy,
        "version": version,
        "discovery_labels": dict(labels),
        "mtls_mode": mtls_mode,
        "members": members,
        "ingress_gateway": gateway,
        # Also when it has none: what removal looks for after a mesh dropped its gateway.
        "ingress_gateway_name": expand.ingress_gateway_name(name),
        "labelled_namespaces": labelled,
        "samples": samples,
        "values": values,
        # Derived once here so that roles never rebuild them.
        "discovery_selectors": [{"matchLabels": dict(labels)}],
        "member_labels": dict(labels, **{rules.REVISION_LABEL: revision}),
        # The egress hosts of the Sidecar 'default' in each member namespace ([] when the mesh opts out): the mesh's
        # own namespaces and those listed, so its proxies never receive another mesh's services.
        "sidecar_egress_hosts": sorted(set(
            "{0}/*".format(ns) for ns in [raw["namespace"]] + [m["name"] for m in labelled] + scope["namespaces"]))
        if scope["enabled"] else [],
    }


def _check_choices(errs, backend, platform):
    if backend not in schema.choices("multimesh_backend"):
        errs.add("multimesh_backend", "unsupported backend {0!r}".format(backend),
                 "use 'sail' (Sail Operator / OpenShift Service Mesh 3) or 'istioctl'")
    if platform not in schema.choices("multimesh_platform"):
        errs.add("multimesh_platform", "unsupported platform {0!r}".format(platform),
                 "use 'kubernetes', or 'openshift' (istioctl then installs with values.global.platform: openshift)")


def _check_paths_and_owner(errs, render_dir, verify_report_dir, ca_dir, owner):
    for name, value in (("multimesh_render_dir", render_dir), ("multimesh_verify_report_dir", verify_report_dir),
                        ("multimesh_ca_dir", ca_dir)):
        if value is not None:
            check_type(errs, name, value, str, "give a path as a string, or leave it unset")
    if not is_label_value(owner):
        errs.add("multimesh_owner", "{0!r} is not a label value".format(owner),
                 "use at most 63 characters [A-Za-z0-9-_.], alphanumeric at both ends, e.g. the inventory's name")


def _expand_meshes(errs, raw_meshes, defaults, inventory):
    expanded = []
    if check_type(errs, "multimesh_meshes", raw_meshes, list, "give a list of meshes"):
        if not raw_meshes:
            errs.add("multimesh_meshes", "is empty", "define at least one mesh with 'name' and 'namespace'")
        for index, raw in enumerate(raw_meshes):
            mesh = _expand_mesh(errs, index, raw, defaults, inventory)
            if mesh is not None:
                expanded.append(mesh)
    topologies.check_mesh_ids(errs, expanded)
    topologies.check_unique_names(errs, expanded)
    topologies.check_gateways(errs, expanded)
    return expanded


def _cluster_views(errs, expanded, inventory, cni_model):
    """{host: the meshes that cluster takes part in, each as its view}. Namespaces, revisions and selectors must be
    apart among the meshes that share a cluster."""
    views = {}
    for cluster in inventory:
        views[cluster["host"]] = [v for v in (topologies.local_view(m, cluster) for m in expanded) if v is not None]
        topologies.link_gateways(views[cluster["host"]])
        topologies.check_gateway_names(errs, views[cluster["host"]], cluster["name"])
        rules.check_cross_mesh(errs, views[cluster["host"]], cni_model)
        rules.plan_cluster_objects(errs, views[cluster["host"]])
    return views


def build_model(backend="sail", istio_version=None, cni=None, meshes=None, samples=None, render_dir=None,
                sail_operator=None, default_mesh=None, owner=DEFAULT_OWNER, verify_report_dir="multimesh-verify",
                platform="kubernetes",
                ca_dir="multimesh-ca", *,
                clusters=None, here=None):
    """Validate the inventory and return the expanded model of one cluster; raise ModelError listing every problem.

    clusters: the inventory's cluster hosts [{host, name, network}] (name/network None when unset); here: the host
    this model is for. Without them the inventory is one cluster. Every host validates the whole inventory."""
    errs = Collector()
    _check_choices(errs, backend, platform)
    version = rules.normalize_version(errs, "multimesh_istio_version", istio_version or DEFAULT_ISTIO_VERSION) \
        or DEFAULT_ISTIO_VERSION
    settings = {"backend": backend, "platform": platform, "istio_version": version,
                "samples": expand.expand_samples(errs, "multimesh_samples", [] if samples is None else samples,
                                                 schema.choices("multimesh_samples")),
                "cni": expand.expand_cni(errs, cni, version),
                "sail_operator": expand.expand_sail_operator(errs, sail_operator, backend)}
    _check_paths_and_owner(errs, render_dir, verify_report_dir, ca_dir, owner)
    inventory = topologies.expand_clusters(errs, clusters or [{"host": here or "cluster", "name": here or "cluster"}])
    local = [c for c in inventory if c["host"] == here] or inventory[:1]
    raw_meshes = [] if meshes is None else meshes
    expanded = _expand_meshes(errs, raw_meshes, {"version": version, "samples": settings["samples"]}, inventory)
    views = _cluster_views(errs, expanded, inventory, settings["cni"])
    rules.check_trust_domains(errs, expanded)
    for mesh in expanded:
        if backend == "istioctl" and settings["cni"]["enabled"] and mesh["revision"] == "cni":
            errs.add("mesh '{0}'.revision".format(mesh["name"]), "'cni' is the revision of the shared CNI's IstioOperator",
                     "give this mesh another revision")
    default_mesh = rules.check_default_mesh(errs, default_mesh, raw_meshes if isinstance(raw_meshes, list) else [],
                                            expanded)
    if errs.errors:
        # The same mistake seen from several clusters is reported once.
        raise ModelError(sorted(set(errs.errors), key=errs.errors.index))
    meshes_here = views[local[0]["host"]] if local else []
    for mesh in meshes_here:
        mesh["default"] = mesh["name"] == default_mesh
        # Derived once here, from the finished view: the roles' templates only write them out.
        mesh["control_plane_values"] = control_plane_values(mesh, backend, settings["cni"], platform)
    return _model(settings, meshes_here, local[0] if local else None, inventory, render_dir=render_dir,
                  verify_report_dir=verify_report_dir, ca_dir=ca_dir, owner=owner, default_mesh=default_mesh)


def _model(settings, meshes_here, cluster, inventory, render_dir, verify_report_dir, ca_dir, owner, default_mesh):
    """The finished model of one cluster (every key is in model/shape.py's MODEL_KEYS)."""
    several = len(inventory) > 1
    return {
        "backend": settings["backend"],
        "platform": settings["platform"],
        "istio_version": settings["istio_version"],
        "cni": settings["cni"],
        "sail_operator": settings["sail_operator"],
        "samples": settings["samples"],
        "meshes": meshes_here,
        # This cluster and all of the inventory's; with several, each writes into a directory of its own.
        "cluster": cluster,
        "clusters": inventory,
        "render_dir": os.path.join(render_dir, cluster["name"]) if render_dir and several and cluster else
        (render_dir or None),
        "render": bool(render_dir),
        "verify_report_dir": os.path.join(verify_report_dir, cluster["name"]) if several and cluster else
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


def model_inputs(spec):
    """{variable: build_model keyword} for the documented variables the model is built from."""
    accepted = build_model.__code__.co_varnames[:build_model.__code__.co_argcount]
    return dict((name, name[len("multimesh_"):]) for name in spec if name[len("multimesh_"):] in accepted)
