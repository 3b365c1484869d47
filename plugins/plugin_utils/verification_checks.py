# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The judges of the isolation verification: pure functions from the mesh model and cluster state given as data
to checks (see verification_report.check) - what must hold, what was observed, pass/fail/skipped with the evidence.
Over 400 lines: ten small judges, one per kind of check, that share the mesh-namespace and not-observed rules here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.multimesh.istio.plugins.module_utils.istiod_registry import sidecar_egress_hosts
from ansible_collections.multimesh.istio.plugins.plugin_utils.sidecars import discovery_address, injected_revision, sidecar_container
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import uses_cni
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_probes import data_plane_clusters
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_report import FAIL, PASS, SKIPPED, check


# ------------------------------------------------------------------ sidecars and binding

def _cni_check(label, pod):
    """An injected pod of a mesh that uses the CNI: the CNI's istio-validation init container, no istio-init."""
    inits = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    good = "istio-validation" in inits and "istio-init" not in inits
    return check("cni " + label, "injection", "istio-validation, no istio-init (the mesh uses the Istio CNI)",
                 ", ".join(inits) or "no init container", PASS if good else FAIL, {"init_containers": inits},
                 None if good else "pod {0} was not injected for the Istio CNI: {1}".format(
                     label, "istio-init needs NET_ADMIN and NET_RAW" if "istio-init" in inits else "no istio-validation"))


def check_pods(model, pods):
    """Per sample pod in a member namespace: a sidecar, bound to its own mesh (revision label, discovery address),
    and where the mesh uses the Istio CNI, injected for it (istio-validation, no istio-init)."""
    checks = []
    owner = {}
    for mesh in model["meshes"]:
        for member in mesh["members"]:
            owner[member["name"]] = mesh
    for pod in sorted(pods, key=lambda p: (p["metadata"].get("namespace"), p["metadata"]["name"])):
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        mesh = owner.get(ns)
        if mesh is None:
            continue
        label = "{0}/{1}".format(ns, name)
        sidecar = sidecar_container(pod)
        if sidecar is None:
            checks.append(check("sidecar " + label, "injection", "istio-proxy container", "no istio-proxy", FAIL,
                                {"containers": [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]},
                                "pod {0} has no sidecar: injection did not happen".format(label)))
            continue
        checks.append(check("sidecar " + label, "injection", "istio-proxy container", "istio-proxy", PASS))
        if uses_cni(mesh):
            checks.append(_cni_check(label, pod))
        revision = injected_revision(pod)
        address = discovery_address(sidecar)
        active = mesh["control_plane_revision"]  # what the injector writes (a RevisionBased mesh's tag resolves to it)
        want = "istiod-{0}.{1}.svc:15012".format(active, mesh["namespace"])
        if mesh.get("topology") == "external" and mesh.get("served_by"):  # meshConfig.defaultConfig.discoveryAddress
            want = "{0}:15012".format(mesh["served_by"]["address"])
        bound = revision == active and address == want
        checks.append(check("binding " + label, "injection", "revision {0}, {1}".format(active, want),
                            "revision {0}, {1}".format(revision, address), PASS if bound else FAIL,
                            {"revision": revision, "discoveryAddress": address},
                            None if bound else "the sidecar of {0} is bound to another control plane".format(label)))
    return checks


# ------------------------------------------------------------------ control planes

