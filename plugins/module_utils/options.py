# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Checks on module options that an argument spec cannot say."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def require_item_keys(module, option, keys, fix):
    """Fail naming option[index] and the missing keys when an item of a list option lacks one of keys."""
    for index, item in enumerate(module.params[option]):
        missing = [key for key in keys if not item.get(key)]
        if missing:
            module.fail_json(msg="{0}[{1}]: missing {2}. Fix: {3}.".format(option, index, ", ".join(missing), fix))
