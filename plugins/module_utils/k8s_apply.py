# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Turn the result of one kubernetes.core.k8s run over many objects into per-object results and readable diffs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

AUTH_OPTIONS = ("kubeconfig", "context", "host", "api_key", "username", "password", "client_cert", "client_key",
                "ca_cert", "validate_certs", "proxy", "no_proxy", "impersonate_user", "impersonate_groups")
# Written by the API server, not by us: they would make every diff noisy.
_SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


def per_object_results(k8s_result):
    """[{kind, name, namespace, changed, diff}] whether the run applied one object or several."""
    nested = (k8s_result.get("result") or {}).get("results") if isinstance(k8s_result.get("result"), dict) else None
    items = nested if nested is not None else [k8s_result]
    out = []
    for item in items:
        obj = item.get("result") or {}
        meta = obj.get("metadata") or {}
        out.append({"kind": obj.get("kind"), "name": meta.get("name"), "namespace": meta.get("namespace"),
                    "changed": bool(item.get("changed")), "diff": item.get("diff")})
    return out


def _clean(obj):
    if not isinstance(obj, dict):
        return obj
    obj = json.loads(json.dumps(obj))
    meta = obj.get("metadata") or {}
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    if "metadata" in obj and not meta:
        del obj["metadata"]
    obj.pop("status", None)
    return obj


def _yaml(obj):
    import yaml  # runs on the controller only

    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True) if obj else ""


def object_diffs(results):
    """Ansible diff entries (before/after as YAML) for the objects that changed."""
    diffs = []
    for item in results:
        diff = item.get("diff") or {}
        if not item["changed"] or not isinstance(diff, dict):
            continue
        label = "{0} {1}{2}".format(item["kind"], item["namespace"] + "/" if item["namespace"] else "", item["name"])
        before, after = _yaml(_clean(diff.get("before"))), _yaml(_clean(diff.get("after")))
        if before != after:
            diffs.append({"before": before, "after": after, "before_header": label, "after_header": label})
    return diffs
