#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remote_secret
short_description: Let istiod in one cluster read another cluster (the secret of istioctl create-remote-secret)
version_added: 0.1.0
description:
  - Creates, in the control-plane cluster, the secret through which istiod reads a remote cluster, shaped exactly as
    C(istioctl create-remote-secret) prints it - name C(istio-remote-secret-<cluster_name>) (C(istio-kubeconfig) for
    O(type=config)), label C(istio/multiCluster=true), annotation C(networking.istio.io/cluster), one data key holding a
    kubeconfig whose cluster, context and user are named after the cluster.
  - O(method=native) talks to both Kubernetes APIs directly (no istioctl) and can create the remote service account with
    a read-only ClusterRole; O(method=istioctl) runs C(istioctl create-remote-secret) against the remote cluster and
    stores the token, inline C(certificate-authority-data) and C(https://) server of its output the same way (an
    output with any other credential, a file path or several users fails, naming the field).
  - Idempotent - a token is kept while it belongs to the service account and lives longer than O(renew_before), and
    only from a stored kubeconfig of the shape this module writes (one C(https://) server with inline CA data, one
    user with only a token; otherwise, e.g. edited by hand, a new token is issued and the module warns);
    O(rotate=true) always replaces it.
  - The options without prefix (O(kubeconfig), O(context), O(host)...) reach the control-plane cluster, where the secret
    goes; the C(remote_) options reach the remote cluster.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.istioctl
  - multimesh.istio.k8s_access
attributes:
  check_mode:
    support: full
    description: Reads both clusters; creates no service account, token or secret.
  diff_mode:
    support: full
    description: The secret before and after, with every token replaced by C(<redacted>).
options:
  state:
    description:
      - Whether the secret exists.
      - V(absent) with O(method=native) revokes the bound token this module issued (it deletes the secret the token is
        bound to, see O(token)), then removes the reader service account and RBAC this module created on the remote
        cluster - unless another inventory's (or anyone else's) token secret uses that account, which then stays.
        Other control planes that read the remote cluster with a removed account lose access (the module warns).
        RV(revocation) says what happened.
    type: str
    choices: [present, absent]
    default: present
  method:
    description: V(native) uses the Kubernetes API; V(istioctl) runs C(istioctl create-remote-secret) (O(token=legacy) only).
    type: str
    choices: [native, istioctl]
    default: native
  cluster_name:
    description:
      - Name istiod gives the remote cluster (a DNS-1123 label); names the secret, its data key and the kubeconfig's
        cluster, context and user. Required - never derived silently.
    type: str
    required: true
  type:
    description:
      - V(remote) - istiod reads this cluster's services and endpoints (primary-remote, multi-primary).
      - V(config) - an external istiod reads its configuration from this cluster (external control plane).
    type: str
    choices: [remote, config]
    default: remote
  namespace:
    description: Namespace of the secret in the control-plane cluster (the istiod namespace). Never taken from a context.
    type: str
    required: true
  service_account:
    description: Service account on the remote cluster. Defaults to C(istio-reader-service-account) (remote) or C(istiod) (config).
    type: str
  service_account_timeout:
    description:
      - Seconds to wait for the service account to appear when O(create_service_account) is off - an operator (Sail)
        creates a config cluster's istiod account a moment after the install that asks for it. V(0) fails at once.
    type: int
    default: 0
  service_account_namespace:
    description: Namespace of the service account on the remote cluster; defaults to O(namespace).
    type: str
  create_service_account:
    description:
      - Create the service account on the remote cluster if missing, with a ClusterRole that can only read what istiod
        reads (and create token and access reviews), bound to it. Only for O(type=remote).
      - V(state=absent) removes what this module created (marked with the annotation C(multimesh.istio/created-by),
        and the owner label when O(owner) is given), nothing else.
    type: bool
    default: false
  server:
    description:
      - The remote API server address istiod should use (https://). Defaults to the address used to reach the remote cluster,
        with a warning when that is a loopback address.
    type: str
  tls_server_name:
    description: Server name to verify the remote API server's certificate against, when O(server) is an address it does not cover.
    type: str
  secret_name:
    description: Name of the secret; defaults to what istioctl uses.
    type: str
  owner:
    description:
      - Identity of the inventory (a label value, e.g. C(multimesh_model.owner)). What the module creates carries the
        label C(multimesh.istio/owner) with it, besides C(app.kubernetes.io/managed-by=multimesh.istio) and the
        annotation C(multimesh.istio/created-by=remote_secret).
      - Only objects with these marks (and this owner, when given) are ever updated or removed. V(state=present) fails,
        before any change, when a secret of the same name exists without them (made by C(istioctl), by hand or by
        another inventory); V(state=absent) keeps such a secret and names it in RV(kept).
    type: str
  token:
    description:
      - V(bound) - a time-limited token from the TokenRequest API, lifetime O(token_duration), bound to a secret
        this module creates for it on the remote cluster, C(<service_account>-token-<hash of owner>) in the service
        account's namespace (labelled with O(owner), annotated C(multimesh.istio/token-for=<service_account>)).
        Deleting that secret revokes the token, also where the account stays (istioctl's own
        C(istio-reader-service-account)); a stored token not bound to it (issued before) is replaced.
      - V(legacy) - the token of a C(kubernetes.io/service-account-token) secret, as istioctl does; it does not expire.
    type: str
    choices: [bound, legacy]
    default: bound
  token_duration:
    description: Lifetime asked for a bound token, in seconds (the API server may shorten it).
    type: int
    default: 31536000
  renew_before:
    description: A stored bound token that expires within this many seconds is replaced.
    type: int
    default: 2592000
  rotate:
    description:
      - Replace the token even if the stored one is still good.
      - The replaced bound token stays valid until it expires (up to O(token_duration)); to revoke it at once,
        run O(state=absent), then V(present) - the secret every token this owner issued is bound to is deleted, which
        invalidates them.
    type: bool
    default: false
  remote_kubeconfig:
    description:
      - Kubeconfig file for the remote cluster.
      - One of O(remote_kubeconfig), O(remote_context) or O(remote_host) is required, so that the default kubeconfig
        is never taken for the remote cluster by mistake.
    type: path
  remote_context:
    description: Context in O(remote_kubeconfig).
    type: str
  remote_host:
    description: URL of the remote API server, with O(remote_api_key).
    type: str
  remote_api_key:
    description: Bearer token for the remote API server. Never logged or returned.
    type: str
  remote_ca_cert:
    description: CA certificate of the remote API server.
    type: path
  remote_validate_certs:
    description: Verify the remote API server's certificate. On unless set to V(false).
    type: bool
notes:
  - The remote cluster's access only needs to read and, for O(create_service_account), create the service account and RBAC.
  - Every token and kubeconfig stays out of logs, return values and diffs.
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
"""

EXAMPLES = r"""
- name: Let istiod in cluster-1 read cluster-2 (primary-remote, or an external control plane)
  multimesh.istio.remote_secret:
    kubeconfig: ~/.kube/cluster-1
    remote_kubeconfig: ~/.kube/cluster-2
    cluster_name: cluster-2
    namespace: istio-system
    server: https://cluster-2.example.com:6443
    create_service_account: true

- name: The config-cluster secret of an external control plane, through istioctl
  multimesh.istio.remote_secret:
    method: istioctl
    token: legacy
    type: config
    kubeconfig: ~/.kube/external
    remote_kubeconfig: ~/.kube/config-cluster
    cluster_name: config-cluster
    namespace: external-istiod
"""

RETURN = r"""
secret:
  description: The secret as stored, with the token replaced by C(<redacted>).
  returned: state=present
  type: dict
secret_name:
  description: Name of the secret.
  returned: always
  type: str
  sample: istio-remote-secret-cluster-2
namespace:
  description: Its namespace in the control-plane cluster.
  returned: always
  type: str
  sample: istio-system
cluster_name:
  description: The remote cluster's name.
  returned: always
  type: str
  sample: cluster-2
service_account:
  description: The remote service account, namespace/name.
  returned: always
  type: str
  sample: istio-system/istio-reader-service-account
token_expires:
  description: Expiry of the stored token (seconds since the epoch); null for a legacy token.
  returned: always
  type: int
  sample: 1796650408
changes:
  description: What was (or in check mode would be) done, one line each.
  returned: always
  type: list
  elements: str
  sample:
    - create service account istio-system/istio-reader-service-account on the remote cluster
    - create secret istio-system/istio-remote-secret-cluster-2 on the control-plane cluster
kept:
  description: Objects V(state=absent) left in place because this module did not create them (for this O(owner)), and why.
  returned: always
  type: list
  elements: str
  sample: ["secret istio-system/istio-remote-secret-cluster-2 on the control-plane cluster: not created by multimesh.istio"]
revocation:
  description:
    - With V(state=absent) and O(method=native), what happened to this inventory's token and the reader account on
      the remote cluster - C(token revoked) (its token secret deleted) or none to revoke, then the account deleted,
      kept because another token secret uses it (C(account kept - used by ...)), or kept as not created by this module.
  returned: state=absent with method=native
  type: str
  sample: "token revoked (token secret istio-system/istio-reader-service-account-token-1f0c2a9e4b deleted); account
    istio-system/istio-reader-service-account kept: used by inventory 'team-b' (secret
    istio-system/istio-reader-service-account-token-77d0e3c1aa)"
"""

import base64

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core; reported when method=istioctl needs it
    yaml = None

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.multimesh.istio.plugins.module_utils.istioctl import ISTIOCTL_SPEC, Istioctl, IstioctlError
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec
from ansible_collections.multimesh.istio.plugins.module_utils.remote_kubeconfig import RemoteKubeconfigError, credentials
from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret import RemoteSecretError, check_params, data_key
from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret_cluster import RemoteSecret

ARGUMENT_SPEC = dict(
    ISTIOCTL_SPEC,
    state=dict(type="str", choices=["present", "absent"], default="present"),
    method=dict(type="str", choices=["native", "istioctl"], default="native"),
    cluster_name=dict(type="str", required=True),
    type=dict(type="str", choices=["remote", "config"], default="remote"),
    namespace=dict(type="str", required=True),
    service_account=dict(type="str"),
    service_account_namespace=dict(type="str"),
    create_service_account=dict(type="bool", default=False),
    service_account_timeout=dict(type="int", default=0),
    server=dict(type="str"),
    tls_server_name=dict(type="str"),
    secret_name=dict(type="str"),
    owner=dict(type="str"),
    token=dict(type="str", choices=["bound", "legacy"], default="bound", no_log=False),
    token_duration=dict(type="int", default=31536000, no_log=False),
    renew_before=dict(type="int", default=2592000),
    rotate=dict(type="bool", default=False),
    **cluster_spec("remote_")
)


def istioctl_source(module, job):
    """(token, ca_data, server) from `istioctl create-remote-secret` run against the remote cluster."""
    params = module.params
    istioctl = Istioctl(module)
    args = ["create-remote-secret", "--name", params["cluster_name"], "--type", params["type"], "-i", job.sa_namespace,
            "--service-account", job.sa_name]
    if params["server"]:
        args += ["--server", params["server"]]
    if params["tls_server_name"]:
        args += ["--tls-server-name", params["tls_server_name"]]
    if module.check_mode:
        # create-remote-secret may create the service account and a token secret: writes. Read instead what it would
        # reuse - the token secret that references the account, the cluster CA, the server it would use.
        if job.read_service_account() is None:
            job.changes.append("istioctl would create service account {0}/{1}".format(job.sa_namespace, job.sa_name))
            return "<new token>", job.ca_data(), job.server()
        return job.legacy_token(False), job.ca_data(), job.server()
    _rc, out, _err = istioctl.run(args, cluster="remote_")
    secrets = [doc for doc in yaml.safe_load_all(out) if isinstance(doc, dict) and doc.get("kind") == "Secret"]
    if len(secrets) != 1:
        raise IstioctlError("istioctl create-remote-secret printed {0} secrets; expected one.".format(len(secrets)))
    stored = secrets[0].get("stringData", {}).get(data_key(params["cluster_name"], params["type"]))
    if stored is None:
        encoded = (secrets[0].get("data") or {}).get(data_key(params["cluster_name"], params["type"]))
        stored = base64.b64decode(encoded).decode("utf-8") if encoded else None
    # What istioctl read from the remote cluster is stored and later used by remote_access: only the shape that
    # remote_access accepts is taken (a token, inline CA data, an https server).
    try:
        creds = credentials(yaml.safe_load(stored or "") or {}, "the kubeconfig istioctl create-remote-secret printed")
    except RemoteKubeconfigError as exc:
        raise IstioctlError(exc.problem + ". Fix: check the remote cluster's service account token secret and CA.")
    ca = base64.b64encode(creds["ca_pem"]).decode("ascii")
    return creds["token"], ca, creds["server"]


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    problems = check_params(params)
    if params["method"] == "istioctl" and params["token"] == "bound":
        problems.append("token: istioctl create-remote-secret only makes legacy tokens. Fix: set token: legacy with "
                        "method: istioctl, or use method: native.")
    if params["method"] == "istioctl" and params["create_service_account"]:
        problems.append("create_service_account: not with method: istioctl (istioctl creates the service account "
                        "itself, without the reader role). Fix: use method: native.")
    if problems:
        module.fail_json(msg=" ".join(problems), problems=problems)
    try:
        job = RemoteSecret(module)
        if params["state"] == "absent":
            result = job.absent()
        elif params["method"] == "istioctl":
            result = job.present(token_source=lambda: istioctl_source(module, job))
        else:
            result = job.present()
    except (RemoteSecretError, IstioctlError) as exc:
        module.fail_json(msg=str(exc), **getattr(exc, "details", {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
