#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/preflight.py) that runs on the controller.
# Its options are preflight_argspec() in plugins/module_utils/action_args.py (this file stays documentation only, as ansible-test
# expects); tests/unit/plugins/test_action_argspecs.py holds the two equal.

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
  - Matches other installations on every name this inventory's meshes use - the C(istio.io/rev) value its members
    carry (a C(RevisionBased) mesh's tag) and its istiods' revision - and fails when an istiod Deployment of one of
    those names runs outside the mesh's namespace, or when a revision tag (a MutatingWebhookConfiguration labelled
    C(istio.io/tag=<name>), which injects every namespace labelled C(istio.io/rev=<name>)) of one of those names is not
    the mesh's (points at another revision or into another namespace, or carries another inventory's owner label).
  - Reads every istiod's mesh config - the C(istio-<revision>) ConfigMaps (label C(istio.io/rev)) in any namespace,
    whatever installed them - and fails when one that is not this inventory's (not in one of its meshes' namespaces
    under one of that mesh's revisions, or carrying another inventory's C(multimesh.istio/owner)) has no
    C(discoverySelectors) or selects one of this inventory's member or control-plane namespaces, evaluated on the
    labels the run will set. Each message names the ConfigMap, the istiod revision and the fix.
  - Also reads every other object the run would apply (the default templates of the C(cni), C(control_plane),
    C(members) and C(samples) roles, one read each) and fails when one exists without this inventory's labels
    (C(app.kubernetes.io/managed-by=multimesh.istio) and C(multimesh.istio/owner=<owner>); the shared CNI's only the
    former) - server-side apply would take it over without a conflict, and cleanup would then delete it, for
    example a user's C(httpbin) Service in a member namespace; and when a namespace marked C(owned) (cleanup deletes
    it) exists without them. A namespace that is not owned may exist and only gets labels. C(multimesh.istio.stage)
    refuses the same when it applies, for objects of overridden templates too.
  - Also reads, for each multicluster mesh whose istiod runs on this cluster, the root CA its C(cacerts) secret holds
    and the root kept under C(multimesh_ca_dir), and returns them as RV(ca_roots) - the C(multimesh.istio.preflight)
    role compares them across the mesh's clusters (filter M(multimesh.istio.ca_trust_problems)), so that a lost CA
    directory stops the run instead of minting a second root.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
  - multimesh.istio.read_only
options:
  model:
    description: The expanded model, C(multimesh_model) (see M(multimesh.istio.mesh_model)).
    type: dict
    required: true
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the controller
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
objects:
  description: How many other objects the run would apply were read and checked.
  returned: always
  type: int
  sample: 24
ca_roots:
  description:
    - Per multicluster mesh with an istiod here, SHA-256 fingerprints only (no key) - the root CA and this cluster's
      intermediate CA in its C(cacerts) secret (C(held_root), C(held_intermediate)) and in its directory on the
      controller (C(ca_dir_root), C(ca_dir_intermediate)), and whether that directory holds the root's key
      (C(ca_dir_root_key)); C(null) where there is none. C(ca_clusters) lists the mesh's clusters that hold a
      C(cacerts) (each a C([cluster, inventory host]) pair); while one of them is not in the run, no new root is minted.
  returned: always
  type: list
  elements: dict
  sample:
    - mesh: mesh-1
      cluster: east
      namespace: istio-system
      ca_dir: /srv/multimesh-ca/mesh-1
      ca_dir_root: 3f1c...
      ca_dir_root_key: true
      ca_dir_intermediate: 9b20...
      held_root: 3f1c...
      held_intermediate: 9b20...
      ca_clusters: [[central, cluster-2], [east, cluster-1]]
"""
