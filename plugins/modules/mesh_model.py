#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/mesh_model.py) and runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mesh_model
short_description: Validate the multimesh inventory and expand its defaults into one model
version_added: 0.1.0
description:
  - Checks every mesh of the inventory before anything touches a cluster and returns the expanded model
    that all roles of the collection read, as the fact O(fact_name).
  - Collects every problem and fails with one message per problem, each naming the mesh, the field and the fix.
  - Rejects duplicate mesh names, namespaces and revisions; a namespace in two meshes or that is another mesh's
    control-plane namespace; discovery labels with which one mesh would select another mesh's namespaces;
    invalid DNS-1123 names and label syntax; unknown keys; wrong types; unsupported backend or mTLS mode;
    revision V(default) used by more than one mesh; C(multimesh_*) variables the collection does not know.
  - Runs on the controller only and never contacts a cluster. The role M(multimesh.istio.model) calls it with the
    C(multimesh_*) inventory variables; see that role's argument spec for every key of a mesh.
author:
  - multimesh.istio maintainers (@multimesh-istio)
attributes:
  check_mode:
    support: full
    description: Validation changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
options:
  backend:
    description: Install backend, C(multimesh_backend).
    type: str
    choices: [sail, istioctl]
    default: sail
  istio_version:
    description: Default Istio version for all meshes, C(multimesh_istio_version); a leading C(v) is dropped.
    type: str
    default: "1.30.3"
  cni:
    description: The one CNI shared by all meshes, C(multimesh_cni), with keys C(enabled), C(namespace), C(version), C(values).
    type: dict
  meshes:
    description:
      - The meshes, C(multimesh_meshes). Each item has C(name) and C(namespace) (required) and C(revision),
        C(version), C(discovery_labels), C(mtls_mode), C(members), C(samples), C(values).
    type: list
    elements: dict
    required: true
  samples:
    description: Default sample apps per member namespace, C(multimesh_samples).
    type: list
    elements: str
  render_dir:
    description: When set, roles write manifests here instead of applying them, C(multimesh_render_dir).
    type: str
  kubeconfig:
    description: Path to the kubeconfig, C(multimesh_kubeconfig); unset means the environment's.
    type: str
  context:
    description: Kubeconfig context, C(multimesh_context); unset means the current context.
    type: str
  istioctl_path:
    description: Path to istioctl, C(multimesh_istioctl_path); unset means PATH.
    type: str
  sail_operator:
    description:
      - Whether and how to install the Sail Operator with Helm, C(multimesh_sail_operator), with keys C(install),
        C(version), C(namespace), C(chart_repo_url), C(values).
    type: dict
  default_mesh:
    description:
      - Name of the mesh whose revision is the cluster's default, C(multimesh_default_mesh)
        (the C(default) revision tag for C(istio-injection=enabled) namespaces and the C(istiod-default-validator)).
      - Empty or unset means no mesh is the default, and no default webhook may point at one of the meshes.
    type: str
  fact_name:
    description: Name of the fact that receives the model.
    type: str
    default: multimesh_model
"""

EXAMPLES = r"""
- name: Validate two meshes and publish multimesh_model
  multimesh.istio.mesh_model:
    backend: sail
    meshes:
      - name: mesh-1
        namespace: istio-system-1
        members: [app-ns-1]
      - name: mesh-2
        namespace: istio-system-2
        members: [app-ns-2, app-ns-3]
"""

RETURN = r"""
ansible_facts:
  description: The expanded model under the key O(fact_name).
  returned: success
  type: dict
  contains:
    multimesh_model:
      description:
        - Keys C(backend), C(istio_version), C(cni), C(sail_operator), C(samples), C(meshes), C(render_dir), C(kubeconfig), C(context),
          C(istioctl_path), C(default_mesh). Each mesh has every key with its default filled in, plus C(default)
          (whether it is O(default_mesh)), C(discovery_selectors)
          (for C(meshConfig.discoverySelectors)) and C(member_labels) (the labels of a member namespace).
      type: dict
      returned: success
errors:
  description: One line per problem, each naming the mesh, the field and the fix.
  returned: failure
  type: list
  elements: str
  sample:
    - "mesh 'mesh-2'.mtls_mode: unsupported mode 'STRIKT'. Fix: use STRICT (isolates meshes) or PERMISSIVE (migration only)."
"""
