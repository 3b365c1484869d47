# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""istioctl_install: decide from the rendered manifest and the cluster whether to install, uninstall or do nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.multimesh.istio.plugins.module_utils.istioctl import IstioctlError, version_text
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import SERVER_METADATA, connect_module, ref
from ansible_collections.multimesh.istio.plugins.module_utils.manifest_compare import differences, label
from ansible_collections.multimesh.istio.plugins.module_utils.names import is_dns1123_label
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import OWNER_LABEL

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

OWNER_NAMESPACE_LABEL = "install.operator.istio.io/owning-resource-namespace"
OWNER_NAME_LABEL = "install.operator.istio.io/owning-resource"
COMPONENT_LABEL = "operator.istio.io/component"
# What `istioctl uninstall --revision` removes, by kind (a subset is enough to know whether the revision is there).
_INSTALLED_KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "ServiceAccount"),
                    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
                    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"))
_WEBHOOK_API = "admissionregistration.k8s.io/v1"
# Why the default revision's install may delete and restore webhooks without this collection's marks.
_DEFAULT_TAG = "istioctl's default revision tag and validator: one per cluster, made unmarked by istioctl"


def load_operator(params):
    """The IstioOperator to act on, with spec.revision, metadata.namespace and global.istioNamespace settled."""
    if params.get("src"):
        try:
            with open(params["src"]) as handle:
                docs = [doc for doc in yaml.safe_load_all(handle) if doc]
        except (IOError, OSError, yaml.YAMLError) as exc:
            raise IstioctlError("src: cannot read {0}: {1}. Fix: point src at a readable IstioOperator YAML file.".format(params["src"], exc))
        if len(docs) != 1:
            raise IstioctlError("src: {0} holds {1} documents. Fix: keep exactly one IstioOperator in it.".format(params["src"], len(docs)))
        iop = docs[0]
    else:
        iop = copy.deepcopy(params.get("istio_operator") or {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator"})
    revision = params["revision"]
    if not is_dns1123_label(revision or ""):
        raise IstioctlError("revision: {0!r} is not a DNS-1123 label. Fix: use lowercase letters, digits and '-'.".format(revision))
    if not isinstance(iop, dict) or iop.get("kind") != "IstioOperator":
        raise IstioctlError("istio_operator: kind must be IstioOperator. Fix: pass an IstioOperator (apiVersion "
                            "install.istio.io/v1alpha1).")
    spec = iop.setdefault("spec", {}) or {}
    iop["spec"] = spec
    if spec.get("revision") not in (None, "", revision):
        raise IstioctlError("istio_operator.spec.revision: {0!r} differs from revision {1!r}. Fix: make them equal or "
                            "drop spec.revision.".format(spec["revision"], revision))
    spec["revision"] = revision
    glob = spec.setdefault("values", {}).setdefault("global", {})
    metadata = iop.setdefault("metadata", {})
    namespace = params.get("istio_namespace") or glob.get("istioNamespace") or metadata.get("namespace") or "istio-system"
    if glob.get("istioNamespace") not in (None, namespace):
        raise IstioctlError("istio_namespace: {0!r} differs from spec.values.global.istioNamespace {1!r}. Fix: make them "
                            "equal.".format(namespace, glob["istioNamespace"]))
    glob["istioNamespace"] = namespace
    # istioctl labels what it installs with the IstioOperator's namespace, and uninstall selects on that label.
    metadata.setdefault("namespace", namespace)
    owner = params.get("owner")
    if owner:
        # Which inventory installed the revision: istiod's Deployment carries the owner label (the istiod chart's
        # pilot.deploymentLabels), and state=absent uninstalls only a revision whose istiod carries this owner.
        deployment_labels = spec["values"].setdefault("pilot", {}).setdefault("deploymentLabels", {})
        if deployment_labels.get(OWNER_LABEL) not in (None, owner):
            raise IstioctlError("istio_operator.spec.values.pilot.deploymentLabels: {0}={1!r} differs from owner {2!r}. Fix: "
                                "drop that label, owner sets it.".format(OWNER_LABEL, deployment_labels[OWNER_LABEL], owner))
        deployment_labels[OWNER_LABEL] = owner
    return iop, namespace


def _set_args(params):
    args = []
    for key, value in (params.get("set") or {}).items():
        if isinstance(value, bool):
            value = str(value).lower()
        args += ["--set", "{0}={1}".format(key, value)]
    return args


def _diff_text(entries, verb):
    return "".join("{0} {1}{2}\n".format(verb, label(e), (": " + ", ".join(e["paths"])) if e.get("paths") else "")
                   for e in entries)


def _install_diffs(entries, revision):
    """One diff per object that differs, before/after of each differing field (as kubernetes.core.k8s shows them),
    and one listing what the install creates."""
    diffs = []
    for entry in entries:
        if entry.get("values"):
            fields = sorted(entry["values"].items())
            diffs.append({"before_header": label(entry) + " (cluster)",
                          "after_header": label(entry) + " (istioctl manifest generate, revision {0})".format(revision),
                          "before": _yaml(dict((path, value["cluster"]) for path, value in fields)),
                          "after": _yaml(dict((path, value["rendered"]) for path, value in fields))})
    created = [e for e in entries if not e.get("values")]
    if created:
        diffs.append({"before_header": "cluster", "after_header": "istioctl install (revision {0})".format(revision),
                      "before": "", "after": _diff_text(created, "install:")})
    return diffs


def _yaml(data):
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True)


def _shared(obj):
    """Cluster-wide objects every revision installs (the CRDs of the base component): the last install labels them
    with its own owner, so their owner labels say nothing about this revision."""
    meta = obj.get("metadata") or {}
    return obj.get("kind") == "CustomResourceDefinition" or (
        not meta.get("namespace") and (meta.get("labels") or {}).get(COMPONENT_LABEL) == "Base")


def owner_labels(objects, iop):
    """Label the rendered objects as `istioctl install` labels them before applying (its getOwnerLabels), so that
    the comparison expects what install writes, not the placeholder `manifest generate` prints."""
    meta = iop.get("metadata") or {}
    labels = {"istio.io/rev": iop["spec"]["revision"]}
    if meta.get("name"):
        labels[OWNER_NAME_LABEL] = meta["name"]
    if meta.get("namespace"):
        labels[OWNER_NAMESPACE_LABEL] = meta["namespace"]
    for obj in objects:
        obj_labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        if obj.get("kind") == "ValidatingWebhookConfiguration" and obj["metadata"].get("name") == "istiod-default-validator":
            # Two writers: the base chart and, right after, the default tag istioctl generates, each with its own
            # chart labels. Which revision it points at is what matters.
            obj["metadata"]["labels"] = {"istio.io/rev": obj_labels.get("istio.io/rev")}
        elif _shared(obj):
            for key in list(labels) + [OWNER_NAME_LABEL]:
                obj_labels.pop(key, None)
        else:
            obj_labels.update(labels)
    return objects


def default_webhooks(cluster, revision=None):
    """Default revision tags (MutatingWebhookConfigurations labelled istio.io/tag=default) and the default validator,
    as [(kind, name, revision they point at)]; only those pointing at `revision` when it is given."""
    found = [("MutatingWebhookConfiguration", obj["metadata"]["name"], (obj["metadata"].get("labels") or {}).get("istio.io/rev"))
             for obj in cluster.list(_WEBHOOK_API, "MutatingWebhookConfiguration", "istio.io/tag=default")]
    validator = cluster.get(ref(_WEBHOOK_API, "ValidatingWebhookConfiguration", "istiod-default-validator"))
    if validator:
        found.append(("ValidatingWebhookConfiguration", "istiod-default-validator",
                      (validator["metadata"].get("labels") or {}).get("istio.io/rev")))
    return [hook for hook in found if revision is None or hook[2] == revision]


def _hook_entry(hook, reason):
    return {"kind": hook[0], "namespace": None, "name": hook[1], "reason": reason, "paths": []}


def _default_revision_plan(cluster, revision, wanted):
    """(webhooks to delete, whether istioctl install must run to create this revision's default tag).
    wanted=True: this revision is the default, so tags of other revisions go and its own tag must exist (istioctl
    install creates it when no default tag exists). wanted=False: nothing default may point at this revision."""
    hooks = default_webhooks(cluster)
    if wanted is None:
        return [], False
    if wanted:
        foreign = [h for h in hooks if h[0] == "MutatingWebhookConfiguration" and h[2] != revision]
        own_tag = [h for h in hooks if h[0] == "MutatingWebhookConfiguration" and h[2] == revision]
        return foreign, not own_tag
    return [h for h in hooks if h[2] == revision], False


# A running istiod patches its webhooks (their caBundle) right after it starts: a delete of the webhook as read may
# meet a newer one (409 Conflict). It is read again, and deleted while it still points at the same revision.
_DELETE_ATTEMPTS = 5


def _delete_webhooks(cluster, hooks):
    """Delete the webhooks; returns them as they were, so that a failed install can put them back."""
    saved = []
    for kind, name, revision in hooks:
        for attempt in range(_DELETE_ATTEMPTS):
            live = cluster.get(ref(_WEBHOOK_API, kind, name))
            if not live or (live["metadata"].get("labels") or {}).get("istio.io/rev") != revision:
                break  # gone, or no longer the webhook planned for deletion
            try:
                cluster.delete(live, unmarked_because=_DEFAULT_TAG)
            except Exception as exc:  # the API error type depends on the client; only a conflict is retried
                if getattr(exc, "status", None) == 409 and attempt < _DELETE_ATTEMPTS - 1:
                    continue
                raise
            saved.append(live)
            break
    return saved


def _restore_webhooks(cluster, saved):
    for obj in saved:
        body = copy.deepcopy(obj)
        for field in SERVER_METADATA:
            body["metadata"].pop(field, None)
        cluster.create(body, unmarked_because=_DEFAULT_TAG)


def _present(module, istioctl, iop, namespace, result):
    params = module.params
    revision, wanted = params["revision"], params["default_revision"]
    path = istioctl.temp_file(yaml.safe_dump(iop, default_flow_style=False))
    set_args = _set_args(params)
    _rc, out, _err = istioctl.run(["manifest", "generate", "-f", path] + set_args)
    try:
        rendered = [doc for doc in yaml.safe_load_all(out) if isinstance(doc, dict) and doc.get("kind")]
    except yaml.YAMLError as exc:
        raise IstioctlError("istioctl manifest generate printed something that is not YAML: {0}".format(exc), stdout=out[:2000])
    if not rendered:
        raise IstioctlError("istioctl manifest generate rendered no objects for revision {0}. Fix: check the IstioOperator's "
                            "profile and components.".format(revision), stdout=out[:2000])
    owner_labels(rendered, iop)
    cluster = connect_module(module)
    diffs = differences(rendered, lambda ident: cluster.get(ref(ident["apiVersion"], ident["kind"], ident["name"], ident["namespace"])))
    stale_hooks, need_tag = _default_revision_plan(cluster, revision, wanted)
    entries = diffs + [_hook_entry(h, "default webhook of revision {0}".format(h[2])) for h in stale_hooks]
    if need_tag:
        entries.append({"kind": "MutatingWebhookConfiguration", "namespace": None, "name": "istio-revision-tag-default-" + namespace,
                        "reason": "missing", "paths": []})
    # The live values go to the diff only (it is shown on request); the result names the fields.
    result.update(objects=len(rendered), differences=[dict((k, v) for k, v in e.items() if k != "values") for e in entries],
                  changed=bool(entries))
    if entries and module._diff:
        result["diff"] = _install_diffs(entries, revision)
    if not entries or module.check_mode:
        return result
    # Before install: istioctl creates the default tag only when no default tag exists. A failed install puts the
    # previous default tag back, so that the cluster is never left without one.
    deleted = _delete_webhooks(cluster, stale_hooks) if wanted else []
    if diffs or need_tag:
        timeout = params["readiness_timeout"]
        cmd = ["install", "-y", "-f", path, "--readiness-timeout", "{0}s".format(timeout)] + set_args
        try:
            _rc, out, err = istioctl.run(cmd, cluster=True, timeout=max(istioctl.timeout, timeout + 120))
        except IstioctlError as exc:
            if deleted:
                _restore_webhooks(cluster, deleted)
                exc.args = ("{0} The default webhook(s) {1} deleted before the install were restored.".format(
                    exc.args[0], ", ".join(o["metadata"]["name"] for o in deleted)),) + exc.args[1:]
            raise
        result.update(cmd=" ".join(["istioctl"] + cmd), stdout=out, stderr=err)
    if wanted is False:
        # istioctl install creates a default tag for the first revision it installs (istio/istio#57412).
        _delete_webhooks(cluster, default_webhooks(cluster, revision))
    elif wanted and not [h for h in default_webhooks(cluster, revision) if h[0] == "MutatingWebhookConfiguration"]:
        raise IstioctlError("istioctl install did not create the default revision tag for {0}. Fix: look for another "
                            "webhook labelled istio.io/tag=default.".format(revision), **result)
    return result


def installed_objects(cluster, revision, namespace, iop_name=None, purge=False):
    """What uninstall would remove: objects of the revision labelled with our owner namespace (all Istio components
    for purge)."""
    selector = [COMPONENT_LABEL] if purge else ["istio.io/rev=" + revision, OWNER_NAMESPACE_LABEL + "=" + namespace, COMPONENT_LABEL]
    if iop_name and not purge:
        selector.append(OWNER_NAME_LABEL + "=" + iop_name)
    found = []
    for api_version, kind in _INSTALLED_KINDS:
        for obj in cluster.list(api_version, kind, ",".join(selector)):
            meta = obj.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                # istioctl deletes in the foreground: the garbage collector finishes the job.
                continue
            # Base resources (CRDs, the default validator) are shared by every revision; uninstall keeps them.
            if purge or meta.get("labels", {}).get(COMPONENT_LABEL) != "Base":
                found.append({"kind": kind, "namespace": meta.get("namespace"), "name": meta.get("name"), "reason": "installed", "paths": []})
    return found


def _labels_of(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def foreign_install(cluster, installed, namespace, owner):
    """Why the installed revision is not this inventory's (None when it is): its istiod Deployment carries another
    owner label; or, when no istiod of it carries one (installed before the label was set, or without istiod), its
    namespace does not carry this owner's label."""
    for entry in installed:
        if entry["kind"] == "Deployment" and entry["name"].startswith("istiod"):
            found = _labels_of(cluster.get(ref("apps/v1", "Deployment", entry["name"], entry["namespace"]))).get(OWNER_LABEL)
            if found == owner:
                return None
            if found:
                return "Deployment {0}/{1} carries {2}={3}".format(entry["namespace"], entry["name"], OWNER_LABEL, found)
    found = _labels_of(cluster.get(ref("v1", "Namespace", namespace))).get(OWNER_LABEL)
    if found == owner:
        return None
    return "its istiod carries no {0} label and namespace {1} {2}".format(
        OWNER_LABEL, namespace, "carries {0}={1}".format(OWNER_LABEL, found) if found else "carries no {0} label".format(OWNER_LABEL))


def _absent(module, istioctl, iop, namespace, result):
    params = module.params
    purge = params["purge_all_control_planes_in_cluster"]
    cluster = connect_module(module)
    iop_name = (iop.get("metadata") or {}).get("name")
    installed = installed_objects(cluster, params["revision"], namespace, iop_name, purge)
    why = foreign_install(cluster, installed, namespace, params["owner"]) if installed and params.get("owner") and not purge else None
    if why:
        # Same namespace and revision, another inventory's install (two inventories from one example): not ours to
        # remove, nor the default webhooks that point at it.
        result["kept"] = ["IstioOperator {0}/{1} (revision {2}): kept, not created by this inventory ({3}): {4}. Fix: "
                          "if it is this inventory's, label its istiod Deployment {3}={5}".format(
                              namespace, iop_name or params["revision"], params["revision"], OWNER_LABEL, why, params["owner"])]
        result["objects"] = len(installed)
        return result
    dangling = [] if purge else default_webhooks(cluster, params["revision"])
    entries = installed + [_hook_entry(hook, "points at the removed revision") for hook in dangling]
    result.update(objects=len(installed), differences=entries, changed=bool(entries))
    if entries and module._diff:
        result["diff"] = {"before_header": "cluster", "after_header": "after uninstall", "before": _diff_text(entries, "remove:"), "after": ""}
    if not entries or module.check_mode:
        return result
    if installed:
        if purge:
            cmd = ["uninstall", "-y", "--purge"]
        else:
            path = istioctl.temp_file(yaml.safe_dump(iop, default_flow_style=False))
            # istioctl finds a revision through its istiod and injector webhook; an IstioOperator without them (only
            # the CNI, or an external istiod whose webhooks live in its config cluster) is removed by the owner labels
            # of -f alone, which select exactly what it installed.
            kinds = set(e["kind"] for e in installed if e["kind"] == "MutatingWebhookConfiguration" or e["name"].startswith("istiod"))
            found = {"Deployment", "MutatingWebhookConfiguration"} <= kinds
            cmd = ["uninstall", "-y"] + (["--revision", params["revision"]] if found else []) + ["-f", path]
        _rc, out, err = istioctl.run(cmd, cluster=True)
        result.update(cmd=" ".join(["istioctl"] + cmd), stdout=out, stderr=err)
        left = installed_objects(cluster, params["revision"], namespace, iop_name, purge)
        if left:
            raise IstioctlError("istioctl uninstall left {0} object(s) of revision {1}: {2}. Fix: check the IstioOperator's "
                                "metadata.name/namespace match the installed one.".format(
                                    len(left), params["revision"], ", ".join(label(e) for e in left[:10])), **result)
    _delete_webhooks(cluster, dangling)
    return result


def run_install(module, istioctl):
    iop, namespace = load_operator(module.params)
    result = {"changed": False, "revision": module.params["revision"], "istio_namespace": namespace, "cmd": "",
              "istioctl_version": version_text(istioctl.version()), "objects": 0, "differences": [], "kept": []}
    if module.params["state"] == "present":
        if module.params["purge_all_control_planes_in_cluster"]:
            raise IstioctlError("purge_all_control_planes_in_cluster: only valid with state=absent. Fix: remove it.")
        return _present(module, istioctl, iop, namespace, result)
    return _absent(module, istioctl, iop, namespace, result)
