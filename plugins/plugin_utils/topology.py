# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Meshes that span clusters: the clusters of the inventory, each mesh's topology, and what each cluster does.

Pure Python, part of the mesh model (mesh_model.build_model calls it): every cluster host validates the whole
inventory, so a mistake fails on every host before any cluster call, and each host keeps the meshes it takes part in,
with its role there and everything that role needs (the remote secrets it holds, the istiod that serves it, the
gateways it runs).
Over 400 lines: the topologies' rules and each cluster's view of them read the same placements, kept together.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.multimesh.istio.plugins.module_utils.names import DNS1123_LABEL, is_dns1123_label, is_label_value
from ansible_collections.multimesh.istio.plugins.plugin_utils import chart_names

# Roles a cluster may play, per topology. 'external': runs the istiod of a mesh whose data plane and configuration
# live elsewhere; 'config': the remote cluster holding that configuration; 'remote': a data plane served by a primary's
# (or the external) istiod.
TOPOLOGIES = {
    "single": ("primary",),
    "primary-remote": ("primary", "remote"),
    "multi-primary": ("primary",),
    "external": ("external", "config", "remote"),
}
PLACEMENT_KEYS = ("name", "role", "address", "gateway")
GATEWAY_KEYS = ("mesh", "credential")
# The label Kubernetes puts on every namespace: a mesh whose ingress gateway fronts an external istiod also discovers
# that istiod's namespace (its Service, and the Gateway, VirtualService and DestinationRule there) and the gateway's
# own namespace, and nothing else.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")
# Kubernetes' default cluster ID: two clusters both left at it cannot be told apart by istiod.
ISTIO_DEFAULT_CLUSTER = "Kubernetes"
_HOSTNAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*")


def expand_clusters(errs, raw_clusters):
    """[{host, name, network}] of the inventory's cluster hosts, validated. raw: the same keys, name/network may be None."""
    clusters, seen, reached = [], {}, {}
    several = len(raw_clusters) > 1
    for raw in raw_clusters:
        where = "host '{0}'".format(raw["host"])
        name = raw.get("name")
        if name is None:  # the host's name, made a DNS-1123 label
            name = re.sub(r"[^a-z0-9-]+", "-", str(raw["host"]).lower())[:63].strip("-") or "cluster"
        if not is_dns1123_label(name) or name == ISTIO_DEFAULT_CLUSTER:
            errs.add(where + ".multimesh_cluster_name", "{0!r} is not a DNS-1123 label, which istiod's cluster IDs "
                     "and the remote secrets' names need".format(name), "use at most 63 lowercase letters, digits "
                     "and '-', unique per cluster")
            continue
        network = raw.get("network") or ""
        if not isinstance(network, str) or (network and not is_label_value(network)):
            errs.add(where + ".multimesh_network", "{0!r} is not a label value (it becomes topology.istio.io/network)"
                     .format(network), "use at most 63 characters [A-Za-z0-9-_.], e.g. network-1")
            network = str(network)  # kept, so that it is not reported once more as missing
        if name in seen:
            errs.add(where + ".multimesh_cluster_name", "cluster name '{0}' is already host '{1}''s".format(
                name, seen[name]), "give every cluster host its own multimesh_cluster_name")
            continue
        seen[name] = raw["host"]
        server = raw.get("api_server")
        if server and (not isinstance(server, str) or not server.startswith("https://")):
            errs.add(where + ".multimesh_api_server", "{0!r} is not an https:// URL".format(server),
                     "give the API server URL the other clusters reach, e.g. https://10.0.0.5:6443")
        access = tuple(raw.get("access") or ("", ""))
        if several and not any(access):
            errs.add(where, "sets neither multimesh_kubeconfig nor multimesh_context, so with several cluster hosts it "
                     "would reach whichever cluster the environment names", "set multimesh_kubeconfig and/or "
                     "multimesh_context for every host of multimesh_clusters")
        elif several and access in reached:
            errs.add(where, "reaches the same cluster as host '{0}' (same kubeconfig and context)".format(
                reached[access]), "give each cluster host its own multimesh_kubeconfig or multimesh_context")
        else:
            reached[access] = raw["host"]
        clusters.append({"host": raw["host"], "name": name, "network": network})
    return clusters


