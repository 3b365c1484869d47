# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rendered_manifests
version_added: 0.1.0
short_description: The manifests of a render directory, to publish as job artifacts
description:
  - Reads the files render mode writes (C(<NN-stage>-<group>.yaml), IstioOperator inputs under C(istioctl/)) in each
    render directory on the controller, so that C(ansible.builtin.set_stats) can publish them. AWX keeps a job's
    artifacts but not its files. Nothing else in the directory is read.
  - A file holding a C(Secret), a kubeconfig or PEM data, or that is not UTF-8 YAML, is listed without its content.
  - When the files together exceed O(max_bytes), every file is listed without its content.
  - A stage file that an earlier run rendered and this one no longer does is still in the directory, and listed.
  - Symbolic links are not followed.
author: multimesh.istio maintainers (@multimesh-istio)
options:
  _terms:
    description: Render directories (C(multimesh_model.render_dir)).
    type: list
    elements: path
    required: true
  max_bytes:
    description: Largest total size of the contents published; V(0) publishes the file names only.
    type: int
    default: 524288
"""

EXAMPLES = r"""
- name: Publish the rendered manifests as job artifacts
  ansible.builtin.set_stats:
    data:
      multimesh_render_result: "{{ {inventory_hostname: lookup('multimesh.istio.rendered_manifests', multimesh_model.render_dir)} }}"
    aggregate: true
  when: multimesh_model.render
"""

RETURN = r"""
_raw:
  description: One entry per directory.
  type: list
  elements: dict
  contains:
    dir:
      description: The directory, absolute.
      type: str
      sample: /runner/project/rendered
    files:
      description: Each file's path relative to O(_terms), and its content or V(null) when withheld.
      type: dict
      sample: {"20-control-plane-mesh-a.yaml": "apiVersion: sailoperator.io/v1\nkind: Istio\n..."}
    bytes:
      description: The size of all the files.
      type: int
      sample: 12021
    withheld:
      description: Why contents were left out, if any were.
      type: list
      elements: str
      sample: []
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.multimesh.istio.plugins.plugin_utils.render_artifacts import render_artifacts


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            return [render_artifacts(term, self.get_option("max_bytes")) for term in terms]
        except (OSError, ValueError) as exc:
            raise AnsibleLookupError(to_native(exc))
