# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The plan of a canary upgrade (or rollback) of one RevisionBased mesh, from the model and what the cluster holds.

Sail keeps one IstioRevision per version of a RevisionBased Istio; the mesh's tag follows the active one. A workload
keeps the proxy of the revision that injected it (the injector labels the pod istio.io/rev=<that revision>) until it
restarts. The plan names the revisions before and after, and the workloads still on another revision of this mesh -
the ones a rolling restart moves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

REVISION_LABEL = "istio.io/rev"
RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")


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


def upgrade_plan(mesh, istio, revisions, pods, replicasets, rollback=False):
    """The plan for moving mesh (from the model, at the target version) to its control_plane_revision.

    istio: the live Istio (None when absent); revisions: the live IstioRevisions; pods, replicasets: those of the
    mesh's labelled namespaces. rollback: the target revision must still exist (a rollback never builds a new one)."""
    if mesh.get("update_strategy", {}).get("type") != "RevisionBased":
        raise PlanError("mesh {0!r} has update_strategy InPlace: an upgrade replaces its istiod in place, as site.yml "
                        "does. For a canary upgrade give it update_strategy: {{type: RevisionBased}} (a new install, or "
                        "cleanup.yml then site.yml: an existing Istio cannot switch)".format(mesh["name"]))
    if not istio:
        raise PlanError("mesh {0!r} is not installed (no Istio {1!r}): run site.yml first".format(
            mesh["name"], mesh["revision"]))
    target = mesh["control_plane_revision"]
    live = owned_revisions(istio, revisions)
    active = (istio.get("status") or {}).get("activeRevisionName") or ""
    if rollback and target not in live:
        raise PlanError("upgrade_rollback: revision {0} of mesh {1!r} no longer exists (revisions: {2}), so there is "
                        "nothing to roll back to. Fix: upgrade to version {3} without upgrade_rollback, which installs "
                        "it anew".format(target, mesh["name"], ", ".join(live) or "none", mesh["version"]))
    index = dict(((r["metadata"]["namespace"], r["metadata"]["name"]), r) for r in replicasets)
    mine = set(live) | {active, target}
    restarts, unmanaged = {}, []
    for pod in pods:
        meta = pod["metadata"]
        revision = (meta.get("labels") or {}).get(REVISION_LABEL)
        if meta.get("deletionTimestamp") or revision in (None, target) or revision not in mine:
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
        "new_revision": target not in live,
        "rollback": bool(rollback),
        "revisions": live,
        "retiring": [r for r in live if r != target],
        "restarts": [{"kind": kind, "namespace": namespace, "name": name, "revisions": sorted(found)}
                     for (kind, namespace, name), found in sorted(restarts.items())],
        "unmanaged": sorted(unmanaged),
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
        lines.append("revision {0}: removed by the operator {1}s after nothing uses it".format(
            revision, plan["grace_period_seconds"]))
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
