# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The plan of a canary upgrade (or rollback) of one RevisionBased mesh, from the model and what the cluster holds.

Sail keeps one IstioRevision per version of a RevisionBased Istio and the mesh's tag follows the active one; with
istioctl each version is an install of its own (istiod-<revision>-v<version>) and the tag is the webhook configuration
the chart renders for values.revisionTags, moved by the newest install. A workload
keeps the proxy of the revision that injected it (the injector records it in the pod's sidecar.istio.io/status and
istio.io/rev annotations) until it restarts. The plan names the revisions before and after, and the workloads still on another revision of this mesh -
the ones a rolling restart moves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import is_version_revision
from ansible_collections.multimesh.istio.plugins.plugin_utils.sidecars import injected_revision

REVISION_LABEL = "istio.io/rev"
TAG_LABEL = "istio.io/tag"
RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")
FINISHED = ("Succeeded", "Failed")


class PlanError(ValueError):
    """The upgrade cannot go ahead; the message says why and what to do."""


def _controller(obj):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _workload(pod, replicasets):
    """(kind, name) of the workload that recreates this pod, or None for a pod nothing recreates."""
    ref = _controller(pod)
    if ref is None:
        return None
    if ref.get("kind") == "ReplicaSet":
        owner = _controller(replicasets.get((pod["metadata"]["namespace"], ref.get("name"))) or {})
        if owner is not None and owner.get("kind") == "Deployment":
            return ("Deployment", owner["name"])
        return None
    if ref.get("kind") in RESTARTABLE:
        return (ref["kind"], ref["name"])
    return None


def owned_revisions(istio, revisions):
    """Names of the IstioRevisions this Istio owns (Sail's ownerReference), sorted."""
    uid = (istio.get("metadata") or {}).get("uid")
    return sorted(r["metadata"]["name"] for r in revisions
                  if any(ref.get("kind") == "Istio" and ref.get("uid") == uid
                         for ref in r["metadata"].get("ownerReferences") or []))


def pod_revision(pod):
    """The revision that injected a pod: the injector's sidecar.istio.io/status, else its istio.io/rev annotation. Not
    the pod's istio.io/rev label, which selects a revision or tag (a gateway's) rather than recording one."""
    meta = pod.get("metadata") or {}
    return injected_revision({"metadata": {"annotations": meta.get("annotations") or {}}}) or \
        (meta.get("annotations") or {}).get(REVISION_LABEL)


def _running_injected(pods, finished=FINISHED):
    """(pod, revision) of the pods that run with a proxy: not being deleted, not finished (an evicted or completed
    pod keeps its revision but is not restarted)."""
    for pod in pods:
        revision = pod_revision(pod)
        if revision and not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in finished:
            yield pod, revision


def pods_on(pods, revisions, failed=False):
    """namespace/name of the running pods that the given revisions injected. failed=True: the Sail Operator's view,
    which counts a Failed (evicted) pod as a use until it is deleted - those are named so, with what to do."""
    return sorted("{0}/{1}{2}".format(p["metadata"]["namespace"], p["metadata"]["name"],
                                      " (Failed - delete it)" if (p.get("status") or {}).get("phase") == "Failed" else "")
                  for p, revision in _running_injected(pods, ("Succeeded",) if failed else FINISHED) if revision in revisions)


def rollout_done(workload):
    """Whether a restarted Deployment, StatefulSet or DaemonSet has replaced every pod and has them available (what
    `kubectl rollout status` waits for); False while the controller has not seen the new template yet."""
    meta, spec, status = workload.get("metadata") or {}, workload.get("spec") or {}, workload.get("status") or {}
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    kind = workload.get("kind")
    if kind == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return status.get("updatedNumberScheduled", 0) == desired and status.get("numberAvailable", 0) == desired
    wanted = spec.get("replicas", 1)
    if kind == "StatefulSet":
        return status.get("updateRevision") == status.get("currentRevision") and \
            status.get("updatedReplicas", 0) == wanted and status.get("readyReplicas", 0) == wanted
    return status.get("updatedReplicas", 0) == wanted and status.get("replicas", 0) == wanted and \
        status.get("availableReplicas", 0) == wanted


def live_revisions(mesh, backend, live):
    """(installed, active revision, revisions) of a mesh as the cluster holds them.

    sail: live = {istio: the Istio or None, revisions: IstioRevisions} - the Istio's active revision and those it owns.
    istioctl: live = {istiods: the istiod Deployments of the mesh's namespace, tags: the tag's webhook configurations}
    - every revision <revision>-v<version> that runs an istiod there, the active one being where the tag points."""
    if backend == "sail":
        istio = live.get("istio") or {}
        return (bool(istio), (istio.get("status") or {}).get("activeRevisionName") or "",
                owned_revisions(istio, live.get("revisions") or []) if istio else [])
    # Exactly the revisions the mesh's versions make (mesh-1-v1-30-2): an istiod mesh-1-vendor is not the mesh's to retire.
    revisions = sorted(set(
        (d["metadata"].get("labels") or {}).get(REVISION_LABEL) for d in live.get("istiods") or []
        if d["metadata"].get("namespace") == mesh["namespace"] and not d["metadata"].get("deletionTimestamp")
        and is_version_revision(mesh["revision"], (d["metadata"].get("labels") or {}).get(REVISION_LABEL))))
    targets = sorted(set((h["metadata"].get("labels") or {}).get(REVISION_LABEL) for h in live.get("tags") or []
                         if (h["metadata"].get("labels") or {}).get(TAG_LABEL) == mesh["revision"]))
    return bool(revisions), (targets[0] if len(targets) == 1 else ""), revisions


