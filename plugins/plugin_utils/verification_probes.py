# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Connectivity probes of the isolation verification: which namespace pairs to probe and what each must show,
and the judgement of one probe from what the probe engine returned."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.multimesh.istio.plugins.plugin_utils.sample_objects import gateway_target
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_report import FAIL, PASS, SKIPPED, check

# A denial counts only when the mesh denied: HTTP 503 from the client's sidecar, or the server's sidecar resetting
# the connection after it was made. Any other failure shows nothing about isolation.
_CURL_DENIED = {52: "empty reply (closed by the server's sidecar)", 56: "connection reset (by the server's sidecar)"}
_CURL_EXITS = {6: "could not resolve the host", 7: "connection refused or unroutable", 28: "timed out",
               35: "TLS handshake failed", 47: "too many redirects"}


def probe_pairs(model, client="curl", server="httpbin"):
    """Every (client namespace, server namespace) pair among members that run the client and the server sample,
    with what must happen: allow inside a mesh, deny across meshes; each mesh's ingress gateway from its clients; and
    across the clusters of each multicluster mesh (spread_pairs). Each pair names the cluster it runs from and the
    clusters it may reach."""
    here = model["cluster"]["name"]
    reach = dict((mesh["name"], data_plane_clusters(mesh) or [here]) for mesh in model["meshes"])
    return [dict(pair, from_cluster=here, to_clusters=pair.get("to_clusters") or reach[pair["server_mesh"]])
            for pair in _cluster_pairs(model, server) + spread_pairs(model)]


def client_samples(mesh):
    """The samples of a mesh that can probe (curl first), in the order a client is picked."""
    return [s for s in ("curl", "sleep") if s in mesh["samples"]]


def data_plane_clusters(mesh):
    """The clusters where a multicluster mesh's workloads run (every role but external), in the inventory's order."""
    return [p["cluster"] for p in mesh.get("placements") or [] if p["role"] != "external"]


# Requests of a spread probe per other cluster: each answer comes from any of the mesh's helloworld pods.
SPREAD_REQUESTS = 10


def spread_pairs(model):
    """For each multicluster mesh with helloworld, from each of its member namespaces here with a client: helloworld
    asked several times through the mesh - the pods of every other cluster of the mesh must be among those that
    answer (the seeds' v1/v2 check, by pod)."""
    here = model["cluster"]["name"]
    pairs = []
    for mesh in model["meshes"]:
        others = [c for c in data_plane_clusters(mesh) if c != here]
        clients = client_samples(mesh)
        if not (mesh.get("multicluster") and others and clients and "helloworld" in mesh["samples"]):
            continue
        for member in mesh["members"]:
            pairs.append({"client_mesh": mesh["name"], "client_namespace": member["name"], "client": clients[0],
                          "server_mesh": mesh["name"], "server_namespace": member["name"],
                          "url": "http://helloworld.{0}.svc.cluster.local:5000/hello".format(member["name"]),
                          "expect": "spread", "repeat": SPREAD_REQUESTS * len(others), "to_clusters": others})
    return pairs


def _cluster_pairs(model, server):
    """The pairs of probe_pairs within what this cluster runs."""
    hosts = []
    for mesh in model["meshes"]:
        for member in mesh["members"]:
            clients = client_samples(mesh)
            hosts.append((mesh["name"], member["name"], mesh["samples"], clients))
    pairs = []
    for client_mesh, client_ns, dummy, clients in hosts:
        if not clients:
            continue
        for server_mesh, server_ns, server_samples, dummy2 in hosts:
            if server not in server_samples:
                continue
            pairs.append({"client_mesh": client_mesh, "client_namespace": client_ns, "client": clients[0],
                          "server_mesh": server_mesh, "server_namespace": server_ns,
                          "url": "http://{0}.{1}.svc.cluster.local:8000/get".format(server, server_ns),
                          "expect": "allow" if client_mesh == server_mesh else "deny"})
    # From inside each mesh through its own ingress gateway, which routes to the mesh's first httpbin (or helloworld).
    for mesh in model["meshes"]:
        target = gateway_target(mesh)
        if not target:
            continue
        gateway = mesh["ingress_gateway"]
        for client_mesh, client_ns, dummy, clients in hosts:
            if client_mesh == mesh["name"] and clients:
                pairs.append({"client_mesh": client_mesh, "client_namespace": client_ns, "client": clients[0],
                              "server_mesh": mesh["name"], "server_namespace": gateway["namespace"],
                              "url": "http://{0}.{1}.svc.cluster.local:{2}{3}".format(
                                  gateway["name"], gateway["namespace"], gateway["http_ports"][0], target[2] or "/get"),
                              "expect": "allow"})
    return pairs


