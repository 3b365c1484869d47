# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of the isolation verification (see plugin_utils/verification_probes.py and verification_checks.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.filters import filter_errors
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_checks import check_pods
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_probes import probe_pairs


class FilterModule(object):
    def filters(self):
        return {"probe_pairs": filter_errors(probe_pairs),
                "pod_checks": filter_errors(check_pods, "pod_checks")}
