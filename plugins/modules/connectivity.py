#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: connectivity
short_description: Probe a whole connectivity matrix from inside the client pods, concurrently
version_added: 0.1.0
description:
  - Runs every probe of O(pairs) with C(curl) inside the client pods and returns, per pair, curl's exit code, the
    HTTP code and the elapsed time. It does not judge them; the verification does (see M(multimesh.istio.verification_report)).
  - One exec per client pod (over the Kubernetes exec API) runs all of that client's probes in parallel, and all client
    pods are exec'd at once, so one task probes any number of namespaces. Each probe is bounded by
    C(curl --max-time O(probe_timeout)) and the whole run by O(timeout).
  - With curl 7.75 or later in the client container, one C(curl --parallel) process per pod runs all of its probes;
    with an older curl, one background curl per probe.
  - The client pod of a pair is the first C(Running) pod labelled C(app=<client>) in the client namespace; a pair
    without one is returned with an C(error), never skipped silently.
  - Reads only; never reports C(changed).
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
  - multimesh.istio.read_only
options:
  pairs:
    description:
      - The probes, as the filter M(multimesh.istio.probe_pairs) returns them. Each needs C(client_namespace),
        C(client) (the sample name, also the container name) and C(url); other keys are returned as they came.
      - A pair with C(repeat) (a count) asks that many times, one request after the other (which servers of a
        service answer shows only over several answers), and returns each answer's curl exit code, HTTP code and the
        first line of its body (at most 200 characters) in C(answers); C(rc) is then 0 when any request was answered.
    type: list
    elements: dict
    required: true
  probe_timeout:
    description: Seconds each probe may take (C(curl --max-time)).
    type: int
    default: 5
  timeout:
    description: >-
      Seconds the whole run may take; unset means the longest probe (O(probe_timeout), times its C(repeat)) plus
      O(probe_timeout) plus 10.
    type: int
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
"""

EXAMPLES = r"""
- name: Probe every client namespace against every httpbin
  multimesh.istio.connectivity:
    pairs: "{{ multimesh_model | multimesh.istio.probe_pairs }}"
    probe_timeout: 5
  register: probes

- name: Show what each probe got
  ansible.builtin.debug:
    msg: "{{ probes.probes | map(attribute='http_code') | list }}"
"""

RETURN = r"""
probes:
  description: One entry per pair, in the order of O(pairs), with the pair's keys and what the probe got.
  returned: always
  type: list
  elements: dict
  sample:
    - client_namespace: app-ns-1
      client: sleep
      server_namespace: app-ns-2
      url: http://httpbin.app-ns-2.svc.cluster.local:8000/get
      expect: deny
      pod: sleep-5d4c8f7b9-x2x7q
      rc: 56
      http_code: "000"
      elapsed: 0.012
    - client_namespace: app-ns-1
      client: curl
      url: http://helloworld.app-ns-1.svc.cluster.local:5000/hello
      repeat: 2
      pod: curl-7b9f6c5d4-k8m2p
      rc: 0
      http_code: "200"
      elapsed: 0.041
      answers:
        - {rc: 0, http_code: "200", body: "Hello version: v1, instance: helloworld-v1-6d8f9c7b5-abcde"}
        - {rc: 0, http_code: "200", body: "Hello version: v2, instance: helloworld-v2-7c9d8b6f4-fghij"}
summary:
  description: Counts, and the slowest probe's seconds.
  returned: always
  type: dict
  sample: {probes: 4, answered: 4, errors: 0, clients: 2, slowest: 0.031}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multimesh.istio.plugins.module_utils import connectivity
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_module
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import ApiException
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.stream import pod_exec
from ansible_collections.multimesh.istio.plugins.module_utils.options import require_item_keys


def client_pods(api, pairs):
    """{(namespace, client): name of its first Running pod} from one list call over all client samples."""
    from kubernetes import client as k8s

    clients = sorted(set(pair["client"] for pair in pairs))
    listed = k8s.CoreV1Api(api).list_pod_for_all_namespaces(label_selector="app in ({0})".format(", ".join(clients)))
    pods = {}
    for pod in sorted(listed.items, key=lambda p: p.metadata.name):
        key = (pod.metadata.namespace, (pod.metadata.labels or {}).get("app"))
        if pod.status.phase == "Running" and not pod.metadata.deletion_timestamp and key not in pods:
            pods[key] = pod.metadata.name
    return pods


def main():
    spec = dict(cluster_spec(),
                pairs=dict(type="list", elements="dict", required=True),
                probe_timeout=dict(type="int", default=5),
                timeout=dict(type="int"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    pairs = module.params["pairs"]
    require_item_keys(module, "pairs", ("client_namespace", "client", "url"),
                      "build the pairs with multimesh.istio.probe_pairs")
    probe_timeout = module.params["probe_timeout"]
    if probe_timeout < 1:
        module.fail_json(msg="probe_timeout: must be at least 1 second, got {0}.".format(probe_timeout))
    timeout = module.params["timeout"] or connectivity.exec_seconds(pairs, probe_timeout) + probe_timeout + 5
    if not pairs:
        module.exit_json(changed=False, probes=[], summary=connectivity.summary([]))
    api = connect_module(module).api
    try:
        pods = client_pods(api, pairs)
    except ApiException as exc:
        module.fail_json(msg="cannot list the client pods: {0} {1}".format(exc.status, exc.reason))
    results = connectivity.run_matrix(pod_exec(api), pods, pairs, probe_timeout, timeout)
    module.exit_json(changed=False, probes=results, summary=connectivity.summary(results))


if __name__ == "__main__":
    main()