def _curl_exit(rc):
    return "curl exit {0} ({1})".format(rc, _CURL_EXITS.get(rc) or _CURL_DENIED.get(rc) or "see curl's exit codes")


def evaluate_probe(probe):
    """One probe's check, from what the probe engine returned (rc, http_code, elapsed, error). Inside a mesh only
    HTTP 200 passes; across meshes only a denial by the mesh does (503, or a reset/empty reply after connecting).
    A name that does not resolve, a refused connection, a timeout or an exec that failed is inconclusive: a fail
    that names what happened, never a pass."""
    name = "connectivity {0} -> {1}".format(probe["client_namespace"], probe["server_namespace"])
    allow = probe["expect"] == "allow"
    expected = "HTTP 200" if allow else "denied by the mesh (HTTP 503, or reset after connecting: curl exit 52/56)"
    evidence = dict((key, probe.get(key)) for key in ("url", "pod", "rc", "http_code", "elapsed", "from_cluster", "to_clusters"))
    if probe.get("rc") is None:
        return check(name, "connectivity", expected, "not probed", FAIL, evidence,
                     "inconclusive: " + (probe.get("error") or "the probe returned nothing"))
    rc, code = int(probe["rc"]), str(probe.get("http_code") or "000")
    if rc == 0 and code != "000":
        observed = "HTTP " + code
        if allow:
            return check(name, "connectivity", expected, observed, PASS if code == "200" else FAIL, evidence)
        if code == "503":
            return check(name, "connectivity", expected, observed, PASS, evidence)
        return check(name, "connectivity", expected, observed, FAIL, evidence,
                     "a request across meshes was answered" if code.startswith("2") else None)
    observed = _curl_exit(rc)
    if rc in _CURL_DENIED:
        return check(name, "connectivity", expected, observed, FAIL if allow else PASS, evidence)
    return check(name, "connectivity", expected, observed, FAIL, evidence,
                 "inconclusive: {0}, so neither reachability nor isolation was observed".format(observed))


# helloworld names the pod that answered: "Hello version: v1, instance: helloworld-v1-5d4c8f7b9-x2x7q".
_INSTANCE = re.compile(r"instance: ([a-z0-9][-a-z0-9.]*)")


def evaluate_spread(probe, peer_pods):
    """The checks of one spread probe (spread_pairs): one per other cluster of the mesh - some answer came from its
    helloworld pods in the namespace. peer_pods: {cluster name: [pods]} the other clusters' hosts read in this run; a
    cluster absent was not read (not in the run: skipped, never passed). No answer at all is inconclusive."""
    ns, here = probe["server_namespace"], probe.get("from_cluster")
    answers = probe.get("answers") or []
    instances = sorted(set(m.group(1) for a in answers for m in [_INSTANCE.search(a.get("body") or "")] if m))
    checks = []
    for cluster in probe.get("to_clusters") or []:
        name = "cross-cluster {0}: {1} -> {2}".format(ns, here, cluster)
        expected = "helloworld of {0} on {1} answers a client on {2}".format(ns, cluster, here)
        evidence = {"url": probe.get("url"), "pod": probe.get("pod"), "from_cluster": here, "to_clusters": [cluster],
                    "answered_by": instances, "requests": len(answers)}
        if cluster not in (peer_pods or {}):
            checks.append(check(name, "cross-cluster", expected, "not observed", SKIPPED, evidence,
                                "cluster {0} is not in this run: its pods were not read".format(cluster)))
            continue
        theirs = sorted((p.get("metadata") or {}).get("name") for p in peer_pods[cluster]
                        if (p.get("metadata") or {}).get("namespace") == ns
                        and ((p.get("metadata") or {}).get("labels") or {}).get("app") == "helloworld")
        evidence["their_pods"] = theirs
        from_them = [i for i in instances if i in theirs]
        if from_them:
            checks.append(check(name, "cross-cluster", expected, "answered by " + ", ".join(from_them), PASS, evidence))
        elif not theirs:
            checks.append(check(name, "cross-cluster", expected, "no helloworld pod there", FAIL, evidence,
                                "nothing on {0} could answer".format(cluster)))
        elif not instances:
            rc = probe.get("rc")
            observed = "not probed" if rc is None else "no answer (" + _curl_exit(int(rc)) + ")"
            checks.append(check(name, "cross-cluster", expected, observed, FAIL, evidence, "inconclusive: " + (
                probe.get("error") or "no request was answered, so nothing was observed across clusters")))
        else:
            checks.append(check(name, "cross-cluster", expected, "answered only by " + ", ".join(instances), FAIL,
                                evidence, "no answer came from {0}: traffic does not cross to it".format(cluster)))
    return checks