def _address_ok(value):
    # IPv4 or a DNS name: both become <address>:15012 in the mesh values, which an IPv6 literal would break.
    return isinstance(value, str) and 0 < len(value) <= 253 and bool(_HOSTNAME.fullmatch(value))


def _placement(errs, where, raw, by_name, topology):
    """One entry of a mesh's clusters: {cluster, role, address}, or None if unusable."""
    roles = TOPOLOGIES[topology]
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        errs.add(where, "must be a cluster name or a mapping {name, role, address}", "e.g. {name: east, role: primary}")
        return None
    for key in sorted(set(raw) - set(PLACEMENT_KEYS), key=str):
        errs.add("{0}.{1}".format(where, key), "unknown key", "allowed keys: " + ", ".join(PLACEMENT_KEYS))
    name, role = raw.get("name"), raw.get("role", "primary" if topology in ("single", "multi-primary") else None)
    if name not in by_name:
        errs.add(where + ".name", "{0!r} is not a cluster of this inventory (known: {1})".format(
            name, ", ".join(sorted(by_name)) or "none"),
            "name a host of multimesh_clusters by its cluster name (multimesh_cluster_name, default the host name)")
        return None
    if role not in roles:
        errs.add(where + ".role", "{0!r} is not a role of topology '{1}'".format(role, topology),
                 "use one of " + ", ".join(roles))
        return None
    address = raw.get("address")
    serves = role == "external" or (role == "primary" and topology == "primary-remote")
    if address is not None and not serves:
        errs.add(where + ".address", "only the cluster whose istiod serves other clusters has an address (role "
                 "'primary' of primary-remote, 'external')", "remove it")
    elif serves and address is None:
        errs.add(where + ".address", "is required: the remote clusters' proxies and webhooks reach this cluster's "
                 "istiod at that address ({0})".format(
                     "its east-west gateway's load-balancer IP or DNS name" if role == "primary" else
                     "the load-balancer IP or DNS name of the Service istiod-<revision>-external"),
                 "set address: <IP or DNS name of the gateway>")
    elif serves and not _address_ok(address):
        errs.add(where + ".address", "{0!r} is not an IP address or DNS name".format(address),
                 "give an IPv4 address or DNS name without scheme or port, e.g. 192.0.2.10 or istiod.example.com")
    return {"cluster": name, "role": role, "address": address if serves else None,
            "network": by_name[name]["network"], "host": by_name[name]["host"],
            "gateway": _gateway(errs, where + ".gateway", raw.get("gateway"), role, address)}


def _gateway(errs, where, raw, role, address):
    """An external istiod exposed as in seed 004: {mesh, credential} of the ingress gateway in front of it, or None."""
    if raw is None:
        return None
    if role != "external":
        errs.add(where, "only the external cluster's istiod is exposed through an ingress gateway", "remove it")
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("mesh"), str):
        errs.add(where, "must be a mapping with 'mesh' (the mesh on this cluster whose ingress gateway exposes istiod) "
                 "and optionally 'credential'", "e.g. {mesh: gateways}")
        return None
    for key in sorted(set(raw) - set(GATEWAY_KEYS), key=str):
        errs.add("{0}.{1}".format(where, key), "unknown key", "allowed keys: " + ", ".join(GATEWAY_KEYS))
    credential = raw.get("credential")
    if credential is not None and not (isinstance(credential, str) and _HOSTNAME.fullmatch(credential)
                                       and len(credential) <= 253 and credential == credential.lower()):
        errs.add(where + ".credential", "{0!r} is not a secret name".format(credential),
                 "name the TLS secret (tls.crt, tls.key) in the gateway's namespace istiod-gateway-<mesh>")
        credential = None
    elif credential is not None and isinstance(address, str) and _IPV4.fullmatch(address):
        errs.add(where + ".credential", "TLS is terminated for a host name, but address {0!r} is an IP address".format(
            address), "set address to the DNS name the certificate is for, or drop credential (TLS passes through)")
    return {"mesh": raw["mesh"], "credential": credential}


