"""The names Istio's istiod chart gives a revision's cluster-scoped objects, per role and values switch (the real
output of istioctl is compared in tests/integration/test_chart_names.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.chart_names import (
    cluster_scoped_objects,
    injector_webhook,
    istiod_service,
    validator_webhook,
)


def names(objects, kind):
    return [o["name"] for o in objects if o["kind"] == kind]


def test_revision_default_renders_without_suffix_and_istio_system_keeps_the_injector_short():
    assert istiod_service("default") == "istiod" and istiod_service("blue") == "istiod-blue"
    assert injector_webhook("default", "istio-system") == "istio-sidecar-injector"
    assert injector_webhook("blue", "istio-system") == "istio-sidecar-injector-blue"
    assert injector_webhook("blue", "blue-system") == "istio-sidecar-injector-blue-blue-system"
    # The validator always carries the namespace.
    assert validator_webhook("default", "istio-system") == "istio-validator-istio-system"


@pytest.mark.parametrize("role,roles,injector,validator", [
    ("primary", ["istiod-clusterrole", "istiod-gateway-controller", "istio-reader-clusterrole"], True, True),
    ("config", ["istiod-clusterrole", "istiod-gateway-controller", "istio-reader-clusterrole"], True, True),
    ("remote", ["istio-reader-clusterrole"], True, False),
    ("external", ["istiod-clusterrole", "istiod-gateway-controller", "istio-reader-clusterrole"], False, False),
])
def test_each_role_renders_its_own_set(role, roles, injector, validator):
    objects = cluster_scoped_objects(role, "r1", "ns1")
    assert names(objects, "ClusterRole") == names(objects, "ClusterRoleBinding") == [r + "-r1-ns1" for r in roles]
    assert names(objects, "MutatingWebhookConfiguration") == (["istio-sidecar-injector-r1-ns1"] if injector else [])
    assert names(objects, "ValidatingWebhookConfiguration") == (["istio-validator-r1-ns1"] if validator else [])


@pytest.mark.parametrize("values,missing", [
    ({"pilot": {"env": {"PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER": "false"}}}, "istiod-gateway-controller-r1-ns1"),
    ({"global": {"enableReaderRBAC": False}}, "istio-reader-clusterrole-r1-ns1"),
    ({"global": {"operatorManageWebhooks": True}}, "istio-sidecar-injector-r1-ns1"),
    ({"global": {"configValidation": False}}, "istio-validator-r1-ns1"),
])
def test_values_switches_leave_their_object_out(values, missing):
    every = set(o["name"] for o in cluster_scoped_objects("primary", "r1", "ns1"))
    left = set(o["name"] for o in cluster_scoped_objects("primary", "r1", "ns1", values))
    assert every - left == {missing}


def test_namespace_scoped_install_renders_nothing_cluster_wide():
    assert cluster_scoped_objects("primary", "r1", "ns1", {"global": {"resourceScope": "namespace"}}) == []
    assert cluster_scoped_objects("primary", "r1", "ns1", {"global": {"resourceScope": "cluster"}})
