# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters over cluster state given as data (see plugin_utils/cluster_state.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils import ca_trust, cluster_state, cni
from ansible_collections.multimesh.istio.plugins.plugin_utils.filters import filter_errors


class FilterModule(object):
    def filters(self):
        return {
            "departed_members": filter_errors(cluster_state.departed_members),
            "ca_trust_problems": filter_errors(ca_trust.ca_trust_problems),
            "cni_users": filter_errors(cni.cni_users),
        }