def check_control_planes(model, deployments, mutating, validating):
    """istiod ready in each mesh's namespace, its injector and validator present, and - when no mesh is the
    default - no default tag or default validator pointing at one of the meshes."""
    checks = []
    ready = {(d["metadata"].get("namespace"), d["metadata"]["name"]): (d.get("status") or {}).get("readyReplicas") or 0
             for d in deployments}
    revisions = {mesh["control_plane_revision"]: mesh["name"] for mesh in model["meshes"]}
    for mesh in model["meshes"]:
        role, active = mesh.get("role", "primary"), mesh["control_plane_revision"]
        if role in ("primary", "external"):  # remote and config clusters are served by an istiod elsewhere
            key = (mesh["namespace"], "istiod-" + active)
            replicas = ready.get(key)
            checks.append(check("istiod " + mesh["name"], "control-plane", "istiod-{0} ready in {1}".format(active, mesh["namespace"]),
                                "missing" if replicas is None else "{0} ready replica(s)".format(replicas),
                                PASS if replicas else FAIL))
        # An external istiod's webhooks live in its config cluster; a plain remote holds no configuration to validate.
        kinds = {"primary": ("injector", "validator"), "config": ("injector", "validator"), "remote": ("injector",)}
        for kind, hooks in (("injector", mutating), ("validator", validating)):
            if kind not in kinds.get(role, ()):
                continue
            mine = [h for h in hooks if (h["metadata"].get("labels") or {}).get("istio.io/rev") == active
                    and "istio.io/tag" not in (h["metadata"].get("labels") or {})
                    and h["metadata"]["name"] != "istiod-default-validator"]
            checks.append(check("{0} {1}".format(kind, mesh["name"]), "control-plane", "a {0} for revision {1}".format(kind, active),
                                ", ".join(h["metadata"]["name"] for h in mine) or "none", PASS if mine else FAIL))
            if kind == "injector" and role in ("remote", "config"):
                checks.append(_remote_injector(mesh, mine))
        if mesh.get("update_strategy", {}).get("type") == "RevisionBased":
            checks.append(_revision_tag(mesh, mutating))
    if not model.get("default_mesh"):
        pointing = []
        for hook in mutating + validating:
            labels = hook["metadata"].get("labels") or {}
            is_default = labels.get("istio.io/tag") == "default" or hook["metadata"]["name"] == "istiod-default-validator"
            if is_default and labels.get("istio.io/rev") in revisions:
                pointing.append("{0} -> {1}".format(hook["metadata"]["name"], revisions[labels["istio.io/rev"]]))
        checks.append(check("default webhooks", "control-plane", "no default webhook points at a mesh (no default mesh)",
                            ", ".join(pointing) or "none", FAIL if pointing else PASS, {"pointing": pointing}))
    return checks


def _revision_tag(mesh, mutating):
    """A RevisionBased mesh's namespaces carry its revision as a tag: the tag's webhook must point at the active
    revision, or new pods are injected by an old control plane."""
    tags = [h for h in mutating if (h["metadata"].get("labels") or {}).get("istio.io/tag") == mesh["revision"]]
    targets = sorted(set((h["metadata"].get("labels") or {}).get("istio.io/rev") for h in tags))
    good = targets == [mesh["control_plane_revision"]]
    return check("revision tag " + mesh["name"], "control-plane",
                 "tag {0} -> {1}".format(mesh["revision"], mesh["control_plane_revision"]),
                 "tag {0} -> {1}".format(mesh["revision"], ", ".join(t or "?" for t in targets) or "no webhook"),
                 PASS if good else FAIL, {"webhooks": [h["metadata"]["name"] for h in tags]},
                 None if good else "new pods of {0} are not injected by its active revision".format(mesh["name"]))


def _remote_injector(mesh, hooks):
    """A remote cluster's injector must send its pods to the serving istiod under this cluster's name and network."""
    path = "/inject/cluster/" + mesh["cluster"] + ("/net/" + mesh["network"] if mesh.get("network") else "")
    seen = []
    for hook in hooks:
        for entry in hook.get("webhooks") or []:
            config = entry.get("clientConfig") or {}
            seen.append(config.get("url") or "{0}{1}".format((config.get("service") or {}).get("name", "?"),
                                                             (config.get("service") or {}).get("path") or ""))
    good = bool(seen) and all(target.endswith(path) for target in seen)
    return check("injector target " + mesh["name"], "multicluster", "every injection call goes to istiod with " + path,
                 ", ".join(seen) or "no webhook", PASS if good else FAIL, {"targets": seen},
                 None if good else "the injector of {0} does not call istiod for cluster {1}".format(mesh["name"], mesh["cluster"]))