def upgrade_refusal(mesh, backend, live, rollback=False):
    """Why the upgrade of mesh cannot go ahead on what live holds (the message of upgrade_plan's refusal), or "":
    the role stops with it as its own message, before reading any workload."""
    try:
        upgrade_plan(mesh, backend, live, [], [], rollback)
    except PlanError as exc:
        return str(exc)
    return ""


def upgrade_plan(mesh, backend, live, pods, replicasets, rollback=False):
    """The plan for moving mesh (from the model, at the target version) to its control_plane_revision.

    live: what live_revisions reads for the backend; pods, replicasets: those of the mesh's labelled namespaces.
    rollback: the target revision must still exist (a rollback never builds a new one)."""
    if mesh.get("update_strategy", {}).get("type") != "RevisionBased":
        raise PlanError("mesh {0!r} has update_strategy InPlace: an upgrade replaces its istiod in place, as site.yml "
                        "does. For a canary upgrade give it update_strategy: {{type: RevisionBased}} (a new install, or "
                        "cleanup.yml then site.yml: an existing mesh cannot switch)".format(mesh["name"]))
    installed, active, revisions = live_revisions(mesh, backend, live)
    if not installed:
        raise PlanError("mesh {0!r} is not installed ({1}): run site.yml first".format(
            mesh["name"], "no Istio {0!r}".format(mesh["revision"]) if backend == "sail"
            else "no istiod of a revision {0}-v* in {1}".format(mesh["revision"], mesh["namespace"])))
    target = mesh["control_plane_revision"]
    if rollback and target not in revisions:
        raise PlanError("upgrade_rollback: revision {0} of mesh {1!r} no longer exists (revisions: {2}), so there is "
                        "nothing to roll back to. Fix: upgrade to version {3} without upgrade_rollback, which installs "
                        "it anew".format(target, mesh["name"], ", ".join(revisions) or "none", mesh["version"]))
    index = dict(((r["metadata"]["namespace"], r["metadata"]["name"]), r) for r in replicasets)
    mine = set(revisions) | {active, target}
    restarts, unmanaged = {}, []
    for pod, revision in _running_injected(pods):
        meta = pod["metadata"]
        if revision == target or revision not in mine:
            continue
        workload = _workload(pod, index)
        if workload is None:
            unmanaged.append("{0}/{1} ({2})".format(meta["namespace"], meta["name"], revision))
            continue
        entry = restarts.setdefault((workload[0], meta["namespace"], workload[1]), set())
        entry.add(revision)
    return {
        "mesh": mesh["name"],
        "istio": mesh["revision"],
        "tag": mesh["revision"],
        "namespace": mesh["namespace"],
        "version": mesh["version"],
        "from_revision": active,
        "to_revision": target,
        "new_revision": target not in revisions,
        "rollback": bool(rollback),
        "revisions": revisions,
        "retiring": [r for r in revisions if r != target],
        "retiring_installs": [{"namespace": mesh["namespace"], "revision": r} for r in revisions if r != target],
        "restarts": [{"kind": kind, "namespace": namespace, "name": name, "revisions": sorted(found)}
                     for (kind, namespace, name), found in sorted(restarts.items())],
        "unmanaged": sorted(unmanaged),
        "backend": backend,
        "grace_period_seconds": mesh["update_strategy"].get("inactive_revision_deletion_grace_period_seconds"),
    }


def plan_lines(plan, restart):
    """What the plan does, one line per step, for a person reading the run."""
    lines = ["mesh {0}: {1} {2} -> {3}{4}".format(
        plan["mesh"], "roll back" if plan["rollback"] else "upgrade", plan["from_revision"] or "(none active)",
        plan["to_revision"], " (new revision beside the old)" if plan["new_revision"] else " (existing revision)")]
    if plan["from_revision"] != plan["to_revision"]:
        lines.append("tag {0}: its namespaces' new pods are injected by {1}".format(plan["tag"], plan["to_revision"]))
    for item in plan["restarts"]:
        lines.append("{0} {1} {2}/{3} (on {4})".format(
            "restart" if restart else "left on its revision (upgrade_restart=false):", item["kind"],
            item["namespace"], item["name"], ", ".join(item["revisions"])))
    for pod in plan["unmanaged"]:
        lines.append("pod {0}: no workload recreates it; delete it to move it".format(pod))
    for revision in plan["retiring"]:
        if plan["backend"] == "sail":
            lines.append("revision {0}: removed by the operator {1}s after nothing uses it".format(
                revision, plan["grace_period_seconds"]))
        else:
            lines.append("revision {0}: uninstalled (istioctl uninstall --revision) once no pod uses it{1}".format(
                revision, "" if restart else ", in a run with upgrade_restart"))
    return lines


def revisions_in_use(revisions, names):
    """Those of names whose IstioRevision still exists and is not reported out of use (condition InUse False)."""
    found = []
    for revision in revisions:
        name = revision["metadata"]["name"]
        conditions = dict((c.get("type"), c.get("status")) for c in (revision.get("status") or {}).get("conditions") or [])
        if name in names and conditions.get("InUse") != "False":
            found.append(name)
    return sorted(found)


def earlier_revisions(meshes, istiods):
    """[{namespace, revision}] of the istioctl RevisionBased meshes' revisions other than the current one that still
    run an istiod (istiods: Deployments labelled app=istiod of their namespaces)."""
    found = []
    for mesh in meshes:
        if mesh.get("update_strategy", {}).get("type") != "RevisionBased":
            continue
        dummy, dummy_active, revisions = live_revisions(mesh, "istioctl", {"istiods": istiods})
        found += [{"namespace": mesh["namespace"], "revision": r} for r in revisions if r != mesh["control_plane_revision"]]
    return found
