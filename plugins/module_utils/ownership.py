# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The marks of what this collection created: one definition for the modules and the controller-side plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "multimesh.istio"
# Which inventory created an object: two inventories on one cluster never take each other's objects.
OWNER_LABEL = "multimesh.istio/owner"
