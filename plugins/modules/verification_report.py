#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

# This module is implemented as an action plugin (plugins/action/verification_report.py); it runs on the controller.
# Its options are verification_report_argspec() in plugins/module_utils/action_args.py (this file stays documentation only, as ansible-test
# expects); tests/unit/plugins/test_action_argspecs.py holds the two equal.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: verification_report
short_description: Judge mesh isolation from cluster state and write report.json and junit.xml
version_added: 0.1.0
description:
  - Evaluates every check of the isolation verification from state the caller read (the C(verify) role reads it) -
    istiod and webhooks per mesh, default webhooks, sidecars and their binding, proxy-status mapping, roots of trust,
    connectivity probes - and fails when any check fails. Skipped checks carry their reason; none counts as passed.
  - Writes C(report.json) (every check with expected, observed, status and evidence) and C(junit.xml) into O(report_dir)
    on the controller (not in check mode, which writes nothing and names the files it would write), and returns a
    connectivity matrix for people.
author:
  - multimesh.istio maintainers (@multimesh-istio)
attributes:
  check_mode:
    support: full
    description: Reads only. In check mode nothing is written, the report files neither; RV(would_write) and the
      message name the files a real run would write.
  diff_mode:
    support: none
    description: Nothing in the cluster changes.
options:
  model:
    description: The expanded model (C(multimesh_model)).
    type: dict
    required: true
  deployments:
    description: istiod Deployment objects.
    type: list
    elements: dict
  mutating:
    description: MutatingWebhookConfiguration objects.
    type: list
    elements: dict
  validating:
    description: ValidatingWebhookConfiguration objects.
    type: list
    elements: dict
  pods:
    description: Sample pods in member namespaces.
    type: list
    elements: dict
  root_configmaps:
    description: The C(istio-ca-root-cert) ConfigMaps of every namespace.
    type: list
    elements: dict
  registries:
    description:
      - The C(meshes) that M(multimesh.istio.istiod_registry) returned. Each mesh's istiod must discover exactly the
        mesh's namespaces that hold a Service; one it could not be asked fails with the reason.
    type: list
    elements: dict
  services:
    description: Every Service of the cluster, to know which of a mesh's namespaces istiod should list.
    type: list
    elements: dict
  proxy_status:
    description:
      - Registered results of M(multimesh.istio.istioctl_proxy_status), one per mesh (loop item = the mesh).
      - A run that failed because istioctl is missing makes the mapping checks skipped with that reason.
    type: list
    elements: dict
  probes:
    description:
      - The C(probes) that M(multimesh.istio.connectivity) returned, one per pair (C(rc), C(http_code), C(error)).
      - A pair passes inside a mesh only with HTTP 200, across meshes only when the mesh denied it (HTTP 503, or curl
        exit 52/56 after connecting); any other outcome, such as a name that does not resolve, is inconclusive and fails.
      - A spread probe (C(expect=spread), helloworld asked several times from a multicluster mesh's member namespace)
        gives one check per other cluster of the mesh (named C(cross-cluster <namespace>, <from> -> <to>)), judged with
        O(peer_pods).
    type: list
    elements: dict
  remote_access:
    description:
      - The C(secrets) that M(multimesh.istio.remote_access) returned for the remote secrets of the meshes whose
        istiod runs on this cluster (C(multimesh_model.meshes[].readers)). Each must exist and read its cluster; a
        reader (type C(remote)) must not be allowed to write there.
    type: list
    elements: dict
  sidecars:
    description:
      - Every C(Sidecar) object of the cluster. Each member namespace of a mesh whose configuration lives here (and
        that keeps C(sidecar_scope) on) must hold C(default) with exactly the mesh's egress hosts, and the mesh's
        istiod, where it runs here, must hold it too (the C(sidecars) of O(registries)).
    type: list
    elements: dict
  gateway_deployments:
    description:
      - The gateway Deployments of the cluster (label C(istio)). Each mesh with an C(ingress_gateway) here must have
        its own, injected by its revision with the C(gateway) template.
    type: list
    elements: dict
  gateways:
    description:
      - Every C(Gateway) object of the cluster. A mesh's ingress C(Gateway) must select its gateway's pods and no
        other Deployment's, and only that mesh's istiod, where it runs here, may hold it (the C(gateways) of
        O(registries)).
    type: list
    elements: dict
  peer_pods:
    description:
      - The sample pods the other clusters' hosts read in the same run, by cluster name (their
        C(multimesh_cluster_name)). A spread probe from here (a pair of O(probes) with C(expect=spread)) passes for a
        cluster only when one of that cluster's helloworld pods answered, and an external istiod here must serve
        exactly the sample pods of the clusters it serves (O(proxy_status)); a cluster absent here was not read and
        the checks that need it are skipped, never passed.
    type: dict
  report_dir:
    description: Directory on the controller for C(report.json) and C(junit.xml); created (not in check mode).
    type: path
"""

EXAMPLES = r"""
- name: Judge what the verify role read
  multimesh.istio.verification_report:
    model: "{{ multimesh_model }}"
    pods: "{{ pods.resources }}"
    report_dir: ./multimesh-verify
"""

RETURN = r"""
report:
  description: C({passed, counts, checks, failed, skipped}); each check has name, category, expected, observed, status, evidence.
  returned: always
  type: dict
msg:
  description:
    - One line - the counts, where the report is, and the names of the failed checks. Ansible prints a failure's
      message twice (the error and the result), so the reasons are in RV(details) only.
  returned: always
  type: str
  sample: "12 passed, 1 failed, 0 skipped - report in /srv/multimesh-verify; failed: connectivity a1 -> a2"
details:
  description:
    - Every line of the verdict - the counts, each failed check with what was expected and observed and why, each
      skipped check, the connectivity matrix.
  returned: always
  type: list
  elements: str
matrix:
  description: The connectivity matrix as text.
  returned: always
  type: str
files:
  description: The report files written (none in check mode, or without O(report_dir)).
  returned: always
  type: list
  elements: str
would_write:
  description: In check mode, the report files a real run would write; empty otherwise.
  returned: always
  type: list
  elements: str
  sample: [/srv/multimesh-verify/report.json, /srv/multimesh-verify/junit.xml]
"""
