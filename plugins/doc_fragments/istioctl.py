# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of every module that runs istioctl: the binary and how long it may run."""

    DOCUMENTATION = r"""
options:
  istioctl_path:
    description:
      - Path to the istioctl executable. Unset, istioctl is looked up on E(PATH).
      - The version is read with C(istioctl version --remote=false) and features are used only where that version
        has them; istioctl older than 1.20 is refused.
    type: path
  istioctl_timeout:
    description: Seconds one istioctl command may run before the module fails and says which command it was.
    type: int
    default: 600
requirements:
  - istioctl on the host that runs the module (or O(istioctl_path))
notes:
  - Use C(module_defaults) with C(group/multimesh.istio.istioctl) to set these options once for every task.
"""
