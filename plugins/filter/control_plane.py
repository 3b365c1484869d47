# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The control planes' steps, in the order the topologies need (plugins/plugin_utils/control_plane_plan.py), and
the IstioOperator form of a mesh's Helm values (plugins/plugin_utils/values.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.control_plane_plan import control_plane_plan, control_plane_steps
from ansible_collections.multimesh.istio.plugins.plugin_utils.filters import filter_errors
from ansible_collections.multimesh.istio.plugins.plugin_utils.values import istio_operator_values


class FilterModule(object):
    def filters(self):
        return {
            "control_plane_steps": filter_errors(control_plane_steps),
            "control_plane_plan": filter_errors(control_plane_plan),
            "istio_operator_values": filter_errors(istio_operator_values),
        }
