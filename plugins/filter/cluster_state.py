# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters over cluster state given as data (see module_utils/cluster_state.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.multimesh.istio.plugins.module_utils import cluster_state


def _wrap(function):
    def wrapped(*args):
        try:
            return function(*args)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise AnsibleFilterError("{0}: {1}".format(function.__name__, to_native(exc)))
    return wrapped


class FilterModule(object):
    def filters(self):
        return {
            "preflight_problems": _wrap(cluster_state.preflight_problems),
            "readiness_report": _wrap(cluster_state.readiness_report),
            "departed_members": _wrap(cluster_state.departed_members),
            "control_plane_values": _wrap(cluster_state.control_plane_values),
        }
