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
  - A secret is data from a cluster, so nothing in it may run or read anything on the host that runs the module. It
    is tried only when M(multimesh.istio.remote_secret) wrote it (annotation C(multimesh.istio/created-by), and the
    label C(multimesh.istio/owner) equal to O(owner) when given), and only when its kubeconfig holds one cluster
    with an C(https://) C(server) and inline C(certificate-authority-data) (optionally C(tls-server-name)), one user
    with only a bearer C(token), and at most one context joining them. The client is built from these fields alone.
    Anything else - an C(exec) or C(auth-provider) user, C(tokenFile), client certificates or keys, basic
    authentication, impersonation, any file path, C(proxy-url), C(insecure-skip-tls-verify), several clusters, users
    or contexts - is refused without being used, and the entry's C(error) names the field and the fix.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
  - multimesh.istio.read_only
options:
  readers:
    description:
      - The remote secrets to try, each with C(namespace) (istiod's), C(cluster) (the cluster the secret reaches) and
        C(type) (C(remote) or C(config)), as C(multimesh_model.meshes[].readers) lists them.
    type: list
    elements: dict
    required: true
  owner:
    description:
      - Identity of the inventory (C(multimesh_model.owner)). Only secrets labelled C(multimesh.istio/owner) with this
        value are tried; without it, any secret M(multimesh.istio.remote_secret) wrote.
    type: str
  timeout:
    description: Seconds each request to another cluster may take.
    type: int
    default: 10
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
"""

EXAMPLES = r"""
- name: Try the remote secrets of the meshes whose istiod runs here
  multimesh.istio.remote_access:
    readers:
      - {namespace: istio-system-1, cluster: west, type: remote}
    owner: "{{ multimesh_model.owner }}"
  register: access
"""

RETURN = r"""
secrets:
  description:
    - One entry per item of O(readers), in order - C(namespace), C(cluster), C(type), C(secret) (its name),
      C(exists), C(server) (the API server the secret names; null when the secret was not used), C(can_read),
      C(writes_allowed) (the writes the reviews allowed) and C(error) (why the secret was not used or what the other
      cluster answered; null when it read).
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

from ansible_collections.multimesh.istio.plugins.module_utils import remote_kubeconfig as rk
from ansible_collections.multimesh.istio.plugins.module_utils import remote_secret as rs
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_module
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import api_failure, is_api_error, one_line
from ansible_collections.multimesh.istio.plugins.module_utils.options import require_item_keys

# What a reader must never be allowed (verb, resource, group).
WRITES = (("create", "namespaces", ""), ("create", "secrets", ""), ("create", "clusterrolebindings", "rbac.authorization.k8s.io"))


def _marks(secret):
    """The secret's labels and annotations, as rs.not_ours reads them."""
    meta = getattr(secret, "metadata", None)
    return {"metadata": {"labels": getattr(meta, "labels", None) or {},
                         "annotations": getattr(meta, "annotations", None) or {}}}


def _try(remote, timeout, out):
    """Ask the other cluster, with the secret's credentials, what they may do; fills out."""
    from kubernetes import client

    client.CoreV1Api(remote).list_namespace(limit=1, _request_timeout=timeout)
    out["can_read"] = True
    reviews = client.AuthorizationV1Api(remote)
    for verb, resource, group in WRITES:
        review = reviews.create_self_subject_access_review(
            {"spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group}}},
            _request_timeout=timeout)
        if review.status.allowed:
            out["writes_allowed"].append("{0} {1}".format(verb, resource))


def observe(core, item, timeout, owner=None, tmpdir=None):
    """One remote secret tried with its own credentials. The secret comes from a cluster: it is used only when this
    inventory's remote_secret wrote it, and only its server, CA data and token are (rk.credentials) - nothing in it
    runs or reads anything here."""
    name, key = rs.secret_name(item["cluster"], item["type"]), rs.data_key(item["cluster"], item["type"])
    where = "secret {0}/{1}".format(item["namespace"], name)
    out = {"namespace": item["namespace"], "cluster": item["cluster"], "type": item["type"], "secret": name,
           "exists": False, "server": None, "can_read": False, "writes_allowed": [], "error": None}
    try:
        secret = core.read_namespaced_secret(name, item["namespace"])
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            return dict(out, error="no " + where)
        raise
    out["exists"] = True
    foreign = rs.not_ours(_marks(secret), owner)
    if foreign:
        return dict(out, error="{0} is not used: it was {1}. Fix: let multimesh.istio.remote_secret write it for this "
                               "inventory (the control_plane role does), after removing the other one.".format(where, foreign))
    kubeconfig = rs.parse_kubeconfig({"data": secret.data}, key)
    if not kubeconfig:
        return dict(out, error="{0} holds no kubeconfig under key {1}".format(where, key))
    try:
        creds = rk.credentials(kubeconfig, "{0} (key {1})".format(where, key))
    except rk.RemoteKubeconfigError as exc:
        return dict(out, error=str(exc))
    out["server"] = creds["server"]
    try:
        with rk.connected(creds, tmpdir, retries=0) as remote:
            _try(remote.api, timeout, out)
    except Exception as exc:  # what the remote cluster answered (or not) is this secret's result
        out["error"] = "with the credentials of {0}: {1}".format(where, one_line(exc))
    return out


def main():
    spec = dict(cluster_spec(), readers=dict(type="list", elements="dict", required=True),
                owner=dict(type="str"), timeout=dict(type="int", default=10))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    require_item_keys(module, "readers", ("namespace", "cluster", "type"), "give namespace, cluster and type")
    from kubernetes import client

    core = client.CoreV1Api(connect_module(module).api)
    params = module.params
    try:
        found = [observe(core, item, params["timeout"], params["owner"], module.tmpdir) for item in params["readers"]]
    except Exception as exc:  # only API errors of the control-plane cluster become a message
        if not is_api_error(exc):
            raise
        module.fail_json(msg=api_failure(exc, "the remote secrets"))
    module.exit_json(changed=False, secrets=found)


if __name__ == "__main__":
    main()
