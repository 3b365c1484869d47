# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Server-side apply that writes only when the cluster differs, and removal, for the stage engine (controller).

A no-op run must send no write request. Every applied object carries the digest of the configuration this
collection applied (annotation APPLIED); an object whose digest matches and whose live state still holds every
applied field is left alone. Otherwise a server-side dry run shows what the apply would store, and only a real
difference is written. The digest catches fields dropped from the configuration (server-side apply removes them),
the dry run catches values the API server normalises.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import time

from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import SERVER_METADATA
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import NotServed
from ansible_collections.multimesh.istio.plugins.module_utils.names import label
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import FIELD_MANAGER, OWNER_LABEL, marks_text, ours
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import managed_fields

APPLIED = "multimesh.istio/applied"
# A delete whose precondition fails (the object changed since its ownership was checked) is checked again this often.
DELETE_ATTEMPTS = 3
# The note on what removal keeps because this inventory did not create it.
NOT_OURS = ", not created by this inventory"
# The condition that says an object of this kind is ready.
READY_CONDITION = {"Deployment": "Available"}
# Conditions whose status True says something is wrong.
BAD_WHEN_TRUE = ("ReplicaFailure",)


def plain(obj):
    """A JSON-plain deep copy (drops Ansible's tagged str subclasses)."""
    return json.loads(json.dumps(obj))


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()[:32]


def with_digest(obj):
    out = plain(obj)
    meta = out.setdefault("metadata", {})
    meta["annotations"] = dict(meta.get("annotations") or {}, **{APPLIED: digest(obj)})
    return out


def contains(live, want):
    """True when live holds every field of want with the same value (lists: same length, item by item)."""
    if isinstance(want, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(live, list) and len(live) == len(want) and all(contains(a, b) for a, b in zip(live, want))
    return live == want


def up_to_date(want, live):
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return annotations.get(APPLIED) == want["metadata"]["annotations"][APPLIED] and contains(live, want)


def comparable(obj):
    """obj without what the API server writes (for diffs and before/after comparison)."""
    if not obj:
        return {}
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    for key in SERVER_METADATA:
        meta.pop(key, None)
    out.pop("status", None)
    return out


def claim_problem(live, owner=None, must_be_ours=True):
    """(why, fix) when this inventory may not write to live, an object that already exists; None when it may.

    Server-side apply raises no conflict for labels nobody set, so writing would hand another's object to this
    inventory (and cleanup would then delete it). must_be_ours=False: a namespace this inventory only labels, which
    may exist before (refused only when another inventory's)."""
    other = ((live.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL)
    if owner and other and other != owner:
        return ("it belongs to the inventory '{0}' ({1}={0})".format(other, OWNER_LABEL),
                "take it out of this inventory, or set multimesh_owner: {0} if this is that inventory".format(other))
    if must_be_ours and not ours(live, owner):
        return "it exists without this inventory's labels ({0})".format(marks_text(owner)), _takeover_fix(live, owner)
    return None


def _takeover_fix(live, owner):
    """Never adopt silently: say how to avoid the object, or to hand it over on purpose."""
    handover = "to hand it to this inventory on purpose, label it {0} (cleanup then deletes it)".format(marks_text(owner))
    if live.get("kind") == "Namespace":
        return ("set owned: false for it (members[].owned or ingress_gateway.owned): it then only gets the mesh's "
                "labels and cleanup never deletes it; or " + handover)
    return "remove or rename it if nothing needs it, or leave out of this inventory what makes it; or " + handover


def owns_fields(obj, manager=FIELD_MANAGER):
    """True when the field manager still owns a label, an annotation or any field outside metadata."""
    for fields in managed_fields(obj, manager):
        meta = fields.get("f:metadata") or {}
        if meta.get("f:labels") or meta.get("f:annotations") or any(key != "f:metadata" for key in fields):
            return True
    return False


def readiness(obj):
    """(ready, why) from the kind's ready condition (Ready; Available for Deployments), for this generation; a
    Deployment also until its rollout is complete (every replica updated, no old one left), as kubectl rollout status."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if observed is None or (generation is not None and observed < generation):
        return False, "not reconciled yet (generation {0}, observed {1})".format(generation, observed)
    wanted = READY_CONDITION.get(obj.get("kind"), "Ready")
    conditions = status.get("conditions") or []
    # A condition True in BAD_WHEN_TRUE is bad news (a ReplicaSet that cannot create pods, say for a quota).
    bad = [c for c in conditions if c.get("status") == "True" and c.get("type") in BAD_WHEN_TRUE]
    rollout = []
    if obj.get("kind") == "Deployment":
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        if status.get("updatedReplicas", 0) < replicas or status.get("replicas", 0) > replicas:
            rollout.append("rollout: {0} of {1} replicas updated, {2} in all".format(
                status.get("updatedReplicas", 0), replicas, status.get("replicas", 0)))
    if not bad and not rollout and any(c.get("type") == wanted and c.get("status") == "True" for c in conditions):
        return True, wanted
    failing = ["{0}={1} ({2}: {3})".format(c.get("type"), c.get("status"), c.get("reason", ""), c.get("message", ""))
               for c in conditions if c.get("status") != "True" or c in bad] + rollout
    return False, "; ".join(failing) or "no {0} condition yet (state {1})".format(wanted, status.get("state"))


def dependents(live):
    """What must be ready too before a live object is: for a Sail Istio, its active IstioRevision (the Istio copies
    the revision's conditions as soon as it changed the revision's spec, before the revision's chart upgrade ran) and,
    unless a remote profile has none, that revision's istiod Deployment, rolled out."""
    if live.get("kind") != "Istio" or not str(live.get("apiVersion", "")).startswith("sailoperator.io/"):
        return []
    spec, revision = live.get("spec") or {}, (live.get("status") or {}).get("activeRevisionName")
    if not revision:
        return []
    found = [{"apiVersion": "sailoperator.io/v1", "kind": "IstioRevision", "metadata": {"name": revision}}]
    if spec.get("profile") != "remote" and ((spec.get("values") or {}).get("profile")) != "remote":
        found.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
            "name": "istiod" if revision == "default" else "istiod-" + revision, "namespace": spec.get("namespace")}})
    return found


