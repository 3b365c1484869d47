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
        - Keys C(backend), C(istio_version), C(cni), C(sail_operator), C(samples), C(meshes), C(render_dir), C(render),
          C(default_mesh). Each mesh has every key with its default filled in, plus C(default)
          (whether it is C(multimesh_default_mesh)), C(discovery_selectors)
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
