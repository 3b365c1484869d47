#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/stage.py) that runs on the controller.
# Its options are stage_argspec() in plugins/module_utils/action_args.py (this file stays documentation only, as ansible-test
# expects); tests/unit/plugins/test_action_argspecs.py holds the two equal.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stage
short_description: Render, apply or remove one stage's objects - the last step of every role
version_added: 0.1.0
description:
  - Takes the objects a role built (items C({group, object})) and, with O(render_dir), writes them into one
    multi-document file per stage and group (IstioOperator inputs under C(istioctl/)), writing only files whose
    content differs. Rendering contacts no cluster.
  - Otherwise applies them with server-side apply under its own field manager, in order - namespaces, then
    C(istioctl install) of every IstioOperator input (with M(multimesh.istio.istioctl_install) on the host), then the
    rest; or, with O(state=absent), removes them in the reverse order.
  - Never takes over an object it did not create. An object that exists without this inventory's labels
    (C(app.kubernetes.io/managed-by=multimesh.istio) and, with O(owner), C(multimesh.istio/owner)) fails the task,
    naming it and the fix, before anything is written to it - server-side apply would otherwise add the labels, and
    a later removal would delete another's object. A namespace not in O(owned_namespaces) may exist before and only
    gets its labels, unless another inventory's owner label is on it. The M(multimesh.istio.preflight) checks refuse
    the same objects before any stage runs.
  - Writes only what differs. Every applied object carries the digest of the configuration last applied
    (annotation C(multimesh.istio/applied)); an object whose digest matches and whose live state still holds every
    applied field gets no request beyond one read, otherwise a server-side dry run shows what the apply would store
    and only a real difference is written. A run that changes nothing sends no write request.
  - Talks to the API server from the controller with M(kubernetes.core.k8s)'s client and access options (one
    client for the whole stage), so a stage costs no module start-up.
  - With O(wait), waits until every object of those kinds reports ready (C(Ready) condition; C(Available) for
    Deployments) for its current generation, and fails naming each object that is not, and why.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
attributes:
  check_mode:
    support: full
    description: Server-side dry runs decide what would change; nothing is written, istioctl installs nothing.
  diff_mode:
    support: full
    description: One before/after diff per changed object (YAML, without the fields the API server writes), per file in render mode.
options:
  objects:
    description: The stage's objects, items C({group, object}); C(group) names the render file (a mesh name or C(cluster)).
    type: list
    elements: dict
    required: true
  stage:
    description: Stage name, the prefix of the render files (for example C(20-control-plane)).
    type: str
    required: true
  state:
    description:
      - V(present) applies (or renders) the objects.
      - V(absent) deletes them in reverse order. Namespaces not in O(owned_namespaces) are kept and only lose
        the fields this collection's field manager set (labels, annotation). Render mode removes nothing.
      - Each delete is conditional on the uid and resourceVersion of the object whose ownership was checked. When
        the API server answers 409 Conflict (it changed or was replaced since), the object is read and checked again,
        up to 3 times; then the task fails naming it, and a run after the change settles removes it.
    type: str
    choices: [present, absent]
    default: present
  render_dir:
    description: Write the objects under this directory instead of applying them.
    type: path
  owned_namespaces:
    description:
      - Namespaces this inventory must have created. O(state=present) refuses one that exists without this
        inventory's labels (see O(owner)); O(state=absent) deletes one only when it carries them, and otherwise only
        takes off the fields this collection set.
    type: list
    elements: str
    default: []
  owner:
    description:
      - The inventory's identity (C(multimesh_model.owner)); it names the field manager. With it, O(state=absent)
        deletes only objects (namespaces too) labelled
        C(multimesh.istio/owner) with this value (and C(app.kubernetes.io/managed-by=multimesh.istio)), and
        O(state=present) writes only to existing objects so labelled; without it, any object with the collection's
        mark.
    type: str
  wait:
    description: Kinds (for example C(Istio), C(Deployment)) whose objects must report ready before the task ends.
    type: list
    elements: str
    default: []
  wait_timeout:
    description: How long O(wait) waits in all, in seconds.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two reads while waiting.
    type: int
    default: 5
  field_manager:
    description:
      - Server-side apply field manager. Unset, C(multimesh-istio-<owner>) with O(owner) (two inventories then
        conflict on a field instead of taking it over from each other), C(multimesh-istio) without.
    type: str
  force_conflicts:
    description: Take over fields another field manager owns with a different value (otherwise the apply fails and says which).
    type: bool
    default: false
  istioctl_path:
    description: The istioctl binary for IstioOperator inputs; unset, C(istioctl) is looked up in C(PATH) on the host.
    type: path
  istioctl_timeout:
    description: Passed to M(multimesh.istio.istioctl_install) (how long one istioctl command may run, in seconds).
    type: int
  istioctl_readiness_timeout:
    description: How long each C(istioctl install) waits for its control plane, in seconds.
    type: int
    default: 300
requirements:
  - kubernetes.core >= 6.0.0 and the Python C(kubernetes) client on the controller
"""

EXAMPLES = r"""
- name: Apply a namespace and its policy, writing only what differs
  multimesh.istio.stage:
    stage: 20-control-plane
    objects:
      - group: mesh-1
        object:
          apiVersion: v1
          kind: Namespace
          metadata:
            name: istio-system-1
      - group: mesh-1
        object:
          apiVersion: security.istio.io/v1
          kind: PeerAuthentication
          metadata:
            name: default
            namespace: istio-system-1
          spec:
            mtls:
              mode: STRICT

- name: Render the same objects into files instead
  multimesh.istio.stage:
    stage: 20-control-plane
    objects: "{{ objects }}"
    render_dir: /tmp/manifests
"""

RETURN = r"""
objects:
  description:
    - Each object and what the stage did to it - C(created), C(updated), C(unchanged), C(deleted), C(absent),
      C(terminating) (deleted before, not gone yet), C(released) (a namespace it does not own lost what the collection
      set), C(kept) (nothing of the collection's left on it), C(kept, not created by this inventory) (same name,
      someone else's, not deleted), C(released, not created by this inventory) (an owned namespace without this
      inventory's labels, not deleted; only what the collection set was taken off), C(installed) or C(uninstalled)
      (IstioOperator inputs).
    - After a failure, what was done before it.
  returned: when applying or removing
  type: list
  elements: dict
  sample:
    - kind: Namespace
      name: istio-system-1
      namespace: null
      action: created
      changed: true
files:
  description: The render files of the stage, relative to O(render_dir).
  returned: in render mode
  type: list
  elements: str
  sample: [20-control-plane-mesh-1.yaml]
written:
  description: The render files whose content differed and were written (would be, in check mode).
  returned: in render mode
  type: list
  elements: str
  sample: [20-control-plane-mesh-1.yaml]
ready:
  description: The waited-for objects that reported ready.
  returned: when applying or removing (empty unless O(wait) waited)
  type: list
  elements: str
  sample: [Istio mesh-1]
pending:
  description: The waited-for objects that did not, with the reason.
  returned: when applying or removing (empty unless O(wait) waited)
  type: dict
  sample: {}
msg:
  description: What changed.
  returned: always
  type: str
  sample: "20-control-plane: 1 of 2 object(s) changed"
"""
