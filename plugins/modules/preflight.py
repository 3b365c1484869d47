#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/preflight.py) that runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Check the cluster before any change to it
version_added: 0.1.0
description:
  - Reads the Sail Operator CRDs, the C(Istio) resources, the namespaces, the istiod Deployments and the cluster-scoped
    RBAC and webhook configurations with one client, from the controller,
    and fails, changing nothing, when the Sail Operator CRDs are missing (Sail backend, unless the operator is
    installed by the collection); when an C(Istio) named like one of this inventory's revisions was not created by
    the collection; when an C(Istio) not in this inventory has no discovery selectors or selects this inventory's
    namespaces; or when a member namespace carries another revision's C(istio.io/rev) or an C(istio-injection)
    label; or when a ClusterRole, ClusterRoleBinding or webhook configuration that a mesh's install would create
    (the names Istio's charts give, C(cluster_objects) in the model) already exists and is not that mesh's (another
    inventory's owner label, another revision, owned by another C(Istio) or C(IstioRevision), bound or pointing into
    another namespace, or without any of the labels Istio's charts set). Each message names the object, both owners
    and the fix.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - multimesh.istio.read_only
options:
  model:
    description: The expanded model, C(multimesh_model) (see M(multimesh.istio.mesh_model)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the cluster before any change
  multimesh.istio.preflight:
    model: "{{ multimesh_model }}"
"""

RETURN = r"""
problems:
  description: Every reason not to touch the cluster; empty when it is safe.
  returned: always
  type: list
  elements: str
  sample: []
istios:
  description: How many C(Istio) resources were checked.
  returned: always
  type: int
  sample: 2
namespaces:
  description: How many namespaces were checked.
  returned: always
  type: int
  sample: 12
"""
