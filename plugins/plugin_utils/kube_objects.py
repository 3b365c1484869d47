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

from ansible_collections.multimesh.istio.plugins.module_utils.kube_client import SERVER_METADATA
from ansible_collections.multimesh.istio.plugins.plugin_utils.cluster import NotServed
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import FIELD_MANAGER, managed_fields
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL

APPLIED = "multimesh.istio/applied"
# The condition that says an object of this kind is ready.
READY_CONDITION = {"Deployment": "Available"}


def plain(obj):
    """A JSON-plain deep copy (drops Ansible's tagged str subclasses)."""
    return json.loads(json.dumps(obj))


def label(obj):
    meta = obj.get("metadata") or {}
    where = meta.get("namespace") + "/" if meta.get("namespace") else ""
    return "{0} {1}{2}".format(obj.get("kind"), where, meta.get("name"))


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


def ours(obj, owner=None):
    """True when obj carries this collection's ownership mark (every object it creates does) and, given an owner,
    this inventory's identity."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and (owner is None or labels.get(OWNER_LABEL) == owner)


def owns_fields(obj, manager=FIELD_MANAGER):
    """True when the field manager still owns a label, an annotation or any field outside metadata."""
    for fields in managed_fields(obj, manager):
        meta = fields.get("f:metadata") or {}
        if meta.get("f:labels") or meta.get("f:annotations") or any(key != "f:metadata" for key in fields):
            return True
    return False


def readiness(obj):
    """(ready, why) from the kind's ready condition (Ready; Available for Deployments), for this generation."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if observed is None or (generation is not None and observed < generation):
        return False, "not reconciled yet (generation {0}, observed {1})".format(generation, observed)
    wanted = READY_CONDITION.get(obj.get("kind"), "Ready")
    conditions = status.get("conditions") or []
    if any(c.get("type") == wanted and c.get("status") == "True" for c in conditions):
        return True, wanted
    failing = ["{0}={1} ({2}: {3})".format(c.get("type"), c.get("status"), c.get("reason", ""), c.get("message", ""))
               for c in conditions if c.get("status") != "True"]
    return False, "; ".join(failing) or "no {0} condition yet (state {1})".format(wanted, status.get("state"))


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
    """Apply and remove objects on one cluster. cluster: get(obj), apply(obj, dry_run), delete(obj) (see Cluster)."""

    def __init__(self, cluster, check_mode, outcome, owner=None):
        self.cluster, self.check_mode, self.outcome, self.owner = cluster, check_mode, outcome, owner
        self.live = {}

    def apply(self, obj):
        want = with_digest(obj)
        live = self.cluster.get(want)
        if live is not None and (live.get("metadata") or {}).get("deletionTimestamp"):
            raise ApplyError("{0} is being deleted (an earlier removal); nothing can be applied to it until it is "
                             "gone. Fix: wait until it is gone, then run again.".format(label(want)))
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
        live = self.cluster.get(obj)
        if live is None:
            self.outcome.add(obj, "absent", False)
            return
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            self.outcome.add(obj, "terminating", False)  # deleted before; the API server is finishing it
            return
        if obj.get("kind") != "Namespace" and not ours(live, self.owner):
            # Same name, someone else's object (a user's httpbin, PeerAuthentication/default, another inventory's).
            self.outcome.add(obj, "kept, not created by this inventory", False)
            return
        if not self.check_mode:
            self.cluster.delete(obj)
        self.outcome.add(obj, "deleted", True, live, None)

    def strip(self, obj):
        """Drop every field this collection's field manager set on obj (e.g. a namespace it labelled but does
        not own), leaving the rest; nothing to do when it owns none."""
        live = self.cluster.get(obj)
        if live is None or not owns_fields(live, getattr(self.cluster, "field_manager", FIELD_MANAGER)):
            self.outcome.add(obj, "kept", False)
            return
        after = self.cluster.apply(obj, dry_run=self.check_mode)
        self.outcome.add(obj, "released", True, live, after)

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
                ok, reason = readiness(live) if live else (False, "not found")
                if ok:
                    ready.append(name)
                    del pending[name]
                    why.pop(name, None)
                else:
                    why[name] = reason
            if not pending or clock.time() >= deadline:
                return {"ready": ready, "pending": why}
            clock.sleep(min(max(sleep, 1), max(deadline - clock.time(), 0)))
