#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: istiod_registry
short_description: Ask each mesh's istiod which services it discovers
version_added: 0.1.0
description:
  - For each mesh of O(meshes), finds the running istiod pod of its revision in its namespace and reads istiod's own
    service registry (C(/debug/registryz) on the monitoring port 15014) over a port-forward to that pod. istiod answers
    its debug endpoints without credentials only to connections from localhost, which is where a port-forward's
    connections come from.
  - Returns the services (hostname, namespace) each istiod sees, so a check can compare them with the mesh's
    namespaces, which is the discovery scope as istiod itself applies it, not as the labels suggest.
  - Also returns the C(Sidecar) resources istiod holds (C(/debug/configz)), the scope it gives its proxies, and the
    C(Gateway) resources it holds; a failure to read them is returned as C(sidecars_error) beside the services.
  - A mesh whose istiod cannot be asked is returned with an C(error); the module itself fails only on bad input.
  - Reads only; never reports C(changed).
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
  - multimesh.istio.read_only
options:
  meshes:
    description:
      - The meshes, each with C(name), C(namespace) and C(revision) (as in C(multimesh_model.meshes)).
      - C(control_plane_revision), when given, is the revision istiod runs as (a RevisionBased mesh's active revision;
        its C(revision) is then the tag its namespaces carry).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds to wait for each istiod's answer.
    type: int
    default: 20
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
"""

EXAMPLES = r"""
- name: Which services does each istiod discover
  multimesh.istio.istiod_registry:
    meshes: "{{ multimesh_model.meshes }}"
  register: registries

- name: Namespaces mesh-1's istiod sees
  ansible.builtin.debug:
    msg: "{{ registries.meshes[0].namespaces }}"
"""

RETURN = r"""
meshes:
  description: One entry per mesh, in the order of O(meshes).
  returned: always
  type: list
  elements: dict
  sample:
    - name: mesh-1
      namespace: istio-system-1
      revision: mesh-1
      pod: istiod-mesh-1-6b7f9c8d5-k2j4x
      namespaces: [app-ns-1, istio-system-1]
      services:
        - {hostname: httpbin.app-ns-1.svc.cluster.local, namespace: app-ns-1, name: httpbin}
        - {hostname: istiod-mesh-1.istio-system-1.svc.cluster.local, namespace: istio-system-1, name: istiod-mesh-1}
      sidecars:
        - {namespace: app-ns-1, name: default, egress_hosts: [app-ns-1/*, istio-system-1/*]}
      gateways:
        - {namespace: mesh-1-ingress, name: ingressgateway-mesh-1, selector: {istio: ingressgateway-mesh-1}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multimesh.istio.plugins.module_utils import istiod_registry as registry
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_module
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.stream import pod_port_request
from ansible_collections.multimesh.istio.plugins.module_utils.options import require_item_keys


def ask(api, mesh, timeout):
    from kubernetes import client as k8s

    # A RevisionBased mesh's istiod runs as its active revision (its own 'revision' is the tag).
    revision = mesh.get("control_plane_revision") or mesh["revision"]
    out = {"name": mesh["name"], "namespace": mesh["namespace"], "revision": revision, "pod": None}
    try:
        pods = k8s.CoreV1Api(api).list_namespaced_pod(mesh["namespace"], label_selector="app=istiod").items
        out["pod"] = registry.istiod_pod(pods, revision)
        if not out["pod"]:
            return dict(out, error="no running istiod pod of revision {0} in {1}".format(revision, mesh["namespace"]))
        raw = pod_port_request(api, mesh["namespace"], out["pod"], registry.MONITORING_PORT,
                               registry.http_request(registry.REGISTRY_PATH), timeout, registry.response_complete)
    except Exception as exc:  # any failure to reach this istiod is this mesh's result, not the module's
        return dict(out, error="cannot ask istiod {0}/{1}: {2}".format(mesh["namespace"], out["pod"], exc))
    status, body = registry.parse_response(raw)
    if status != 200:
        return dict(out, error="istiod {0}/{1} answered {2} on {3}: {4}".format(
            mesh["namespace"], out["pod"], status, registry.REGISTRY_PATH, body.strip()[:200]))
    try:
        services = registry.registry_services(body)
    except ValueError as exc:
        return dict(out, error="istiod {0}/{1}: unreadable {2}: {3}".format(mesh["namespace"], out["pod"], registry.REGISTRY_PATH, exc))
    out.update(services=services, namespaces=sorted(set(s["namespace"] for s in services if s["namespace"])))
    return dict(out, **sidecars(api, mesh, out["pod"], timeout))


def sidecars(api, mesh, pod, timeout):
    """{sidecars: [...]} that istiod holds (/debug/configz), or {sidecars_error: why}."""
    try:
        raw = pod_port_request(api, mesh["namespace"], pod, registry.MONITORING_PORT,
                               registry.http_request(registry.CONFIG_PATH), timeout, registry.response_complete)
        status, body = registry.parse_response(raw)
        if status != 200:
            return {"sidecars_error": "istiod answered {0} on {1}".format(status, registry.CONFIG_PATH)}
        return registry.held_config(body)
    except Exception as exc:  # the registry answer stands; only this part is not observed
        return {"sidecars_error": "cannot read {0}: {1}".format(registry.CONFIG_PATH, exc)}


def main():
    spec = dict(cluster_spec(), meshes=dict(type="list", elements="dict", required=True),
                timeout=dict(type="int", default=20))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    require_item_keys(module, "meshes", ("name", "namespace", "revision"), "pass multimesh_model.meshes")
    api = connect_module(module).api
    module.exit_json(changed=False, meshes=[ask(api, mesh, module.params["timeout"]) for mesh in module.params["meshes"]])


if __name__ == "__main__":
    main()