def check_gateways(errs, meshes):
    """The mesh named by an external cluster's gateway runs its own istiod on that cluster."""
    for mesh in meshes:
        for index, place in enumerate(mesh["placements"] or []):
            gateway = place.get("gateway")
            if not gateway:
                continue
            where = "mesh '{0}'.clusters[{1}].gateway.mesh".format(mesh["name"], index)
            front = [m for m in meshes if m["name"] == gateway["mesh"]]
            if gateway["mesh"] == mesh["name"]:
                errs.add(where, "names this mesh; its istiod runs without a local configuration source for a gateway",
                         "name another mesh with its own istiod on cluster '{0}' (Istio's guide to an external control plane "
                         "behind an ingress gateway uses the one in istio-system)".format(place["cluster"]))
            elif not front:
                errs.add(where, "{0!r} is not a mesh of this inventory".format(gateway["mesh"]),
                         "add a mesh on cluster '{0}' for the gateway, or name an existing one".format(place["cluster"]))
            elif not _runs_istiod_on(front[0], place["cluster"]):
                errs.add(where, "mesh '{0}' runs no istiod of its own on cluster '{1}'".format(gateway["mesh"], place["cluster"]),
                         "name a mesh whose istiod runs on cluster '{0}' (topology single, or role primary)".format(place["cluster"]))


def _runs_istiod_on(mesh, cluster):
    if mesh["placements"] is None:
        return True
    return any(p["cluster"] == cluster and p["role"] == "primary" for p in mesh["placements"])


def istiod_gateway_name(mesh_name):
    """The name of the ingress gateway (Deployment, Service, Gateway...) that exposes an external istiod (seed 004):
    istiod-gateway-<mesh>, cut to a DNS label's 63 characters - meshes alike in their first 48 get the same one, which
    check_gateway_names refuses (a hash in the name would rename the gateways of the meshes that work today)."""
    return ("istiod-gateway-" + mesh_name)[:63].rstrip("-")


def check_gateway_names(errs, views, cluster):
    """On one cluster (views as link_gateways left them): two external istiods whose gateways would run under one name
    (in a namespace named as the gateway) would share a Deployment and Service - one mesh's gateway would take the
    other's place, whichever mesh's gateway it is."""
    seen = {}
    for view in views:
        gateway = view.get("istiod_gateway")
        if not gateway or not gateway.get("name"):
            continue
        if gateway["name"] not in seen:
            seen[gateway["name"]] = view["name"]
            continue
        index = [i for i, p in enumerate(view["placements"] or []) if p["cluster"] == cluster and p.get("gateway")]
        errs.add("mesh '{0}'.clusters[{1}].gateway".format(view["name"], index[0] if index else "?"),
                 "its gateway and the gateway's namespace would be named {0} (istiod-gateway-<mesh name>, cut to 63 "
                 "characters) on cluster '{1}', as mesh '{2}''s are, so one mesh's gateway would replace the "
                 "other's".format(gateway["name"], cluster, seen[gateway["name"]]),
                 "rename mesh '{0}' or mesh '{1}' so that their gateway names differ (mesh names of at most {2} "
                 "characters are never cut)".format(seen[gateway["name"]], view["name"], 63 - len("istiod-gateway-")))


