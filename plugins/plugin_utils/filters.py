# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What the filter plugins share: bad input becomes an AnsibleFilterError that names the filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native


def filter_errors(function, name=None):
    """function as a filter whose malformed-input errors say which filter raised them."""
    label = name or function.__name__

    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise AnsibleFilterError("{0}: {1}".format(label, to_native(exc)))
    return wrapped
