# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Cluster access options, named and behaving as in kubernetes.core."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file. Unset, C(K8S_AUTH_KUBECONFIG), then C(KUBECONFIG), then C(~/.kube/config) apply.
    type: raw
  context:
    description: Kubeconfig context to use; unset means the current context. Can come from C(K8S_AUTH_CONTEXT).
    type: str
  host:
    description: URL of the Kubernetes API server. Can come from C(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token for the API server. Can come from C(K8S_AUTH_API_KEY). Never logged.
    type: str
  username:
    description: Username for basic authentication. Can come from C(K8S_AUTH_USERNAME).
    type: str
  password:
    description: Password for basic authentication. Can come from C(K8S_AUTH_PASSWORD). Never logged.
    type: str
  client_cert:
    description: Path to a client certificate. Can come from C(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description: Path to the client certificate's key. Can come from C(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  ca_cert:
    description: Path to the CA certificate that signed the API server's certificate. Can come from C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Verify the API server's TLS certificate. On by default; C(K8S_AUTH_VERIFY_SSL) can set it.
    type: bool
    aliases: [verify_ssl]
  proxy:
    description: HTTP proxy URL for the API server. Can come from C(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description: Hosts (comma separated) to reach without the proxy. Can come from C(K8S_AUTH_NO_PROXY).
    type: str
  impersonate_user:
    description: Username to impersonate. Can come from C(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description: Groups to impersonate. Can come from C(K8S_AUTH_IMPERSONATE_GROUPS).
    type: list
    elements: str
notes:
  - The options are passed to M(kubernetes.core.k8s) unchanged; see its documentation for their full behaviour.
  - Use C(module_defaults) with C(group/multimesh.istio.cluster) to set them once for every task.
"""