def link_gateways(views):
    """On one cluster: the external istiod's view learns its gateway (namespace, revision, names), and the gateway's
    mesh discovers the external istiod's namespace."""
    by_name = dict((v["name"], v) for v in views)
    for view in views:
        gateway = view.get("istiod_gateway")
        if not gateway or gateway["mesh"] not in by_name:
            continue
        front = by_name[gateway["mesh"]]
        name = istiod_gateway_name(view["name"])
        # The remote clusters reach the external istiod at the Service's load-balancer address (XDS, webhooks). The
        # gateway runs in a namespace of its own, named as it is: its TLS credential's Role (list every Secret of the
        # namespace, which SDS requires) then reaches only that credential, not the gateway mesh's CA and tokens.
        gateway.update(namespace=name, revision=front["revision"], name=name, service_type="LoadBalancer",
                       ports=[{"name": port_name, "port": port, "target_port": port} for port_name, port in (
                           ("status-port", 15021), ("tls-xds", 15012), ("tls-webhook", 15017))])
        front["discovery_selectors"] = list(front["discovery_selectors"]) + [
            {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}} for namespace in (view["namespace"], name)]
        # Namespaces it discovers besides its own (the verification expects them in its registry).
        front["fronted_namespaces"] = front["fronted_namespaces"] + [view["namespace"], name]


def _count(errs, where, placements, role, low, high, topology):
    found = [p["cluster"] for p in placements if p["role"] == role]
    if len(found) < low:
        errs.add(where, "topology '{0}' needs {1} cluster{2} with role '{3}', got {4}".format(
            topology, "at least {0}".format(low) if high is None else low, "" if low == 1 else "s", role,
            len(found)), "add {0} entry with role: {1}".format("an" if low == 1 else "more", role))
    elif high is not None and len(found) > high:
        errs.add(where, "topology '{0}' allows {1} cluster with role '{2}', got {3} ({4})".format(
            topology, high, role, len(found), ", ".join(found)), "keep one; make the others role 'remote'"
            if topology == "primary-remote" else "keep one")


_RULES = {  # (role, at least, at most)
    "single": (("primary", 1, 1),),
    "primary-remote": (("primary", 1, 1), ("remote", 1, None)),
    "multi-primary": (("primary", 2, None),),
    "external": (("external", 1, 1), ("config", 1, 1)),
}


def expand_topology(errs, where, raw, clusters):
    """(topology, mesh_id, placements) of one raw mesh; placements None means 'every cluster' (single, no list)."""
    topology = raw.get("topology", "single")
    if topology not in TOPOLOGIES:
        errs.add(where + ".topology", "unknown topology {0!r}".format(topology), "use one of " + ", ".join(TOPOLOGIES))
        return "single", raw.get("mesh_id", raw.get("name")), None
    mesh_id = raw.get("mesh_id", raw.get("name"))
    if "mesh_id" in raw and (not isinstance(mesh_id, str) or not DNS1123_LABEL.fullmatch(mesh_id)):
        errs.add(where + ".mesh_id", "{0!r} is not a DNS-1123 label".format(mesh_id), "use e.g. the mesh's name")
    by_name = dict((c["name"], c) for c in clusters)
    if "clusters" not in raw:
        if topology != "single":
            errs.add(where + ".clusters", "is required for topology '{0}'".format(topology),
                     "list the clusters and their roles, e.g. [{name: east, role: primary}, {name: west, role: remote}]"
                     if topology == "primary-remote" else "list the clusters and their roles")
        return topology, mesh_id, None
    if not isinstance(raw["clusters"], list) or not raw["clusters"]:
        errs.add(where + ".clusters", "must be a non-empty list", "list the clusters of this mesh with their roles")
        return topology, mesh_id, []
    placements, seen = [], set()
    for index, item in enumerate(raw["clusters"]):
        place = _placement(errs, "{0}.clusters[{1}]".format(where, index), item, by_name, topology)
        if place is None:
            continue
        if place["cluster"] in seen:
            errs.add("{0}.clusters[{1}]".format(where, index), "cluster '{0}' is listed twice".format(place["cluster"]),
                     "list each cluster once, with one role")
            continue
        seen.add(place["cluster"])
        placements.append(place)
    if len(placements) == len(raw["clusters"]):
        for role, low, high in _RULES[topology]:
            _count(errs, where + ".clusters", placements, role, low, high, topology)
        networks = set(p["network"] for p in placements if p["role"] != "external")
        if "" in networks and len(networks) > 1:
            errs.add(where + ".clusters", "clusters {0} have no multimesh_network while others are on {1}".format(
                ", ".join(p["cluster"] for p in placements if not p["network"] and p["role"] != "external"),
                ", ".join(sorted(networks - {""}))),
                "set multimesh_network on every cluster host of a mesh that spans networks")
    return topology, mesh_id, placements


