# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Ask an istiod what it discovers: its debug endpoint /debug/registryz on the monitoring port (15014), reached by a
port-forward to the istiod pod. istiod serves its debug endpoints unauthenticated only to requests from localhost,
which is where a port-forward's connections come from inside the pod."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

MONITORING_PORT = 15014
REGISTRY_PATH = "/debug/registryz"
CONFIG_PATH = "/debug/configz"


def http_request(path):
    return "GET {0} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".format(path).encode()


def _headers(head):
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, dummy, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _dechunk(body):
    """(decoded body, whether the last chunk was seen) of a chunked transfer encoding."""
    out, rest = b"", body
    while True:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            return out, False
        try:
            size = int(size_line.split(b";")[0].strip() or b"x", 16)
        except ValueError:
            return out, False
        if size == 0:
            return out, True
        if len(rest) < size + 2:
            return out, False
        out, rest = out + rest[:size], rest[size + 2:]


def response_complete(raw):
    """Whether raw holds a whole HTTP/1.1 response (by Content-Length or the last chunk)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    headers = _headers(head)
    if "chunked" in headers.get("transfer-encoding", ""):
        return _dechunk(body)[1]
    if headers.get("content-length", "").isdigit():
        return len(body) >= int(headers["content-length"])
    return False


def parse_response(raw):
    """(status code, body) of a raw HTTP/1.x response; (None, reason) when it is not one."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return None, "not an HTTP response: {0!r}".format(raw[:80])
    if "chunked" in _headers(head).get("transfer-encoding", ""):
        body = _dechunk(body)[0]
    return int(parts[1]), body.decode("utf-8", "replace")


def registry_services(body):
    """[{hostname, namespace, name}] of /debug/registryz (a JSON list of istiod's model.Service)."""
    services = []
    for item in json.loads(body) or []:
        attributes = item.get("Attributes") or item.get("attributes") or {}
        hostname = item.get("hostname") or ""
        namespace = attributes.get("Namespace") or attributes.get("namespace")
        if not namespace and ".svc." in hostname:
            namespace = hostname.split(".")[1]
        services.append({"hostname": hostname, "namespace": namespace,
                         "name": attributes.get("Name") or attributes.get("name") or hostname.split(".")[0]})
    return sorted(services, key=lambda s: (s["namespace"] or "", s["hostname"]))


def sidecar_egress_hosts(sidecar):
    """The egress hosts of a Sidecar object (stored, or as istiod holds it), sorted."""
    return sorted(h for e in (sidecar.get("spec") or {}).get("egress") or [] for h in e.get("hosts") or [])


def _gateway_selector(gateway):
    return (gateway.get("spec") or {}).get("selector") or {}


# What the checks read of each kind istiod holds, besides its namespace and name.
_HELD = {"Sidecar": ("sidecars", "egress_hosts", sidecar_egress_hosts),
         "Gateway": ("gateways", "selector", _gateway_selector)}


def held_config(body):
    """{sidecars: [{namespace, name, egress_hosts}], gateways: [{namespace, name, selector}]} of /debug/configz (the
    configuration istiod holds and pushes to its proxies), each sorted; the body is parsed once."""
    held = dict((key, []) for key, dummy, dummy2 in _HELD.values())
    for item in json.loads(body) or []:
        if item.get("kind") not in _HELD:
            continue
        key, detail, read = _HELD[item["kind"]]
        meta = item.get("metadata") or {}
        held[key].append({"namespace": meta.get("namespace"), "name": meta.get("name"), detail: read(item)})
    return dict((key, sorted(objs, key=lambda o: (o["namespace"] or "", o["name"] or ""))) for key, objs in held.items())


def config_sidecars(body):
    """The Sidecars of held_config."""
    return held_config(body)["sidecars"]


def config_gateways(body):
    """The Gateways of held_config."""
    return held_config(body)["gateways"]


def istiod_pod(pods, revision):
    """Name of the first running istiod pod of a revision among `pods` (V1Pod objects), or None."""
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        labels = pod.metadata.labels or {}
        if (labels.get("app") == "istiod" and (labels.get("istio.io/rev") or "default") == revision
                and pod.status.phase == "Running" and not pod.metadata.deletion_timestamp):
            return pod.metadata.name
    return None
