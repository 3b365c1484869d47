# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Group objects into stable render files and split cluster objects from istioctl inputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.multimesh.istio.plugins.module_utils.ownership import FIELD_MANAGER


# IstioOperator is istioctl's input format, not a cluster resource since Istio 1.24.
ISTIOCTL_KINDS = ("IstioOperator",)


def _object(item):
    if not isinstance(item, dict) or "object" not in item or "group" not in item:
        raise ValueError("each item must be a mapping with 'group' and 'object', got {0!r}".format(item))
    obj = item["object"]
    if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
        raise ValueError("object in group {0!r} lacks apiVersion or kind".format(item["group"]))
    return obj


def split_objects(items):
    """Return (cluster objects, istioctl inputs), each in the given order."""
    kube, istioctl = [], []
    for item in items:
        obj = _object(item)
        (istioctl if obj["kind"] in ISTIOCTL_KINDS else kube).append(obj)
    return kube, istioctl


def to_yaml_documents(objects):
    """Multi-document YAML with sorted keys, so the same objects always give the same bytes."""
    import yaml  # only the controller renders; keep the import out of module start-up

    # libyaml's emitter when PyYAML has it (the pure-Python one took ~4 ms an object: most of a large render).
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # Plain str/dict/list copies: drop Ansible's tagged string subclasses before dumping.
    plain = json.loads(json.dumps(list(objects)))
    return "".join("---\n" + yaml.dump(obj, Dumper=dumper, default_flow_style=False, sort_keys=True)
                   for obj in plain)


def manifest_files(items, stage):
    """[{path, content, count}] grouped by item 'group'; istioctl inputs go under istioctl/."""
    files = {}
    order = []
    for item in items:
        obj = _object(item)
        prefix = "istioctl/" if obj["kind"] in ISTIOCTL_KINDS else ""
        path = "{0}{1}-{2}.yaml".format(prefix, stage, item["group"])
        if path not in files:
            files[path] = []
            order.append(path)
        files[path].append(obj)
    return [{"path": path, "content": to_yaml_documents(files[path]), "count": len(files[path])} for path in order]


def managed_fields(obj, manager):
    """The fieldsV1 of each managedFields entry of the field manager (one per operation: Apply, Update)."""
    return [entry.get("fieldsV1") or {} for entry in (obj.get("metadata") or {}).get("managedFields") or []
            if entry.get("manager") == manager]


def labels_owned_by(obj, manager=FIELD_MANAGER, label=None):
    """True when the field manager owns any label of obj (or the given label), per its managedFields."""
    for fields in managed_fields(obj, manager):
        labels = (fields.get("f:metadata") or {}).get("f:labels") or {}
        if labels and (label is None or "f:" + label in labels):
            return True
    return False


def removal_plan(items, owned_namespaces=()):
    """What removing built items means: {delete: [...], strip: [...]}.

    Objects are deleted in reverse order of creation. Namespaces are deleted only when owned; the others get a
    stub with which server-side apply drops the fields this collection set, leaving everything else alone.
    """
    kube = split_objects(items)[0]
    delete, strip = [], []
    for obj in reversed(kube):
        if obj["kind"] != "Namespace":
            delete.append({"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": dict(
                (k, v) for k, v in obj["metadata"].items() if k in ("name", "namespace"))})
    for obj in kube:
        if obj["kind"] == "Namespace":
            stub = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": obj["metadata"]["name"]}}
            (delete if obj["metadata"]["name"] in owned_namespaces else strip).append(stub)
    return {"delete": delete, "strip": strip}
