# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Connectivity probes of the isolation verification: which namespace pairs to probe and what each must show,
and the judgement of one probe from what the probe engine returned."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_report import FAIL, PASS, check

# A denial counts only when the mesh denied: HTTP 503 from the client's sidecar, or the server's sidecar resetting
# the connection after it was made. Any other failure shows nothing about isolation.
_CURL_DENIED = {52: "empty reply (closed by the server's sidecar)", 56: "connection reset (by the server's sidecar)"}
_CURL_EXITS = {6: "could not resolve the host", 7: "connection refused or unroutable", 28: "timed out",
               35: "TLS handshake failed", 47: "too many redirects"}


def probe_pairs(model, client="curl", server="httpbin"):
    """Every (client namespace, server namespace) pair among members that run the client and the server sample,
    with what must happen: allow inside a mesh, deny across meshes; and each mesh's ingress gateway from its clients."""
    hosts = []
    for mesh in model["meshes"]:
        for member in mesh["members"]:
            clients = [s for s in ("curl", "sleep") if s in mesh["samples"]]
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
    # From inside each mesh through its own ingress gateway, which routes to the mesh's first httpbin.
    for mesh in model["meshes"]:
        gateway = mesh.get("ingress_gateway")
        if not gateway or not gateway["http_ports"] or server not in mesh["samples"] or not mesh["members"]:
            continue
        for client_mesh, client_ns, dummy, clients in hosts:
            if client_mesh == mesh["name"] and clients:
                pairs.append({"client_mesh": client_mesh, "client_namespace": client_ns, "client": clients[0],
                              "server_mesh": mesh["name"], "server_namespace": gateway["namespace"],
                              "url": "http://{0}.{1}.svc.cluster.local:{2}/get".format(
                                  gateway["name"], gateway["namespace"], gateway["http_ports"][0]),
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
    evidence = dict((key, probe.get(key)) for key in ("url", "pod", "rc", "http_code", "elapsed"))
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
