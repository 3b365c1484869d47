"""Cluster access helpers: discovery errors other than "not served" are raised, never taken for "not installed"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time
from unittest.mock import MagicMock

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


# ------------------------------------------------------------- a pod's answer over a port-forward (tenant issue, 17)

class TricklingSocket(object):
    """A pod's port that answers with `chunk` every `pause` seconds, `count` times, never a whole HTTP answer."""

    def __init__(self, chunk, pause, count):
        self.chunk, self.pause, self.count, self.timeouts = chunk, pause, count, []

    def settimeout(self, seconds):
        self.timeouts.append(seconds)

    def sendall(self, data):
        self.sent = data

    def recv(self, size):
        if self.count <= 0:
            return b""
        self.count -= 1
        time.sleep(self.pause)
        return self.chunk


class Forward(object):
    def __init__(self, sock):
        self.sock, self.closed = sock, False

    def socket(self, port):
        return self.sock

    def error(self, port):
        return None

    def close(self):
        self.closed = True


@pytest.fixture
def forwarded(monkeypatch):
    """Runs pod_port_request against a fake port-forward; returns (call, forward)."""
    import kubernetes.stream

    @contextlib.contextmanager
    def core_api(api):
        yield MagicMock()

    def use(sock):
        forward = Forward(sock)
        monkeypatch.setattr(kubernetes.stream, "portforward", lambda *args, **kwargs: forward)
        return forward

    monkeypatch.setattr(kube_client, "_own_core_api", core_api)
    return use


def test_a_pod_that_trickles_its_answer_cannot_outlast_the_timeout(forwarded):
    """Each read comes within the per-read timeout, but the whole answer never does: the overall deadline ends it."""
    forward = forwarded(TricklingSocket(b"x", 0.05, 60))  # 3s of bytes, each 0.05s apart
    started = time.monotonic()
    with pytest.raises(kube_client.PodRequestError) as caught:
        kube_client.pod_port_request(None, "istio-system-1", "istiod-1", 15014, b"GET / HTTP/1.1\r\n\r\n", 0.5,
                                     lambda raw: False)
    assert time.monotonic() - started < 1.5
    assert str(caught.value).startswith("no whole answer from pod istio-system-1/istiod-1 port 15014 within 0.5s (")
    assert forward.closed
    # Every read waits at most what is left of the deadline.
    assert all(t <= 0.5 for t in forward.sock.timeouts)


def test_an_answer_over_the_size_limit_is_not_read_further(forwarded):
    sock = TricklingSocket(b"y" * 65536, 0, 64)  # 4 MiB, never complete
    forward = forwarded(sock)
    with pytest.raises(kube_client.PodRequestError) as caught:
        kube_client.pod_port_request(None, "ns", "pod", 15014, b"GET /", 30, lambda raw: False)
    assert str(caught.value) == ("the answer of pod ns/pod port 15014 exceeds 1048576 bytes; stopped reading it. Fix: ask "
                                 "for less, or check what answers on that port")
    assert kube_client.POD_RESPONSE_LIMIT == 1024 * 1024
    assert sock.count == 64 - 17 and forward.closed  # 16 chunks fill the limit; the 17th goes over it


def test_a_whole_answer_within_the_limits_is_returned(forwarded):
    forwarded(TricklingSocket(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 1))
    raw = kube_client.pod_port_request(None, "ns", "pod", 15014, b"GET /", 5, lambda raw: raw.endswith(b"ok"))
    assert raw == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
