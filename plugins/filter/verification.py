# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of the isolation verification (see module_utils/verification.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.multimesh.istio.plugins.module_utils import verification


def probe_pairs(model):
    return verification.probe_pairs(model)


def pod_checks(model, pods):
    return verification.check_pods(model, pods)


class FilterModule(object):
    def filters(self):
        def wrap(function):
            def wrapped(*args):
                try:
                    return function(*args)
                except (TypeError, ValueError, KeyError, AttributeError) as exc:
                    raise AnsibleFilterError("{0}: {1}".format(function.__name__, to_native(exc)))
            return wrapped
        return {"probe_pairs": wrap(probe_pairs), "pod_checks": wrap(pod_checks)}
