# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that build objects in Python rather than Jinja: an injected ingress gateway's (plugin_utils/gateway_objects.py),
the member namespaces' (plugin_utils/member_objects.py) and the sample apps' (plugin_utils/sample_objects.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils import gateway_objects, member_objects, sample_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.filters import filter_errors


class FilterModule(object):
    def filters(self):
        return {"injected_gateway": filter_errors(gateway_objects.injected_gateway, "injected_gateway"),
                "member_objects": filter_errors(member_objects.member_objects, "member_objects"),
                "sample_objects": filter_errors(sample_objects.sample_objects, "sample_objects")}
