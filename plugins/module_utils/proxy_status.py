# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Parse `istioctl proxy-status` output, JSON or any of its table layouts, into one list of proxies:
[{name, pod, namespace, cluster, istiod, revision, version, states{CDS: SYNCED, ...}, subscribed, synced}]."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

_SHORT_TYPES = {
    "envoy.config.cluster.v3.Cluster": "CDS",
    "envoy.config.listener.v3.Listener": "LDS",
    "envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    "envoy.config.route.v3.RouteConfiguration": "RDS",
    "envoy.config.core.v3.TypedExtensionConfig": "ECDS",
    "envoy.extensions.transport_sockets.tls.v3.Secret": "SDS",
}
_FAILED = ("STALE", "ERROR")
_COLUMN_SPLIT = re.compile(r"\s{2,}")
_ISTIOD_POD = re.compile(r"^istiod(?:-(?P<rev>.+?))?-[a-z0-9]{5,10}-[a-z0-9]{5}$")


class ProxyStatusError(ValueError):
    pass


def normalise_state(text):
    """SYNCED (5m) -> SYNCED, NOT SENT -> NOT_SENT, UNKNOWN -> IGNORED; anything else upper-cased."""
    word = (text or "").split(" (", 1)[0].strip().upper().replace(" ", "_")
    return {"": "IGNORED", "UNKNOWN": "IGNORED"}.get(word, word)


def revision_of_istiod(istiod):
    """The revision in an istiod pod name (istiod-<rev>-<replicaset>-<pod>); 'default' for plain istiod."""
    match = _ISTIOD_POD.match(istiod or "")
    if not match:
        return None
    return match.group("rev") or "default"


def _synced(states):
    if not states:
        return None
    return not any(state in _FAILED for state in states.values()) and "SYNCED" in states.values()


def _proxy(name, namespace, cluster, istiod, version, states, subscribed, revision=None):
    pod, _sep, ns_from_name = name.rpartition(".")
    return {"name": name, "pod": pod or name, "namespace": namespace or ns_from_name, "cluster": cluster,
            "istiod": istiod, "revision": revision or revision_of_istiod(istiod), "version": version,
            "states": states, "subscribed": subscribed, "synced": _synced(states)}


def _json_documents(text):
    decoder, index, docs = json.JSONDecoder(), 0, []
    text = text.strip()
    while index < len(text):
        try:
            doc, end = decoder.raw_decode(text, index)
        except ValueError as exc:
            raise ProxyStatusError("proxy-status JSON cannot be parsed at character {0}: {1}".format(index, exc))
        docs.append(doc)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
    return docs


def parse_json(text):
    proxies = []
    for doc in _json_documents(text):
        if not isinstance(doc, dict):
            raise ProxyStatusError("proxy-status JSON: expected one object per istiod, got {0}".format(type(doc).__name__))
        try:
            istiod = json.loads((doc.get("controlPlane") or {}).get("identifier") or "{}").get("ID")
        except ValueError:
            istiod = None
        for resource in doc.get("resources") or []:
            node = resource.get("node") or {}
            meta = node.get("metadata") or {}
            states, subscribed = {}, []
            for config in resource.get("genericXdsConfigs") or []:
                short = _SHORT_TYPES.get((config.get("typeUrl") or "").rsplit("/", 1)[-1], config.get("typeUrl"))
                states[short] = normalise_state(config.get("configStatus"))
                if states[short] != "IGNORED":
                    subscribed.append(short)
            labels = meta.get("LABELS") or {}
            proxies.append(_proxy(node.get("id") or "", meta.get("NAMESPACE"), meta.get("CLUSTER_ID"), istiod,
                                  meta.get("ISTIO_VERSION"), states, subscribed, labels.get("istio.io/rev")))
    return sorted(proxies, key=lambda p: p["name"])


def parse_table(text):
    """Every layout istioctl has printed: fixed CDS..ECDS columns (<= 1.27), SUBSCRIBED TYPES (>= 1.28) and the
    per-type columns of --verbosity 1 (>= 1.28). tabwriter pads columns with at least two spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = _COLUMN_SPLIT.split(lines[0].strip())
    if header[:2] != ["NAME", "CLUSTER"] or "ISTIOD" not in header:
        raise ProxyStatusError("proxy-status table has an unknown header: {0!r}".format(lines[0][:200]))
    proxies = []
    for line in lines[1:]:
        cells = _COLUMN_SPLIT.split(line.strip())
        if len(cells) != len(header):
            raise ProxyStatusError("proxy-status table row does not match its header: {0!r}".format(line[:200]))
        row = dict(zip(header, cells))
        states, subscribed = {}, []
        if "SUBSCRIBED TYPES" in row:
            match = re.match(r"^\d+(?: \((?P<types>[^)]*)\))?$", row["SUBSCRIBED TYPES"])
            if not match:
                raise ProxyStatusError("proxy-status: cannot read SUBSCRIBED TYPES {0!r}".format(row["SUBSCRIBED TYPES"]))
            subscribed = [t for t in (match.group("types") or "").split(",") if t]
        else:
            for column in header[2:]:
                if column not in ("ISTIOD", "VERSION"):
                    states[column] = normalise_state(row[column])
            subscribed = [t for t, s in states.items() if s != "IGNORED"]
        proxies.append(_proxy(row["NAME"], None, row["CLUSTER"], row["ISTIOD"], row.get("VERSION"), states, subscribed))
    return sorted(proxies, key=lambda p: p["name"])


def parse(text, output):
    text = text or ""
    if output == "json":
        return parse_json(text)
    return parse_table(text)


def summary(proxies):
    return {"total": len(proxies), "synced": sum(1 for p in proxies if p["synced"] is True),
            "not_synced": sorted(p["name"] for p in proxies if p["synced"] is False),
            "unknown": sorted(p["name"] for p in proxies if p["synced"] is None)}
