# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The stage engine: one stage's objects rendered into files, or applied (namespaces, istioctl installs, the rest),
or removed in the reverse order; check mode, diffs and the readiness wait included. Runs on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.multimesh.istio.plugins.module_utils.names import label, object_label
from ansible_collections.multimesh.istio.plugins.plugin_utils.kube_objects import NOT_OURS, ApplyError, Applier, Outcome, plain
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import manifest_files, removal_plan, split_objects


class StageError(Exception):
    pass


def _yaml(obj):
    import yaml

    return yaml.safe_dump(plain(obj), default_flow_style=False, sort_keys=True) if obj else ""


def _checked_split(objects):
    try:
        return split_objects(objects)
    except ValueError as exc:
        raise StageError(str(exc))


# ------------------------------------------------------------------ render

def render(args, check_mode):
    """Write one multi-document file per stage and group under render_dir; only files whose content differs."""
    try:
        files = manifest_files(args["objects"], args["stage"])
    except ValueError as exc:
        raise StageError(str(exc))
    if args["state"] == "absent":
        return {"changed": False, "files": [], "msg": "Render mode: nothing to remove for {0} (no cluster is contacted)".format(
            args["stage"])}
    written, diffs = [], []
    for item in files:
        path = os.path.join(args["render_dir"], item["path"])
        before = None
        if os.path.exists(path):
            with open(path) as handle:
                before = handle.read()
        if before == item["content"]:
            continue
        written.append(item["path"])
        diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": item["content"]})
        if not check_mode:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            with open(path, "w") as handle:
                handle.write(item["content"])
            os.chmod(path, 0o644)
    verb = "would be written" if check_mode else "written"
    return {"changed": bool(written), "files": [f["path"] for f in files], "written": written, "diffs": diffs,
            "msg": "{0} of {1} file(s) {2} in {3}".format(len(written), len(files), verb, args["render_dir"])}


# ------------------------------------------------------------------ apply and remove

def _install_args(obj, state, timeout=None, owner=None):
    spec = obj.get("spec") or {}
    params = {"state": state, "revision": spec.get("revision"), "istio_operator": obj}
    if owner:
        # present labels istiod with the owner; absent uninstalls only a revision whose istiod carries it.
        params["owner"] = owner
    if state == "present":
        params.update(readiness_timeout=timeout,
                      default_revision=((spec.get("values") or {}).get("defaultRevision") or "") == spec.get("revision"))
    return params


def _run_istioctl(istioctl, obj, params, outcome, problems):
    res = istioctl(params)
    where = "IstioOperator {0}/{1}".format((obj.get("metadata") or {}).get("namespace"), params["revision"])
    action = "installed" if params["state"] == "present" else "uninstalled"
    if res.get("kept"):
        # Same namespace and revision, installed by another inventory: kept, and said so in the stage's message.
        outcome.add(obj, "kept" + NOT_OURS, False, diff=False)
        return not res.get("failed")
    outcome.add(obj, action if res.get("changed") else "unchanged", bool(res.get("changed")), diff=False)
    diff = res.get("diff")
    if res.get("changed") and diff:
        for item in diff if isinstance(diff, list) else [diff]:
            outcome.diffs.append(dict(item, before_header=item.get("before_header") or where,
                                      after_header=item.get("after_header") or where))
    if res.get("failed"):
        problems.append("{0}: {1}".format(where, res.get("msg")))
    return not res.get("failed")


def _api_error(exc, obj):
    body = getattr(exc, "body", None) or getattr(exc, "summary", lambda: None)() or exc
    return StageError("{0}: {1}".format(label(obj), body))


def _each(action, objects):
    for obj in objects:
        try:
            action(obj)
        except ApplyError as exc:
            raise StageError(str(exc))
        except Exception as exc:  # ApiException/DynamicApiError: name the object and show the API server's reason
            raise _api_error(exc, obj)


def converge(args, cluster, check_mode, istioctl):
    """Apply (state present) or remove (absent) the stage's objects on the cluster; returns the task result, which
    lists what was done before any failure."""
    kube, inputs = _checked_split(args["objects"])
    outcome = Outcome()
    applier = Applier(cluster, check_mode, outcome, args.get("owner"), args.get("owned_namespaces"))
    problems, waited = [], {}
    try:
        if args["state"] == "present":
            waited = _apply(args, kube, inputs, applier, istioctl, problems, check_mode)
        else:
            _remove(args, inputs, applier, istioctl, problems)
    except StageError as exc:
        problems.append(str(exc))
    return _result(args, outcome, problems, waited, check_mode)


def _apply(args, kube, inputs, applier, istioctl, problems, check_mode):
    # istioctl installs the CRDs of what follows it (e.g. PeerAuthentication) and needs the namespaces first.
    _each(applier.apply, [o for o in kube if o["kind"] == "Namespace"] if inputs else kube)
    for obj in inputs:
        if not _run_istioctl(istioctl, obj, _install_args(obj, "present", args["istioctl_readiness_timeout"], args.get("owner")),
                             applier.outcome, problems):
            return {}
    if inputs:
        _each(applier.apply, [o for o in kube if o["kind"] != "Namespace"])
    if not args["wait"] or check_mode:
        return {}
    waited = applier.wait_ready([o for o in kube if o["kind"] in args["wait"]], args["wait_timeout"], args["wait_sleep"])
    if waited["pending"]:
        problems.append("Timed out after {0}s waiting for {1} to be ready: {2}".format(
            args["wait_timeout"], ", ".join(args["wait"]),
            "; ".join("{0}: {1}".format(k, v) for k, v in sorted(waited["pending"].items()))))
    return waited


def _remove(args, inputs, applier, istioctl, problems):
    plan = removal_plan(args["objects"], args["owned_namespaces"])
    _each(applier.delete, [o for o in plan["delete"] if o["kind"] != "Namespace"])
    for obj in reversed(inputs):
        _run_istioctl(istioctl, obj, _install_args(obj, "absent", owner=args.get("owner")), applier.outcome, problems)
    _each(applier.delete, [o for o in plan["delete"] if o["kind"] == "Namespace"])
    _each(applier.strip, plan["strip"])


def _result(args, outcome, problems, waited, check_mode):
    changed = [o for o in outcome.objects if o["changed"]]
    verb = "would change" if check_mode else "changed"
    msg = "{0}: {1} of {2} object(s) {3}".format(args["stage"], len(changed), len(outcome.objects), verb)
    installs = ["{0} ({1})".format(o["namespace"], o["action"]) for o in outcome.objects if o["kind"] == "IstioOperator"]
    if installs:
        msg += "; istioctl {0}: {1}".format("install" if args["state"] == "present" else "uninstall", ", ".join(installs))
    foreign = [object_label(o["kind"], o["namespace"], o["name"]) for o in outcome.objects if o["action"].endswith(NOT_OURS)]
    if foreign:
        msg += "; kept (same name, not created by this inventory): " + ", ".join(foreign)
    if waited.get("ready"):
        msg += "; ready: " + ", ".join(waited["ready"])
    if problems:
        msg += ". " + " ".join(problems)
    diffs = [dict(d, before=_yaml(d["before"]) if isinstance(d["before"], dict) else d["before"],
                  after=_yaml(d["after"]) if isinstance(d["after"], dict) else d["after"]) for d in outcome.diffs]
    return {"changed": outcome.changed, "failed": bool(problems), "objects": outcome.objects,
            "ready": waited.get("ready", []), "pending": waited.get("pending", {}), "diffs": diffs, "msg": msg}
