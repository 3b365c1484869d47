#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/k8s_apply.py) that runs kubernetes.core.k8s.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_apply
short_description: Apply many Kubernetes objects in one call and show a diff per object
version_added: 0.1.0
description:
  - Runs M(kubernetes.core.k8s) once for a list of objects, with server-side apply and its own field manager,
    so fields and labels owned by other managers are left alone.
  - In diff mode it shows one diff per changed object, without the fields the API server writes (managed fields,
    resource version, status); M(kubernetes.core.k8s) alone keeps them nested where callbacks do not look.
  - Check mode uses the API server's dry run; nothing is written.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.cluster
attributes:
  check_mode:
    support: full
    description: The API server's dry run decides what would change.
  diff_mode:
    support: full
    description: One before/after diff per changed object.
options:
  definition:
    description: The objects, applied in order (namespaces first).
    type: list
    elements: dict
    required: true
  state:
    description: V(present) applies the objects; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: Server-side apply field manager.
    type: str
    default: multimesh-istio
  force_conflicts:
    description: Take over fields another field manager owns with a different value (otherwise the apply fails and says which).
    type: bool
    default: false
requirements:
  - kubernetes.core >= 5.0.0 and the Python C(kubernetes) client on the controller
"""

EXAMPLES = r"""
- name: Apply a namespace and its policy in one call
  multimesh.istio.k8s_apply:
    definition:
      - apiVersion: v1
        kind: Namespace
        metadata:
          name: istio-system-1
          labels:
            istio-discovery: mesh-1
      - apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: default
          namespace: istio-system-1
        spec:
          mtls:
            mode: STRICT
"""

RETURN = r"""
objects:
  description: Each object with whether it changed (or would change in check mode).
  returned: success
  type: list
  elements: dict
  sample:
    - kind: Namespace
      name: istio-system-1
      namespace: null
      changed: true
msg:
  description: How many objects changed.
  returned: success
  type: str
  sample: 1 of 2 object(s) changed
"""