def _loopback(server):
    host = re.sub(r"^https?://", "", server or "").split("/")[0].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def check_remote_access(model, observed):
    """Per remote secret the istiods here hold: it exists, its credentials read the other cluster, and - for a reader
    (type remote) - may not write there. observed: what multimesh.istio.remote_access returned."""
    found = dict(((o["namespace"], o["cluster"], o["type"]), o) for o in observed or [])
    checks = []
    for mesh in model["meshes"]:
        for reader in mesh.get("readers") or []:
            name = "remote secret {0} -> {1}".format(mesh["name"], reader["cluster"])
            expected = "reads {0}{1}".format(reader["cluster"], ", and only reads" if reader["type"] == "remote" else "")
            seen = found.get((mesh["namespace"], reader["cluster"], reader["type"]))
            if seen is None:
                checks.append(check(name, "multicluster", expected, "not observed", FAIL, reason="the secret was not tried"))
                continue
            evidence = dict((k, seen.get(k)) for k in ("secret", "server", "can_read", "writes_allowed"))
            if seen.get("error") or not seen.get("can_read"):
                checks.append(check(name, "multicluster", expected, "cannot read", FAIL, evidence,
                                    seen.get("error") or "listing namespaces was refused"))
            elif _loopback(seen.get("server")):
                checks.append(check(name, "multicluster", expected, "reads from this machine at " + seen["server"], FAIL,
                                    evidence, "the secret names a loopback address, which istiod in another cluster "
                                    "cannot reach. Fix: set multimesh_api_server for {0}".format(reader["cluster"])))
            elif reader["type"] == "remote" and seen.get("writes_allowed"):
                checks.append(check(name, "multicluster", expected, "reads; may also " + ", ".join(seen["writes_allowed"]),
                                    FAIL, evidence, "the reader account of {0} may write".format(reader["cluster"])))
            else:
                observed = "reads" + (", writes nothing" if reader["type"] == "remote" else "")
                checks.append(check(name, "multicluster", expected, observed, PASS, evidence))
    return checks


# ------------------------------------------------------------------ root of trust

def check_roots(model, configmaps):
    """Each member namespace holds its own mesh's root (istio-ca-root-cert), none holds another mesh's, and meshes
    that must not share trust have different roots. configmaps: istio-ca-root-cert objects of every namespace."""
    by_ns = {c["metadata"].get("namespace"): (c.get("data") or {}).get("root-cert.pem") for c in configmaps}
    # A namespace another mesh discovers by design (an external istiod's, behind that mesh's gateway) holds the
    # root of that mesh, whose istiod writes it there: it is judged by that root, and says nothing of its own mesh's.
    fronted = dict((ns, mesh["name"]) for mesh in model["meshes"] for ns in mesh.get("fronted_namespaces") or [])
    roots = {mesh["name"]: by_ns.get(mesh["namespace"]) for mesh in model["meshes"] if mesh["namespace"] not in fronted}
    checks = []
    for ns, front in sorted(fronted.items()):
        if ns in by_ns:
            good = roots.get(front) is not None and by_ns[ns] == roots[front]
            checks.append(check("root of trust " + ns, "trust", "root of {0} (it discovers {1} by design)".format(front, ns),
                                "root of " + front if good else "another root", PASS if good else FAIL))
    for mesh in (m for m in model["meshes"] if m["name"] in roots):
        for member in mesh["members"]:
            held = by_ns.get(member["name"])
            others = [name for name, root in roots.items() if name != mesh["name"] and root and held == root]
            if roots[mesh["name"]] is None:
                status, observed = FAIL, "the control plane namespace holds no root"
            elif held is None:
                status, observed = FAIL, "no istio-ca-root-cert"
            elif held == roots[mesh["name"]] and not others:
                status, observed = PASS, "root of " + mesh["name"]
            else:
                status, observed = FAIL, "root of " + (", ".join(others) or "an unknown CA")
            checks.append(check("root of trust " + member["name"], "trust", "root of " + mesh["name"], observed, status))
    # Any other namespace holding a mesh's root is one that mesh's istiod discovers though it is not in the mesh.
    in_meshes = set(ns for mesh in model["meshes"] for ns in mesh_namespaces(mesh))
    for ns, held in sorted((ns, held) for ns, held in by_ns.items() if ns not in in_meshes and held):
        leaking = [name for name, root in sorted(roots.items()) if root and held == root]
        if leaking:
            checks.append(check("root of trust " + ns, "trust", "no mesh's root (not a member)", "root of " + ", ".join(leaking),
                                FAIL, reason="namespace {0} is not in mesh {1} but its istiod discovers it".format(ns, leaking[0])))
    names = sorted(roots)
    for index, first in enumerate(names):
        for second in names[index + 1:]:
            if roots[first] and roots[first] == roots[second]:
                checks.append(check("separate roots {0}/{1}".format(first, second), "trust", "different roots",
                                    "the same root", FAIL, reason="the meshes share a root of trust"))
    return checks


