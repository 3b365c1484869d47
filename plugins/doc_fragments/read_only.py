# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attributes of the modules that only observe a cluster."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Observes the same way in check mode; nothing it does changes what the cluster stores.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
"""
