#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remote_access
short_description: What the remote secrets of a control-plane cluster let istiod do on the other clusters
version_added: 0.1.0
description:
  - For each remote secret named in O(readers), reads it in the control-plane cluster and, with the credentials it
    holds (exactly as istiod would), asks the other cluster's API server two things - can it list namespaces (what
    istiod needs), and may it create namespaces, secrets or cluster role bindings (what a reader must not do; asked
    with C(SelfSubjectAccessReview)s, so nothing is written).
  - Returns what was observed per secret; credentials never leave the module. The module itself fails only on bad
    input or when the control-plane cluster cannot be read.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - multimesh.istio.read_only
options:
  readers:
    description:
      - The remote secrets to try, each with C(namespace) (istiod's), C(cluster) (the cluster the secret reaches) and
        C(type) (C(remote) or C(config)), as C(multimesh_model.meshes[].readers) lists them.
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds each request to another cluster may take.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Try the remote secrets of the meshes whose istiod runs here
  multimesh.istio.remote_access:
    readers:
      - {namespace: istio-system-1, cluster: west, type: remote}
  register: access
"""

RETURN = r"""
secrets:
  description: One entry per item of O(readers), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - namespace: istio-system-1
      cluster: west
      type: remote
      secret: istio-remote-secret-west
      exists: true
      server: https://10.0.0.5:6443
      can_read: true
      writes_allowed: []
      error: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multimesh.istio.plugins.module_utils import kube_client
from ansible_collections.multimesh.istio.plugins.module_utils import remote_secret as rs

# What a reader must never be allowed (verb, resource, group).
WRITES = (("create", "namespaces", ""), ("create", "secrets", ""), ("create", "clusterrolebindings", "rbac.authorization.k8s.io"))


def _client(kubeconfig, timeout):
    from kubernetes import client, config

    configuration = client.Configuration()
    config.kube_config.KubeConfigLoader(config_dict=kubeconfig).load_and_set(configuration)
    configuration.retries = 0
    api = client.ApiClient(configuration)
    return api


def observe(core, item, timeout):
    from kubernetes import client

    name, key = rs.secret_name(item["cluster"], item["type"]), rs.data_key(item["cluster"], item["type"])
    out = {"namespace": item["namespace"], "cluster": item["cluster"], "type": item["type"], "secret": name,
           "exists": False, "server": None, "can_read": False, "writes_allowed": [], "error": None}
    try:
        secret = core.read_namespaced_secret(name, item["namespace"])
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            return dict(out, error="no secret {0}/{1}".format(item["namespace"], name))
        raise
    kubeconfig = rs.parse_kubeconfig({"data": secret.data}, key)
    out["exists"] = True
    if not kubeconfig:
        return dict(out, error="secret {0}/{1} holds no kubeconfig under key {2}".format(item["namespace"], name, key))
    try:
        out["server"] = kubeconfig["clusters"][0]["cluster"]["server"]
        remote = _client(kubeconfig, timeout)
        client.CoreV1Api(remote).list_namespace(limit=1, _request_timeout=timeout)
        out["can_read"] = True
        reviews = client.AuthorizationV1Api(remote)
        for verb, resource, group in WRITES:
            review = reviews.create_self_subject_access_review(
                {"spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group}}},
                _request_timeout=timeout)
            if review.status.allowed:
                out["writes_allowed"].append("{0} {1}".format(verb, resource))
    except Exception as exc:  # what the remote cluster answered (or not) is this secret's result
        out["error"] = "with the credentials of {0}/{1}: {2}".format(item["namespace"], name, kube_client.one_line(exc))
    return out


def main():
    spec = dict(kube_client.cluster_spec(), readers=dict(type="list", elements="dict", required=True),
                timeout=dict(type="int", default=10))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    kube_client.require_item_keys(module, "readers", ("namespace", "cluster", "type"), "give namespace, cluster and type")
    from kubernetes import client

    core = client.CoreV1Api(kube_client.api_client(module))
    try:
        found = [observe(core, item, module.params["timeout"]) for item in module.params["readers"]]
    except Exception as exc:  # only API errors of the control-plane cluster become a message
        if not kube_client.is_api_error(exc):
            raise
        module.fail_json(msg=kube_client.api_failure(exc, "the remote secrets"))
    module.exit_json(changed=False, secrets=found)


if __name__ == "__main__":
    main()
