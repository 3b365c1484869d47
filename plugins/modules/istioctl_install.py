#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: istioctl_install
short_description: Install or uninstall one Istio control plane revision with istioctl, idempotently
version_added: 0.1.0
description:
  - V(present) renders the IstioOperator with C(istioctl manifest generate), compares every rendered object with the
    cluster and runs C(istioctl install) only when something is missing or differs. Fields that the API server or
    istiod write (defaults, status, webhook C(caBundle), the validator's C(failurePolicy)) are not differences.
  - V(absent) runs C(istioctl uninstall --revision) with the IstioOperator's name and namespace, so only the objects
    of this revision installed from this IstioOperator are removed, with any default revision tag or default
    validator that points at the revision (they would break admission once istiod is gone). Nothing else is touched.
  - An IstioOperator without istiod (for example only the CNI) is removed with C(istioctl uninstall -f) alone,
    because istioctl finds revisions through istiod; the owner labels select exactly what that IstioOperator installed.
  - With O(owner), V(present) labels istiod's Deployment C(multimesh.istio/owner=<owner>) (through the istiod chart's
    C(values.pilot.deploymentLabels)), and V(absent) uninstalls the revision only when it is this owner's - its istiod
    carries that label, or, installed without it, its namespace does. Another inventory's install of the same
    namespace and revision is kept and named in RV(kept).
  - Removing every Istio control plane of the cluster (C(istioctl uninstall --purge)) happens only with
    O(purge_all_control_planes_in_cluster=true).
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.istioctl
  - multimesh.istio.k8s_access
attributes:
  check_mode:
    support: full
    description: Renders and compares; installs or uninstalls nothing.
  diff_mode:
    support: full
    description: Lists every object that would be created, changed or removed and the fields that differ.
options:
  state:
    description: Whether the revision is installed.
    type: str
    choices: [present, absent]
    default: present
  revision:
    description:
      - The control plane revision (DNS-1123 label). It is written into the IstioOperator's C(spec.revision); an
        IstioOperator that names another revision is refused.
    type: str
    required: true
  istio_operator:
    description:
      - The IstioOperator as a dict (C(apiVersion), C(kind), C(metadata), C(spec)). Mutually exclusive with O(src).
      - For O(state=absent), its C(metadata.name) and C(metadata.namespace) select what is removed; without it
        O(istio_namespace) gives the namespace.
    type: dict
  src:
    description: Path to a file with the IstioOperator, on the host that runs the module.
    type: path
  set:
    description: Overrides passed as C(--set key=value), in order, after the IstioOperator.
    type: dict
    default: {}
  istio_namespace:
    description:
      - Namespace of the control plane. Defaults to the IstioOperator's C(spec.values.global.istioNamespace), then
        its C(metadata.namespace), then C(istio-system).
    type: str
  readiness_timeout:
    description: Seconds C(istioctl install) waits for the control plane's Deployments to be ready.
    type: int
    default: 300
  default_revision:
    description:
      - Whether this revision is the cluster's default revision, that is, the target of the C(default) revision tag
        (the webhook that injects namespaces labelled C(istio-injection=enabled)) and of C(istiod-default-validator).
      - V(true) removes default tags of other revisions and makes sure this revision has one.
      - V(false) removes, after the install, every default tag or default validator that points at this revision;
        istioctl creates one on the first install in a cluster (istio/istio#57412).
      - Unset leaves istioctl's behaviour alone.
    type: bool
  owner:
    description:
      - The inventory that installs the revision (C(multimesh_owner)), as a label value.
      - V(present) sets C(spec.values.pilot.deploymentLabels[multimesh.istio/owner]) to it; an IstioOperator with
        another value there is refused.
      - V(absent) uninstalls nothing, and removes no default webhook, when the revision's istiod carries another
        owner, or carries none and its namespace does not carry this owner's C(multimesh.istio/owner) label; RV(kept)
        says so. Unset, the revision is removed whoever installed it.
    type: str
  purge_all_control_planes_in_cluster:
    description:
      - With O(state=absent), run C(istioctl uninstall --purge), which removes B(every) Istio control plane and the
        shared cluster resources of the cluster, not only O(revision). Off unless set explicitly.
    type: bool
    default: false
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
"""

EXAMPLES = r"""
- name: Install the usergroup-1 control plane (one of several control planes in a single cluster)
  multimesh.istio.istioctl_install:
    revision: usergroup-1
    istio_operator:
      apiVersion: install.istio.io/v1alpha1
      kind: IstioOperator
      metadata:
        name: usergroup-1
        namespace: usergroup-1
      spec:
        profile: minimal
        meshConfig:
          discoverySelectors:
            - matchLabels:
                usergroup: usergroup-1
        values:
          global:
            istioNamespace: usergroup-1

- name: Uninstall it again, touching no other revision
  multimesh.istio.istioctl_install:
    state: absent
    revision: usergroup-1
    istio_namespace: usergroup-1
"""

RETURN = r"""
revision:
  description: The revision acted on.
  returned: always
  type: str
  sample: usergroup-1
istio_namespace:
  description: The control plane namespace.
  returned: always
  type: str
  sample: usergroup-1
istioctl_version:
  description: The istioctl client version used.
  returned: always
  type: str
  sample: 1.30.3
objects:
  description: How many objects the rendered manifest holds (present) or the cluster holds for the revision (absent).
  returned: always
  type: int
  sample: 31
differences:
  description: Objects that are missing, differ or would be removed, with the first differing fields.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: Deployment
      namespace: usergroup-1
      name: istiod-usergroup-1
      reason: differs
      paths: ["spec.template.spec.containers[0].image"]
cmd:
  description: The istioctl command that changed the cluster (empty when nothing was run).
  returned: always
  type: str
kept:
  description: With O(owner) and V(absent), the revision left installed because another inventory installed it, and why.
  returned: always
  type: list
  elements: str
  sample: ["IstioOperator usergroup-1/usergroup-1 (revision usergroup-1): kept, not created by this inventory
           (multimesh.istio/owner): Deployment usergroup-1/istiod-usergroup-1 carries multimesh.istio/owner=team-a. Fix:
           if it is this inventory's, label its istiod Deployment multimesh.istio/owner=team-b"]
stdout:
  description: Its output.
  returned: when istioctl ran
  type: str
stderr:
  description: Its error output.
  returned: when istioctl ran
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.multimesh.istio.plugins.module_utils.istioctl import ISTIOCTL_SPEC, Istioctl, IstioctlError
from ansible_collections.multimesh.istio.plugins.module_utils.istioctl_install import run_install
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import api_failure, is_api_error

ARGUMENT_SPEC = dict(
    ISTIOCTL_SPEC,
    state=dict(type="str", choices=["present", "absent"], default="present"),
    revision=dict(type="str", required=True),
    istio_operator=dict(type="dict"),
    src=dict(type="path"),
    set=dict(type="dict", default={}),
    istio_namespace=dict(type="str"),
    readiness_timeout=dict(type="int", default=300),
    default_revision=dict(type="bool"),
    purge_all_control_planes_in_cluster=dict(type="bool", default=False),
    owner=dict(type="str"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("istio_operator", "src")],
                           supports_check_mode=True)
    istioctl = Istioctl(module)
    try:
        module.exit_json(**run_install(module, istioctl))
    except IstioctlError as exc:
        istioctl.fail(exc, revision=module.params["revision"])
    except Exception as exc:  # only API errors become a message; anything else is a bug to show
        if not is_api_error(exc):
            raise
        module.fail_json(msg=api_failure(exc, "revision {0}: reading the cluster".format(module.params["revision"])))


if __name__ == "__main__":
    main()