def check_unique_names(errs, meshes):
    """Mesh names identify a mesh across all clusters of the inventory."""
    seen = set()
    for mesh in meshes:
        if mesh["name"] in seen:  # worded as the per-cluster check, which reports it once more where they meet
            errs.add("mesh '{0}'.name".format(mesh["name"]), "'{0}' is already the name of mesh '{0}'".format(
                mesh["name"]), "give every mesh a unique name")
        seen.add(mesh["name"])


def check_mesh_ids(errs, meshes):
    """Meshes are told apart by their mesh ID wherever their clusters meet."""
    seen = {}
    for mesh in meshes:
        if mesh["mesh_id"] in seen and seen[mesh["mesh_id"]] != mesh["name"]:  # same name: reported as such
            errs.add("mesh '{0}'.mesh_id".format(mesh["name"]), "'{0}' is already the mesh ID of mesh '{1}'".format(
                mesh["mesh_id"], seen[mesh["mesh_id"]]), "give every mesh its own mesh_id (default: its name)")
        else:
            seen[mesh["mesh_id"]] = mesh["name"]


def _readers(mesh, here):
    """The clusters whose API server the istiod on this cluster reads: the remote secrets it holds."""
    roles = dict((p["cluster"], p["role"]) for p in mesh["placements"])
    others = [p for p in mesh["placements"] if p["cluster"] != here]
    ns = mesh["namespace"]
    if roles[here] == "external":
        return [{"cluster": p["cluster"], "host": p["host"], "namespace": ns, "mesh": mesh["name"],
                 "type": "config" if p["role"] == "config" else "remote",
                 # The config cluster's istiod account (its install creates it); readers get one of their own.
                 "service_account": istiod_service(mesh) if p["role"] == "config" else None} for p in others]
    if roles[here] == "primary" and mesh["topology"] in ("primary-remote", "multi-primary"):
        wanted = "remote" if mesh["topology"] == "primary-remote" else "primary"
        return [{"cluster": p["cluster"], "host": p["host"], "namespace": ns, "mesh": mesh["name"], "type": "remote",
                 "service_account": None} for p in others if p["role"] == wanted]
    return []