# ------------------------------------------------------------------ discovery scope (istiod's own view)

def mesh_namespaces(mesh):
    """The namespaces a mesh's istiod discovers: its own, its members' and its ingress gateway's, and those of
    external istiods its gateway exposes (seed 004)."""
    return set([mesh["namespace"]] + [m["name"] for m in mesh["labelled_namespaces"]]
               + list(mesh.get("fronted_namespaces") or []))


def check_discovery(model, registries, services):
    """Per mesh, the namespaces whose services its istiod lists (/debug/registryz) must be exactly the mesh's
    namespaces that hold a Service: none of another mesh or of no mesh, none of its own missing.
    registries: what multimesh.istio.istiod_registry returned; services: every Service of the cluster."""
    with_services = set(s["metadata"].get("namespace") for s in services)
    by_mesh = dict((r.get("name"), r) for r in registries or [])
    owner = {}
    for mesh in model["meshes"]:
        for ns in mesh_namespaces(mesh):
            owner[ns] = mesh["name"]
    checks = []
    for mesh in model["meshes"]:
        name = "discovery scope " + mesh["name"]
        role = mesh.get("role", "primary")
        if role not in ("primary", "external"):  # no istiod here
            continue
        if role == "external":  # its namespaces and their Services are on the clusters it serves, not here
            want = sorted(set([mesh["namespace"]] + list(mesh.get("member_names") or [])))
            expected = "istiod-{0} discovers only {1} (on the clusters it serves), and some".format(
                mesh["control_plane_revision"], ", ".join(want))
        else:
            want = sorted(mesh_namespaces(mesh) & with_services)
            expected = "istiod-{0} discovers exactly {1}".format(mesh["control_plane_revision"], ", ".join(want) or "no namespace")
        registry = by_mesh.get(mesh["name"])
        if registry is None or registry.get("error"):
            reason = (registry or {}).get("error") or "istiod was not asked"
            checks.append(check(name, "discovery", expected, "not observed", FAIL, {"pod": (registry or {}).get("pod")}, reason))
            continue
        seen = set(registry.get("namespaces") or [])
        # A mesh namespace whose Services are on another cluster of the mesh is its own too (a primary reads its
        # remotes): foreign is judged against all of them, missing against those with a Service here.
        foreign = sorted(seen - set(want) - (mesh_namespaces(mesh) if role == "primary" else set()))
        missing = sorted(set(want) - seen)
        if role == "external":  # which of them hold a Service is not known here: only nothing at all is missing
            missing = [] if seen & set(want) else want
        evidence = {"pod": registry.get("pod"), "seen": sorted(seen), "foreign": foreign, "missing": missing,
                    "foreign_owners": dict((ns, owner.get(ns, "no mesh")) for ns in foreign)}
        problems = []
        if foreign:
            problems.append("istiod of {0} discovers {1}".format(mesh["name"], ", ".join(
                "{0} ({1})".format(ns, "mesh " + owner[ns] if ns in owner else "in no mesh") for ns in foreign)))
        if missing:
            problems.append("it does not discover its own {0}".format(", ".join(missing)))
        checks.append(check(name, "discovery", expected, ", ".join(sorted(seen)) or "nothing", FAIL if problems else PASS,
                            evidence, "; ".join(problems) or None))
    return checks


# ------------------------------------------------------------------ config scope (Sidecar per member namespace)

def _not_observed(mesh, registry):
    """Why istiod's own configuration (/debug/configz) is not part of a check's evidence."""
    return "not observed: " + ("no istiod of {0} here".format(mesh["name"]) if registry is None else
                               registry.get("sidecars_error") or registry.get("error") or "not asked")


