# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Does the cluster already hold what a rendered manifest describes? Every field the manifest sets must be present
with the same value in the live object; fields the API server or istiod add (defaults, status, caBundle) are not
differences. Pure functions over dicts so that the decision is unit-tested without a cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.multimesh.istio.plugins.module_utils.names import object_label

# Written at run time by istiod, not by the installer: never a reason to reinstall.
_RUNTIME_FIELDS = {
    "MutatingWebhookConfiguration": ("caBundle",),
    # istiod switches the validating webhook from Ignore to Fail once it serves (see the istiod chart).
    "ValidatingWebhookConfiguration": ("caBundle", "failurePolicy"),
}
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30,
           "Ti": 2 ** 40}


def _quantity(value):
    match = _QUANTITY.match(str(value))
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def _same_scalar(want, have):
    if want == have or str(want) == str(have):
        return True
    if isinstance(want, bool) or isinstance(have, bool):
        return False
    want_q, have_q = _quantity(want), _quantity(have)
    return want_q is not None and want_q == have_q


def _empty(value):
    return value is None or value == {} or value == [] or value == ""


def mismatches(want, have, ignored=(), path=""):
    """(path, rendered value, live value) wherever `have` (live) does not hold what `want` (rendered) sets."""
    if want is None or (want == {} and (have is None or isinstance(have, dict))):
        return []
    if _empty(want):
        return [] if _empty(have) else [(path or ".", want, have)]
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [(path or ".", want, have)]
        out = []
        for key, value in want.items():
            if key in ignored:
                continue
            out += mismatches(value, have.get(key), ignored, "{0}.{1}".format(path, key) if path else key)
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [(path, want, have)]
        out = []
        for index, (value, live) in enumerate(zip(want, have)):
            out += mismatches(value, live, ignored, "{0}[{1}]".format(path, index))
        return out
    return [] if _same_scalar(want, have) else [(path, want, have)]


def identity(obj):
    meta = obj.get("metadata") or {}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name"),
            "namespace": meta.get("namespace")}


def differences(rendered, get_live):
    """[{kind, namespace, name, reason, paths, values}] for rendered objects the cluster lacks or holds differently;
    values: {path: {cluster, rendered}} of the first 20 differing fields. get_live(identity) returns the live object
    or None."""
    out = []
    for obj in rendered:
        ident = identity(obj)
        live = get_live(ident)
        entry = {"kind": ident["kind"], "namespace": ident["namespace"], "name": ident["name"]}
        if live is None:
            out.append(dict(entry, reason="missing", paths=[]))
            continue
        want = {key: value for key, value in obj.items() if key != "status"}
        found = mismatches(want, live, _RUNTIME_FIELDS.get(ident["kind"], ()))[:20]
        if found:
            out.append(dict(entry, reason="differs", paths=[path for path, dummy, dummy2 in found],
                            values=dict((path, {"cluster": have, "rendered": value}) for path, value, have in found)))
    return out


def label(entry):
    return object_label(entry["kind"], entry.get("namespace"), entry["name"])