def local_view(mesh, here):
    """This cluster's part of a mesh (a copy with 'role' and what the role needs), or None if it takes no part."""
    placements = mesh["placements"]
    if placements is None:  # a single-cluster mesh on every cluster of the inventory
        view = dict(mesh, role="primary", cluster=here["name"], network=here["network"], placements=[],
                    multicluster=False, istiod_service=istiod_service(mesh), holds_config=True,
                    member_names=[m["name"] for m in mesh["members"]])
        return dict(view, readers=[], served_by=None, multi_network=False, eastwest_gateway=False,
                    istiod_gateway=None, expose_istiod=False, expose_address=None, gateways=False, install_profile=None, istiod_cluster=here["name"],
                    control_plane_clusters=[], fronted_namespaces=[])
    mine = [p for p in placements if p["cluster"] == here["name"]]
    if not mine:
        return None
    role = mine[0]["role"]
    server = [p for p in placements if p["role"] in ("external", "primary") and p["address"]]
    config = [p["cluster"] for p in placements if p["role"] == "config"]
    data_networks = set(p["network"] for p in placements if p["role"] != "external")
    multi_network = len(data_networks) > 1
    # An external istiod takes its config cluster's name and network: that is the cluster it treats as its own.
    network = ([p["network"] for p in placements if p["role"] == "config"] or [here["network"]])[0] \
        if role == "external" else here["network"]
    view = dict(mesh, role=role, cluster=here["name"], network=network,
                multicluster=mesh["topology"] != "single", istiod_service=istiod_service(mesh),
                member_names=[m["name"] for m in mesh["members"]])
    # Where the mesh's configuration lives (Sidecars, the ingress gateway and its Gateway): a primary, a config cluster.
    view["holds_config"] = role in ("primary", "config")
    if not view["holds_config"]:
        view.update(ingress_gateway=None, labelled_namespaces=list(mesh["members"]))
    if role == "external":  # istiod only: the mesh's namespaces and workloads live in its other clusters
        view.update(members=[], samples=[], labelled_namespaces=[])
    view.update(
        readers=_readers(mesh, here["name"]),
        # Set by link_gateways on the mesh whose ingress gateway fronts an external istiod.
        fronted_namespaces=[],
        # Where a remote or config cluster's proxies and webhooks reach istiod.
        served_by=dict((k, server[0][k]) for k in ("cluster", "address")) if role in ("remote", "config") and server
        else None,
        multi_network=multi_network,
        # An east-west gateway carries cross-network traffic, and exposes a primary's istiod to its remotes.
        eastwest_gateway=role != "external" and (multi_network or (role == "primary" and bool(mine[0]["address"]))),
        expose_istiod=role == "external" or (role == "primary" and bool(mine[0]["address"])),
        # Seed 004: an ingress gateway of another mesh on this cluster exposes the external istiod (else a Service).
        istiod_gateway=dict(mine[0]["gateway"]) if mine[0].get("gateway") else None,
        expose_address=mine[0]["address"],
        # Anything for the gateways stage: an east-west gateway, expose-istiod, expose-services, the external Service.
        gateways=role == "external" or (role != "external" and (multi_network or (role == "primary" and bool(mine[0]["address"])))),
        install_profile={"remote": "remote", "config": "remote", "external": "empty"}.get(role),
        # The cluster ID of the istiod that serves this cluster's proxies: an external istiod takes its config
        # cluster's name, as that is the cluster it treats as its own.
        istiod_cluster=config[0] if role == "external" and config else here["name"],
        # Istio's annotation on a remote's control-plane namespace: the cluster(s) whose istiod serves it.
        control_plane_clusters=(config[:1] if mesh["topology"] == "external" else [server[0]["cluster"]])
        if role == "remote" and server else [],
    )
    return view


# Where proxies verify istiod against the system's roots: the gateway in front of an external istiod terminates TLS
# with the user's certificate (seed 004's DNS variant).
SYSTEM_ROOTS = "/etc/ssl/certs/ca-certificates.crt"


def by_name(address):
    """Whether an istiod address is a DNS name (the model allows IPv4 addresses and DNS names)."""
    return not _IPV4.fullmatch(address)


def values(mesh):
    """The Helm values (both backends) that make this cluster's part of a multicluster mesh."""
    if not mesh["multicluster"]:
        return {}
    glob = {"meshID": mesh["mesh_id"], "multiCluster": {"clusterName": mesh["istiod_cluster"]}}
    if mesh["network"]:
        glob["network"] = mesh["network"]
    result = {"global": glob}
    role = mesh["role"]
    if role == "primary" and mesh["expose_istiod"]:
        glob["externalIstiod"] = True  # serves the remotes that name it in controlPlaneClusters
        _named_host(mesh, result)
    if role in ("remote", "config"):
        _served_values(mesh, result)
    if role == "config":
        glob["configCluster"] = True  # CRDs, the istiod service account and the mesh ConfigMap live here
        result["pilot"] = {"configMap": True}
    if role == "external":
        _external_values(mesh, result)
    return result


