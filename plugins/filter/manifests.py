# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that turn the objects a role built into render files (multi-document YAML)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import manifest_files, removal_plan, split_objects


def _manifest_files(items, stage):
    try:
        return manifest_files(items, stage)
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError("manifest_files: {0}".format(to_native(exc)))


def _kube_objects(items):
    return split_objects(items)[0]


def _istioctl_inputs(items):
    return split_objects(items)[1]


class FilterModule(object):
    def filters(self):
        return {
            "manifest_files": _manifest_files,
            "kube_objects": _kube_objects,
            "istioctl_inputs": _istioctl_inputs,
            "removal_plan": removal_plan,
        }
