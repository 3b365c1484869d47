"""Cluster access helpers: discovery errors other than "not served" are raised, never taken for "not installed"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from ansible_collections.multimesh.istio.plugins.module_utils import kube_client
from ansible_collections.multimesh.istio.plugins.plugin_utils import cluster as controller_cluster


class Resources(object):
    def __init__(self, error):
        self.error = error

    def get(self, **kwargs):
        raise self.error


class Dyn(object):
    def __init__(self, error):
        self.resources = Resources(error)


def test_a_kind_the_cluster_does_not_serve_has_no_objects():
    dyn = Dyn(ResourceNotFoundError("No matches found for {'kind': 'Istio'}"))
    assert kube_client.get_object(dyn, "sailoperator.io/v1", "Istio", "mesh-1") is None
    assert kube_client.list_objects(dyn, "sailoperator.io/v1", "Istio") == []


@pytest.mark.parametrize("error", [ApiException(status=403, reason="Forbidden"), ConnectionRefusedError("refused")])
def test_forbidden_or_unreachable_discovery_is_raised(error):
    with pytest.raises(type(error)):
        kube_client.get_object(Dyn(error), "sailoperator.io/v1", "Istio", "mesh-1")
    with pytest.raises(type(error)):
        kube_client.list_objects(Dyn(error), "sailoperator.io/v1", "Istio")


class Client(object):
    """kubernetes.core's K8SClient as the controller's Cluster uses it."""

    def __init__(self, error):
        self.error = error
        self.configuration = type("Configuration", (), {"host": "https://127.0.0.1:6443"})()

    def resource(self, kind, api_version):
        raise self.error


def controller(error):
    obj = controller_cluster.Cluster.__new__(controller_cluster.Cluster)
    obj.client, obj._resources = Client(error), {}  # pylint: disable=protected-access
    return obj


def test_the_controller_takes_only_not_served_for_absent():
    absent = controller(ResourceNotFoundError("no Istio"))
    assert absent.get({"apiVersion": "sailoperator.io/v1", "kind": "Istio", "metadata": {"name": "m"}}) is None
    assert absent.list("sailoperator.io/v1", "Istio") == []
    forbidden = controller(ApiException(status=403, reason="Forbidden"))
    expected = "cannot discover sailoperator.io/v1 Istio on https://127.0.0.1:6443: .*Fix: check that the API server"
    with pytest.raises(controller_cluster.ClusterError, match=expected):
        forbidden.get({"apiVersion": "sailoperator.io/v1", "kind": "Istio", "metadata": {"name": "m"}})


def test_the_controllers_delete_sends_the_checked_uid_and_resource_version():
    """The API server then deletes only the object whose ownership was checked (409 Conflict otherwise)."""
    sent = []

    class Resource(object):
        def delete(self, **kwargs):
            sent.append(kwargs)

    obj = controller_cluster.Cluster.__new__(controller_cluster.Cluster)
    obj.client, obj._resources = Client(None), {("v1", "Service"): Resource()}  # pylint: disable=protected-access
    obj.delete({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "httpbin", "namespace": "app-ns-2"}},
               preconditions={"uid": "u1", "resourceVersion": "42"})
    body = kube_client.k8s_client.ApiClient().sanitize_for_serialization(sent[0].pop("body"))
    assert sent == [{"name": "httpbin", "namespace": "app-ns-2"}]
    assert body == {"preconditions": {"uid": "u1", "resourceVersion": "42"}}