def _served_values(mesh, result):
    """A remote or config cluster: its webhooks call the serving istiod. By IP: a Service with that endpoint, and
    paths on it. By DNS name: the charts would make that Service an ExternalName whose webhook port is 443, where
    the istiod's gateway does not listen - so URLs on 15017 (seed 004's DNS variant); primary-remote keeps the
    Service, which the proxies the primary injects reach by name (XDS on 15012)."""
    address = mesh["served_by"]["address"]
    path = "/inject/cluster/" + mesh["cluster"] + ("/net/" + mesh["network"] if mesh["network"] else "")
    if not by_name(address):
        result["istiodRemote"] = {"injectionPath": path}
        result["global"]["remotePilotAddress"] = address
        return
    url = "https://{0}:15017".format(address)
    result["istiodRemote"] = {"injectionURL": url + path}
    result["base"] = {"validationURL": url + "/validate"}
    if mesh["topology"] == "primary-remote":
        result["global"]["remotePilotAddress"] = address


def _named_host(mesh, result):
    """Remotes that call istiod by DNS name through a gateway that passes TLS through verify istiod's own
    certificate against that name: istiod adds it to its certificate (ISTIOD_CUSTOM_HOST)."""
    address = mesh["expose_address"]
    if by_name(address) and not _user_certificate(mesh):
        result.setdefault("pilot", {}).setdefault("env", {})["ISTIOD_CUSTOM_HOST"] = address


def _user_certificate(mesh):
    """Whether the gateway in front of this istiod terminates TLS with the user's certificate (its credential)."""
    return bool((mesh.get("istiod_gateway") or {}).get("credential"))


def _external_values(mesh, result):
    """The external istiod: its KUBECONFIG is the config cluster (secret istio-kubeconfig); mesh and injection
    config come from local files. It patches the config cluster's webhooks with its CA - unless its gateway
    terminates TLS with the user's certificate, which the API server and the proxies then verify against their
    system roots."""
    address = mesh["expose_address"]
    suffix = chart_names.revision_suffix(mesh["control_plane_revision"])
    user_certificate = _user_certificate(mesh)
    result["global"].update(externalIstiod=True, caAddress=address + ":15012", operatorManageWebhooks=True,
                            configValidation=False)
    result["meshConfig"] = {"rootNamespace": mesh["namespace"],
                            "defaultConfig": {"discoveryAddress": address + ":15012"}}
    if user_certificate:
        result["meshConfig"]["defaultConfig"]["proxyMetadata"] = {"XDS_ROOT_CA": SYSTEM_ROOTS, "CA_ROOT_CA": SYSTEM_ROOTS}
    revision, namespace = mesh["control_plane_revision"], mesh["namespace"]
    result["pilot"] = {
        "enabled": True,
        # CLUSTER_ID and EXTERNAL_ISTIOD come from global.multiCluster.clusterName and global.externalIstiod
        # (the chart refuses them twice). Empty webhook names: istiod leaves their caBundle alone.
        "env": {"LOCAL_CLUSTER_SECRET_WATCHER": "true", "SHARED_MESH_CONFIG": "istio",
                "INJECTION_WEBHOOK_CONFIG_NAME": "" if user_certificate else chart_names.injector_webhook(revision, namespace),
                "VALIDATION_WEBHOOK_CONFIG_NAME": "" if user_certificate else chart_names.validator_webhook(revision, namespace)},
        "volumes": [{"name": "config-volume", "configMap": {"name": "istio" + suffix}},
                    {"name": "inject-volume", "configMap": {"name": "istio-sidecar-injector" + suffix}}],
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/istio/config"},
                         {"name": "inject-volume", "mountPath": "/var/lib/istio/inject"}],
    }
    _named_host(mesh, result)


def istiod_service(mesh):
    """The istiod Service of the mesh's (control-plane) revision, as the charts name it."""
    return chart_names.istiod_service(mesh["control_plane_revision"])