def check_sidecar_scope(model, sidecars, registries):
    """Per member namespace of a mesh whose configuration lives here: the Sidecar 'default' exists with exactly the
    mesh's egress hosts and, where the mesh's istiod runs here and could be asked, istiod holds it as stored.
    sidecars: every Sidecar object of the cluster; registries: what multimesh.istio.istiod_registry returned."""
    stored = dict(((o["metadata"].get("namespace"), o["metadata"].get("name")), sidecar_egress_hosts(o))
                  for o in sidecars or [])
    by_mesh = dict((r.get("name"), r) for r in registries or [])
    checks = []
    for mesh in model["meshes"]:
        if not mesh.get("sidecar_egress_hosts") or not mesh["holds_config"]:
            continue
        want = sorted(mesh["sidecar_egress_hosts"])
        registry = by_mesh.get(mesh["name"]) if mesh.get("role", "primary") == "primary" else None
        held = None
        if registry is not None and "sidecars" in registry:
            held = dict(((c["namespace"], c["name"]), c["egress_hosts"]) for c in registry["sidecars"])
        for member in mesh["labelled_namespaces"]:
            ns = member["name"]
            expected = "Sidecar default with egress " + ", ".join(want)
            evidence = {"stored": stored.get((ns, "default")),
                        "held_by_istiod": (held or {}).get((ns, "default")) if held is not None else
                        _not_observed(mesh, registry)}
            problem, reason = None, None
            if (ns, "default") not in stored:
                problem = "no Sidecar default in " + ns
            elif stored[(ns, "default")] != want:
                problem = "its egress hosts are " + (", ".join(stored[(ns, "default")]) or "none")
            elif held is not None and held.get((ns, "default")) != want:
                problem = "istiod-{0} does not hold it as stored ({1})".format(
                    mesh["control_plane_revision"], ", ".join(held.get((ns, "default")) or ["not at all"]))
            elif registry is not None and held is None:
                # The istiod runs here: what it holds is the evidence, and it was not observed.
                problem = "stored; not observed by istiod-" + mesh["control_plane_revision"]
                reason = "inconclusive: " + evidence["held_by_istiod"]
            observed = problem or "stored" + (", held by istiod-" + mesh["control_plane_revision"] if held is not None else "")
            checks.append(check("sidecar scope " + ns, "scope", expected, observed, FAIL if problem else PASS, evidence,
                                reason or (problem and "proxies in {0} may receive other meshes' services".format(ns))))
    return checks


# ------------------------------------------------------------------ ingress gateway per mesh

