#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/mesh_model.py) and runs on the controller.
# Its options are mesh_model_argspec() in plugins/module_utils/action_args.py (this file stays documentation only, as ansible-test
# expects); tests/unit/plugins/test_action_argspecs.py holds the two equal.

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
  - Runs on the controller only and never contacts a cluster. It reads the C(multimesh_*) variables of the host
    itself, as the entry point C(inventory) of the role M(multimesh.istio.model)'s argument spec describes them (the
    one description of the inventory; README's tables are generated from it). A C(multimesh_*) variable that is
    not described there is reported as a typo.
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
  fact_name:
    description: Name of the fact that receives the model.
    type: str
    default: multimesh_model
  versions:
    description:
      - Versions that replace the named meshes' C(version) for this run (mesh name to version), as
        C(playbooks/upgrade.yml) does with C(upgrade_mesh) and C(upgrade_version). Each name must be a mesh of
        C(multimesh_meshes); the version is validated like the inventory's.
    type: dict
"""

EXAMPLES = r"""
- name: Validate the multimesh_* variables of the host and publish multimesh_model
  multimesh.istio.mesh_model:

- name: The same, published under another name
  multimesh.istio.mesh_model:
    fact_name: my_meshes

- name: The model with mesh-2 at another version than the inventory's (an upgrade of that mesh)
  multimesh.istio.mesh_model:
    versions:
      mesh-2: 1.30.3
"""

RETURN = r"""
ansible_facts:
  description: The expanded model under the key O(fact_name).
  returned: success
  type: dict
  contains:
    multimesh_model:
      description:
        - The model of this cluster, the same on every run for the same inventory; nothing changes it afterwards.
      type: dict
      returned: success
      contains:
        backend:
          description: sail or istioctl (multimesh_backend).
          type: str
          returned: success
        platform:
          description: kubernetes or openshift (multimesh_platform).
          type: str
          returned: success
        istio_version:
          description: The inventory's Istio version, without a leading v (multimesh_istio_version).
          type: str
          returned: success
        cni:
          description: "The shared CNI: enabled, namespace, version, values."
          type: dict
          returned: success
        sail_operator:
          description: "The Sail Operator's Helm release: install, version, namespace, chart_repo_url, values, chart_ref."
          type: dict
          returned: success
        samples:
          description: The default sample apps of a member namespace (multimesh_samples).
          type: list
          elements: str
          returned: success
        meshes:
          description:
            - The meshes this cluster takes part in, each as this cluster's view of it - every key of the inventory's
              mesh with its default filled in, its part here (C(role), C(readers), C(served_by)...) and what is derived
              once (C(discovery_selectors), C(member_labels), C(control_plane_values), C(default)).
            - C(plugins/plugin_utils/model/shape.py) lists and describes every key of a mesh.
          type: list
          elements: dict
          returned: success
        cluster:
          description: "This cluster: host, name, network."
          type: dict
          returned: success
        clusters:
          description: Every cluster of the inventory, as 'cluster'.
          type: list
          elements: dict
          returned: success
        render_dir:
          description: Where render mode writes manifests (per cluster with several), None when applying.
          type: str
          returned: success
        render:
          description: Whether this run renders manifests instead of applying them.
          type: bool
          returned: success
        verify_report_dir:
          description: Where the verification writes its reports (per cluster with several).
          type: str
          returned: success
        ca_dir:
          description: The controller directory with each multicluster mesh's root CA.
          type: str
          returned: success
        owner:
          description: The inventory's identity on its clusters (label multimesh.istio/owner).
          type: str
          returned: success
        field_manager:
          description: The server-side apply field manager, named after the owner.
          type: str
          returned: success
        ownership_labels:
          description: The labels that mark what this inventory created.
          type: dict
          returned: success
        owner_label:
          description: The owner label alone, for member namespaces the collection labels but may not have created.
          type: dict
          returned: success
        default_mesh:
          description: The mesh whose revision is the cluster's default, or None.
          type: str
          returned: success
errors:
  description: One line per problem, each naming the mesh, the field and the fix.
  returned: failure
  type: list
  elements: str
  sample:
    - "mesh 'mesh-2'.mtls_mode: unsupported mode 'STRIKT'. Fix: use STRICT (isolates meshes) or PERMISSIVE (migration only)."
"""
