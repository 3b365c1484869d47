# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Argument specs of the modules implemented as action plugins, written once.

Each action plugin validates its task arguments against its spec, so an unknown or mistyped option fails, naming it.
The module files stay documentation only (ansible-test runs any code in them as a module), and
tests/unit/plugins/test_action_argspecs.py holds every spec equal to its module's DOCUMENTATION.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
except ImportError:  # pragma: no cover - kubernetes.core is a dependency of this collection
    AUTH_ARG_SPEC = {}


def _with_auth(**options):
    """kubernetes.core's access options (documented by the k8s_access doc fragment) plus the module's own; copied,
    as kubernetes.core's modules do, so that no caller changes the shared spec."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(options)
    return spec


def stage_argspec():
    return _with_auth(
        objects=dict(type="list", elements="dict", required=True),
        stage=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        render_dir=dict(type="path"),
        owned_namespaces=dict(type="list", elements="str", default=[]),
        owner=dict(type="str"),
        wait=dict(type="list", elements="str", default=[]),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=5),
        field_manager=dict(type="str"),
        force_conflicts=dict(type="bool", default=False),
        istioctl_path=dict(type="path"),
        istioctl_timeout=dict(type="int"),
        istioctl_readiness_timeout=dict(type="int", default=300),
    )


def preflight_argspec():
    return _with_auth(model=dict(type="dict", required=True))


def verification_report_argspec():
    """What the verify role read, each as the module that read it returned it (lists of objects or results)."""
    spec = dict((name, dict(type="list", elements="dict")) for name in (
        "deployments", "mutating", "validating", "pods", "root_configmaps", "registries", "services", "proxy_status",
        "probes", "remote_access", "sidecars", "gateway_deployments", "gateways"))
    spec.update(model=dict(type="dict", required=True), report_dir=dict(type="path"), peer_pods=dict(type="dict"))
    return spec


def mesh_model_argspec():
    """The inventory itself is read from the host's variables, not from the task's arguments."""
    return dict(
        fact_name=dict(type="str", default="multimesh_model"),
        versions=dict(type="dict"),
    )


# Module name -> its spec, for the test that compares them with the documentation.
ARGSPECS = {
    "stage": stage_argspec,
    "preflight": preflight_argspec,
    "verification_report": verification_report_argspec,
    "mesh_model": mesh_model_argspec,
}