def _template_labels(deployment):
    return ((((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})


def _gateway_problem(mesh, gateway, deployments, gateways):
    """Why the stored gateway of a mesh is not what the mesh needs, or None."""
    key = (gateway["namespace"], gateway["name"])
    mine = deployments.get(key)
    if mine is None:
        return "no Deployment {0}/{1}".format(*key)
    labels, notes = _template_labels(mine), (((mine.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "annotations") or {}
    if labels.get("istio.io/rev") != mesh["revision"] or notes.get("inject.istio.io/templates") != "gateway":
        return "its pods are not injected by {0} with the gateway template (istio.io/rev={1})".format(
            mesh["revision"], labels.get("istio.io/rev"))
    if not gateway["http_ports"]:
        return None
    if key not in gateways:
        return "no Gateway {0}/{1}".format(*key)
    selector = (gateways[key].get("spec") or {}).get("selector") or {}
    # An empty selector reaches every gateway (Istio's semantics), so it is caught as soon as there is another.
    reached = sorted("{0}/{1}".format(*k) for k, d in deployments.items()
                     if all(_template_labels(d).get(a) == b for a, b in selector.items()))
    if reached != ["{0}/{1}".format(*key)]:
        return "its Gateway selects the pods of " + (", ".join(reached) or "no Deployment")
    return None


def check_ingress_gateways(model, deployments, gateways, registries):
    """Per mesh with an ingress gateway here: its Deployment is injected by the mesh's revision with the gateway
    template, its Gateway selects those pods and no other gateway's, and the mesh's istiod, where it runs here, holds
    that Gateway while no other mesh's istiod does. deployments: gateway Deployments of the cluster (label istio);
    gateways: every Gateway object; registries: what multimesh.istio.istiod_registry returned."""
    def by_key(objs):
        return dict(((o["metadata"].get("namespace"), o["metadata"].get("name")), o) for o in objs or [])

    deployments, gateways = by_key(deployments), by_key(gateways)
    by_mesh = dict((r["name"], r) for r in registries or [])
    checks = []
    for mesh in model["meshes"]:
        gateway = mesh.get("ingress_gateway")
        if not gateway:
            continue
        key = (gateway["namespace"], gateway["name"])
        holders = sorted(r["name"] for r in registries or [] if key in set(
            (g["namespace"], g["name"]) for g in r.get("gateways") or []))
        asked = by_mesh.get(mesh["name"])
        observed_by_istiod = asked is not None and "gateways" in asked
        problem, reason = _gateway_problem(mesh, gateway, deployments, gateways), None
        if not problem and gateway["http_ports"] and observed_by_istiod and holders != [mesh["name"]]:
            problem = "held by the istiod of " + (", ".join(holders) or "no mesh")
        elif not problem and gateway["http_ports"] and asked is not None and not observed_by_istiod:
            # The istiod runs here: which istiods hold the Gateway is the evidence, and it was not observed.
            problem = "stored; not observed by istiod-" + mesh["control_plane_revision"]
            reason = "inconclusive: " + _not_observed(mesh, asked)
        evidence = {"deployment": "{0}/{1}".format(*key) if key in deployments else None,
                    "gateway_selector": (gateways.get(key, {}).get("spec") or {}).get("selector"),
                    "held_by": holders if observed_by_istiod else _not_observed(mesh, asked)}
        observed = problem or "injected by {0}, Gateway selects only it".format(mesh["revision"]) + (
            ", held by istiod-" + mesh["control_plane_revision"] + " alone" if observed_by_istiod and gateway["http_ports"] else "")
        checks.append(check("ingress gateway " + mesh["name"], "gateway",
                            "{0}/{1} injected by {2}, reached only by its own Gateway".format(
                                gateway["namespace"], gateway["name"], mesh["revision"]),
                            observed, FAIL if problem else PASS, evidence,
                            reason or (problem and "the mesh's ingress traffic may reach another mesh, or no gateway at all")))
    return checks


# ------------------------------------------------------------------ control-plane mapping

def _served_pods(mesh, pods, peer_pods):
    """(member namespaces, the sample pods the mesh's istiod here must serve) - an external istiod's are on the
    clusters it serves, as their hosts read them in this run (peer_pods) - or (None, why) when one was not read."""
    if mesh.get("role") != "external":
        # The mesh's ingress gateway is one of its proxies too.
        return set(m["name"] for m in mesh["labelled_namespaces"]), pods
    unread = [c for c in data_plane_clusters(mesh) if c not in (peer_pods or {})]
    if unread:
        return None, "cluster {0} is not in this run: its pods were not read".format(", ".join(unread))
    served = [p for c in data_plane_clusters(mesh) for p in peer_pods[c]]
    return set(mesh.get("member_names") or []), served


def check_mapping(model, proxies_by_mesh, pods, istioctl_reason=None, peer_pods=None):
    """Per mesh whose istiod runs here, proxy-status must list exactly the sample pods of its member namespaces, all
    in sync - for an external istiod, those of the clusters it serves (peer_pods: the sample pods their hosts read
    in this run). Without istioctl, or with a served cluster not in the run, the check is skipped with the reason -
    never passed."""
    checks = []
    for mesh in model["meshes"]:
        name = "control-plane mapping " + mesh["name"]
        if mesh.get("role", "primary") not in ("primary", "external"):  # proxy-status asks the istiod of this cluster
            continue
        members, pods_served = _served_pods(mesh, pods, peer_pods)
        if istioctl_reason or members is None:
            checks.append(check(name, "mapping", "proxy-status lists this mesh's workloads", "not run", SKIPPED,
                                reason=istioctl_reason or pods_served))
            continue
        want = sorted("{0}.{1}".format(p["metadata"]["name"], p["metadata"]["namespace"]) for p in pods_served
                      if p["metadata"].get("namespace") in members)
        listed = proxies_by_mesh.get(mesh["name"]) or []
        have = sorted(p["name"] for p in listed if p["namespace"] in members)
        foreign = sorted(p["name"] for p in listed if p["namespace"] not in members)
        missing = sorted(set(want) - set(have))
        unsynced = sorted(p["name"] for p in listed if p["synced"] is not True)
        problems = [text.format(mesh["name"], ", ".join(names)) for text, names in (
            ("istiod of {0} serves no proxy of {1}", missing), ("istiod of {0} serves {1} of other namespaces", foreign),
            ("not in sync: {1}", unsynced)) if names]
        checks.append(check(name, "mapping", "exactly {0} proxies, all SYNCED".format(len(want)),
                            "{0} listed, {1} missing, {2} foreign, {3} not synced".format(len(listed), len(missing), len(foreign), len(unsynced)),
                            FAIL if problems else PASS, {"missing": missing, "foreign": foreign, "not_synced": unsynced},
                            "; ".join(problems) or None))
    return checks