class ApplyError(Exception):
    pass


class Outcome(object):
    """What one stage did to each object, and the diffs to show."""

    def __init__(self):
        self.objects, self.diffs = [], []

    def add(self, obj, action, changed, before=None, after=None, diff=True):
        """Record what was done to obj; a change gets a before/after diff unless diff=False (the caller has its own)."""
        meta = obj.get("metadata") or {}
        self.objects.append({"kind": obj.get("kind"), "name": meta.get("name"), "namespace": meta.get("namespace"),
                             "action": action, "changed": changed})
        if changed and diff:
            self.diffs.append({"before_header": label(obj), "after_header": label(obj),
                               "before": comparable(before), "after": comparable(after)})

    @property
    def changed(self):
        return any(o["changed"] for o in self.objects)


class Applier(object):
    """Apply and remove objects on one cluster. cluster: get(obj), apply(obj, dry_run), release(obj, dry_run),
    delete(live) (see module_utils/k8s/cluster.py). owned_namespaces: the namespaces this inventory must have created (the others it only labels)."""

    def __init__(self, cluster, check_mode, outcome, owner=None, owned_namespaces=()):
        self.cluster, self.check_mode, self.outcome, self.owner = cluster, check_mode, outcome, owner
        self.owned_namespaces = set(owned_namespaces or ())
        self.live = {}

    def apply(self, obj):
        want = with_digest(obj)
        live = self.cluster.get(want)
        if live is not None:
            self._check_writable(want, live)
        if live is None:
            after = self._create(want)
            self.outcome.add(want, "created", True, None, after)
        elif up_to_date(want, live):
            after = live
            self.outcome.add(want, "unchanged", False)
        else:
            after = self.cluster.apply(want, dry_run=True)
            if comparable(after) == comparable(live):
                self.outcome.add(want, "unchanged", False)
                after = live
            else:
                if not self.check_mode:
                    after = self.cluster.apply(want, dry_run=False)
                self.outcome.add(want, "updated", True, live, after)
        self.live[label(want)] = after
        return after

    def _check_writable(self, want, live):
        """Refuse an object being deleted, or not this inventory's to take over. Pre-flight refuses the latter before
        any write; this catches what changed since, or a stage run on its own."""
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            raise ApplyError("{0} is being deleted (an earlier removal); nothing can be applied to it until it is "
                             "gone. Fix: wait until it is gone, then run again.".format(label(want)))
        must_be_ours = want.get("kind") != "Namespace" or want["metadata"].get("name") in self.owned_namespaces
        problem = claim_problem(dict(live, kind=want.get("kind")), self.owner, must_be_ours)
        if problem:
            raise ApplyError("{0} exists and is not this inventory's: {1}; nothing was written to it. Fix: {2}.".format(
                label(want), problem[0], problem[1]))

    def _create(self, want):
        """Create, or in check mode ask the API server what it would store. A dry run cannot know a namespace or a
        CRD that this very run creates before it (they exist only in the dry runs): then the object as wanted."""
        if not self.check_mode:
            return self.cluster.apply(want)
        try:
            return self.cluster.apply(want, dry_run=True)
        except Exception as exc:  # NotServed (its CRD comes later) or the API server's 404 (namespace not yet)
            if not isinstance(exc, NotServed) and getattr(exc, "status", None) != 404:
                raise
            return want

    def delete(self, obj):
        """Delete obj if it carries this inventory's marks (namespaces too: an owned one that is not ours only loses
        what this collection set). The delete is conditional on the uid and resourceVersion that were checked: an
        object replaced or changed since is checked again, and never removed unchecked."""
        for dummy in range(DELETE_ATTEMPTS):
            live = self.cluster.get(obj)
            if live is None:
                self.outcome.add(obj, "absent", False)
                return
            if (live.get("metadata") or {}).get("deletionTimestamp"):
                self.outcome.add(obj, "terminating", False)  # deleted before; the API server is finishing it
                return
            if not ours(live, self.owner):
                # Same name, someone else's object (a user's httpbin or namespace, another inventory's).
                if obj.get("kind") == "Namespace":
                    self.strip(obj, NOT_OURS)
                else:
                    self.outcome.add(obj, "kept" + NOT_OURS, False)
                return
            if self.check_mode or self._delete_unchanged(obj, live):
                self.outcome.add(obj, "deleted", True, live, None)
                return
        raise ApplyError("{0} changed {1} times between its ownership check and its removal, so it was not deleted. "
                         "Fix: run again once nothing else is changing it.".format(label(obj), DELETE_ATTEMPTS))

    def _delete_unchanged(self, obj, live):
        """Delete obj as it was checked; False when it changed since (409 Conflict from the precondition)."""
        try:
            self.cluster.delete(live)
        except Exception as exc:  # ApiException/DynamicApiError; the 409 of a failed precondition is expected
            if getattr(exc, "status", None) != 409:
                raise
            return False
        return True

    def strip(self, obj, note=""):
        """Drop every field this collection's field manager set on obj (e.g. a namespace it labelled but does
        not own), leaving the rest; nothing to do when it owns none. note: appended to the action."""
        live = self.cluster.get(obj)
        if live is None or not owns_fields(live, getattr(self.cluster, "field_manager", FIELD_MANAGER)):
            self.outcome.add(obj, "kept" + note, False)
            return
        after = self.cluster.release(obj, dry_run=self.check_mode)
        self.outcome.add(obj, "released" + note, True, live, after)

    def _ready_with_dependents(self, live):
        """(ready, why) of a live object and its dependents: while the object is not ready, why adds the reason of
        its workload (a Deployment that says what keeps it from starting its pods)."""
        ok, why = readiness(live)
        for dependent in dependents(live):
            if not ok and dependent["kind"] != "Deployment":
                continue
            found = self.cluster.get(dependent)
            dependent_ok, dependent_why = readiness(found) if found else (False, "not found")
            if not dependent_ok:
                why = "{0}{1}: {2}".format(why + "; " if not ok else "", label(dependent), dependent_why)
                ok = False
        return ok, why

    def wait_ready(self, objects, timeout, sleep, clock=None):
        """Wait until every object reports ready; returns {ready: [labels], pending: {label: why}}."""
        clock = clock or time
        deadline = clock.time() + timeout
        pending = dict((label(o), o) for o in objects)
        ready, why = [], {}
        known = dict(self.live)
        while True:
            for name, obj in list(pending.items()):
                live = known.pop(name, None) or self.cluster.get(obj)
                ok, reason = self._ready_with_dependents(live) if live else (False, "not found")
                if ok:
                    ready.append(name)
                    del pending[name]
                    why.pop(name, None)
                else:
                    why[name] = reason
            if not pending or clock.time() >= deadline:
                return {"ready": ready, "pending": why}
            clock.sleep(min(max(sleep, 1), max(deadline - clock.time(), 0)))
