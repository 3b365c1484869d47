# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Kubernetes' rules for names and label values, and how messages name an object: one definition for the modules
and the controller-side plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Used with fullmatch: '$' would also accept a trailing newline.
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A label value, and the name part of a label key: alphanumeric at both ends, '-', '_' and '.' between.
LABEL_VALUE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
MAX_LABEL_LENGTH = 63


def is_dns1123_label(value):
    """A namespace, cluster or revision name: at most 63 lowercase letters, digits and '-', alphanumeric at both ends."""
    return isinstance(value, str) and len(value) <= MAX_LABEL_LENGTH and bool(DNS1123_LABEL.fullmatch(value))


def is_label_value(value):
    """A non-empty label value (Kubernetes also takes the empty one; callers that do say so)."""
    return isinstance(value, str) and len(value) <= MAX_LABEL_LENGTH and bool(LABEL_VALUE.fullmatch(value))


def object_label(kind, namespace, name):
    """How messages name an object: 'Kind namespace/name', or 'Kind name' when it is cluster-scoped."""
    return "{0} {1}{2}".format(kind, namespace + "/" if namespace else "", name)


def label(obj):
    """object_label of a Kubernetes object given as a dict."""
    meta = obj.get("metadata") or {}
    return object_label(obj.get("kind", "?"), meta.get("namespace"), meta.get("name", "?"))
