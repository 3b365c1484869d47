#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: istioctl_proxy_status
short_description: Which istiod serves each proxy, and whether its xDS configuration is in sync
version_added: 0.1.0
description:
  - Runs C(istioctl proxy-status) and returns one entry per proxy with its workload, namespace, istiod instance,
    revision, version and the sync state of every xDS type.
  - Uses C(-o json) where the istioctl version has it and parses the table otherwise (every table layout istioctl
    has printed, including C(--verbosity 1) where it exists).
  - Reads only; never reports C(changed).
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.istioctl
  - multimesh.istio.k8s_access
attributes:
  check_mode:
    support: full
    description: Runs the same read-only command.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
options:
  istio_namespace:
    description: Namespace of the istiod to ask (C(-i)); every proxy it serves is listed.
    type: str
    default: istio-system
  revision:
    description: Ask the istiod of this revision (C(--revision)).
    type: str
  namespace:
    description: Keep only proxies of workloads in this namespace.
    type: str
  output:
    description: V(auto) picks JSON when the istioctl version has it; V(table) forces the table.
    type: str
    choices: [auto, json, table]
    default: auto
"""

EXAMPLES = r"""
- name: Which proxies does the usergroup-1 control plane serve (one of several in a single cluster, `istioctl ps -i usergroup-1`)
  multimesh.istio.istioctl_proxy_status:
    istio_namespace: usergroup-1
    revision: usergroup-1
  register: usergroup_1

- name: Every proxy of app-ns-1 is served by usergroup-1 and in sync
  ansible.builtin.assert:
    that:
      - usergroup_1.proxies | selectattr('namespace', 'equalto', 'app-ns-1') | list | length > 0
      - usergroup_1.summary.not_synced | length == 0
"""

RETURN = r"""
proxies:
  description: One entry per proxy, sorted by name.
  returned: success
  type: list
  elements: dict
  sample:
    - name: httpbin-9dbd644c7-hccpf.app-ns-1
      pod: httpbin-9dbd644c7-hccpf
      namespace: app-ns-1
      cluster: Kubernetes
      istiod: istiod-usergroup-1-5ccc849b5f-wnqd6
      revision: usergroup-1
      version: 1.30.3
      states: {CDS: SYNCED, LDS: SYNCED, EDS: SYNCED, RDS: SYNCED, ECDS: NOT_SENT}
      subscribed: [CDS, LDS, EDS, RDS]
      synced: true
summary:
  description: Counts, and the proxies that are not in sync or whose state istioctl did not print.
  returned: success
  type: dict
  sample: {total: 2, synced: 2, not_synced: [], unknown: []}
format:
  description: The output format that was parsed (json or table).
  returned: success
  type: str
istioctl_version:
  description: The istioctl client version used.
  returned: success
  type: str
cmd:
  description: The command that ran.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.multimesh.istio.plugins.module_utils.istioctl import ISTIOCTL_SPEC, Istioctl, IstioctlError, version_text
from ansible_collections.multimesh.istio.plugins.module_utils.proxy_status import ProxyStatusError, parse, summary

ARGUMENT_SPEC = dict(
    ISTIOCTL_SPEC,
    istio_namespace=dict(type="str", default="istio-system"),
    revision=dict(type="str"),
    namespace=dict(type="str"),
    output=dict(type="str", choices=["auto", "json", "table"], default="auto"),
)


def proxy_status(module, istioctl):
    params = module.params
    output = params["output"]
    if output == "auto":
        output = "json" if istioctl.has("proxy_status_json") else "table"
    elif output == "json" and not istioctl.has("proxy_status_json"):
        raise IstioctlError("output=json: istioctl {0} has no JSON proxy-status. Fix: use output=auto or table.".format(
            version_text(istioctl.version())))
    args = ["proxy-status", "-i", params["istio_namespace"], "-o", output]
    if output == "table" and istioctl.has("proxy_status_verbosity"):
        args += ["--verbosity", "1"]
    if params["revision"]:
        args += ["--revision", params["revision"]]
    _rc, out, _err = istioctl.run(args, cluster=True)
    try:
        proxies = parse(out, output)
    except ProxyStatusError as exc:
        raise IstioctlError("istioctl proxy-status: {0}".format(exc), stdout=out[:4000])
    if params["namespace"]:
        proxies = [p for p in proxies if p["namespace"] == params["namespace"]]
    return {"changed": False, "proxies": proxies, "summary": summary(proxies), "format": output,
            "istioctl_version": version_text(istioctl.version()), "cmd": " ".join(["istioctl"] + args)}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    istioctl = Istioctl(module)
    try:
        module.exit_json(**proxy_status(module, istioctl))
    except IstioctlError as exc:
        istioctl.fail(exc)


if __name__ == "__main__":
    main()
