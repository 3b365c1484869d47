# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The marks of what this collection created: one definition for the modules and the controller-side plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "multimesh.istio"
# Which inventory created an object: two inventories on one cluster never take each other's objects.
OWNER_LABEL = "multimesh.istio/owner"

# Server-side apply field manager of what the collection applies for no inventory in particular (the shared CNI);
# each inventory applies its own objects as field_manager(owner), so that two inventories conflict instead of
# silently taking over each other's fields.
FIELD_MANAGER = "multimesh-istio"


def field_manager(owner=None):
    return FIELD_MANAGER + "-" + owner if owner else FIELD_MANAGER


def ownership_labels(owner=None):
    """The labels of what this collection creates: its own mark and, given an owner, the inventory's identity."""
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    if owner:
        labels[OWNER_LABEL] = owner
    return labels


def carries_marks(labels, owner=None):
    """True when labels hold this collection's mark and, given an owner, this inventory's: what it may delete."""
    return all((labels or {}).get(key) == value for key, value in ownership_labels(owner).items())


def marked(obj):
    """True when obj carries a mark of this collection: its own (what it created) or an inventory's owner label
    alone (a namespace an inventory labels but did not create). Every object it writes does."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE or bool(labels.get(OWNER_LABEL))


def ours(obj, owner=None):
    """True when obj (a dict) carries this collection's mark (every object it creates does) and, given an owner,
    this inventory's identity."""
    return carries_marks((obj.get("metadata") or {}).get("labels"), owner)


def marks_text(owner=None):
    """The ownership labels as kubectl label takes them (for the fixes messages suggest)."""
    return " ".join("{0}={1}".format(key, value) for key, value in ownership_labels(owner).items())
