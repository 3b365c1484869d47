# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Cluster access of the modules that call the Kubernetes API themselves, named as in kubernetes.core."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file. Unset, C(K8S_AUTH_KUBECONFIG), then C(KUBECONFIG), then C(~/.kube/config) apply.
    type: path
  context:
    description: Kubeconfig context to use; unset means the current context. Can come from C(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the Kubernetes API server. Can come from C(K8S_AUTH_HOST).
      - With O(host), a tool such as istioctl gets a temporary kubeconfig (mode 0600, removed when the module ends)
        built from O(host), O(api_key), O(ca_cert) and O(validate_certs).
    type: str
  api_key:
    description: Bearer token for the API server. Can come from C(K8S_AUTH_API_KEY). Never logged or returned.
    type: str
  ca_cert:
    description: Path to the CA certificate that signed the API server's certificate. Can come from C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Verify the API server's TLS certificate. On unless set to V(false); C(K8S_AUTH_VERIFY_SSL) can set it.
    type: bool
    aliases: [verify_ssl]
requirements:
  - kubernetes (Python library) >= 24.2.0
"""
