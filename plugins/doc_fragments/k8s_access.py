# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The cluster access options: kubernetes.core's argument spec (AUTH_ARG_SPEC), documented here so that the
    documentation resolves without kubernetes.core installed, as Galaxy's importer runs ansible-doc. ansible-test's
    validate-modules and tests/unit/plugins/test_action_argspecs.py keep it and the spec the same."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, several paths joined with V(:), or a kubeconfig as a dictionary.
      - Unset, and with no other access option given, the client uses the pod's service account when it runs in a pod
        (an AWX container group), else C(~/.kube/config).
      - Environment fallback E(K8S_AUTH_KUBECONFIG).
    type: raw
  context:
    description:
      - Context of the kubeconfig to use; unset, its current context. Environment fallback E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the Kubernetes API server, for access without a kubeconfig (with O(api_key) or a client certificate).
      - Environment fallback E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server, such as a service account token. Never logged.
      - Environment fallback E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for HTTP basic authentication, only where the API server accepts it.
      - Environment fallback E(K8S_AUTH_USERNAME).
    type: str
  password:
    description:
      - Password for HTTP basic authentication (see O(username)). Never logged.
      - Environment fallback E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether the API server's certificate is verified. Unset, it is verified.
      - Environment fallback E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificates that the API server's certificate chain is verified against.
      - Environment fallback E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate that authenticates to the API server. Environment fallback E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert). Environment fallback E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through. E(HTTP_PROXY) is not read.
      - Environment fallback E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains and CIDRs reached without O(proxy). E(NO_PROXY) is not read.
      - Environment fallback E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy). Environment fallbacks E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH),
        E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) and E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: V(user:password) for the proxy's basic authentication.
        type: str
      basic_auth:
        description: V(user:password) for a basic authentication header.
        type: str
      user_agent:
        description: User agent string, such as V(foo/1.0).
        type: str
  persist_config:
    description:
      - Whether refreshed tokens of the kubeconfig's user (OIDC and other auth providers) are written back to the
        kubeconfig file. Environment fallback E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description: User to act as. Environment fallback E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description: Groups to act as. Environment fallback E(K8S_AUTH_IMPERSONATE_GROUPS), comma-separated.
    type: list
    elements: str
notes:
  - These are the access options of C(kubernetes.core), with the same names, types and environment fallbacks.
    C(module_defaults) for C(group/multimesh.istio.cluster) sets them once for this collection's cluster modules and
    for M(kubernetes.core.k8s) and M(kubernetes.core.k8s_info).
  - With O(validate_certs) true (the default), give the API server's CA chain in O(ca_cert) or in the kubeconfig.
"""
