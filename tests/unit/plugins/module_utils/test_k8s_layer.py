"""The cluster layer (module_utils/k8s): discovery errors other than "not served" are raised, never taken for "not
installed"; writes only of marked objects; deletes only of the object checked; streams bounded in time and size."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time
from unittest.mock import MagicMock

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from ansible_collections.multimesh.istio.plugins.module_utils.k8s import stream
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import Cluster, ref
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import ClusterError, UnmarkedWrite, Unreachable

MARKED = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "team-a"}


class Answer(object):
    def __init__(self, obj):
        self.obj = obj

    def to_dict(self):
        return self.obj


class Dynamic(object):
    """kubernetes.core's K8SDynamicClient as the layer calls it: discovery raises `error` (when given); every call is
    kept as (verb, kwargs)."""

    def __init__(self, error=None, live=None):
        self.error, self.live, self.calls = error, live, []
        self.client = MagicMock()
        self.client.configuration.host = "https://127.0.0.1:6443"
        self.resources = self

    def get(self, resource=None, **kwargs):
        if resource is None:  # resources.get(api_version=..., kind=...): discovery
            if self.error is not None:
                raise self.error
            return kwargs["kind"]
        self.calls.append(("get", kwargs))
        if self.live is None:
            raise NotFoundError(ApiException(status=404, reason="Not Found"))
        return Answer(self.live)

    def __getattr__(self, verb):  # create, replace, delete, server_side_apply
        def call(resource, **kwargs):
            self.calls.append((verb, kwargs))
            return Answer(kwargs.get("body"))
        return call


def cluster(dynamic):
    return Cluster(dynamic.client, "multimesh-istio-team-a", False, dynamic)


def test_a_kind_the_cluster_does_not_serve_has_no_objects_and_other_discovery_errors_are_raised():
    absent = cluster(Dynamic(ResourceNotFoundError("no Istio")))
    assert absent.get(ref("sailoperator.io/v1", "Istio", "m")) is None
    assert absent.list("sailoperator.io/v1", "Istio") == []
    for error, kind, expected in (
            (ApiException(status=403, reason="Forbidden"), ClusterError,
             "cannot discover sailoperator.io/v1 Istio on https://127.0.0.1:6443: .*Fix: check that the API server"),
            (ConnectionRefusedError("refused"), Unreachable,
             "the API server at https://127.0.0.1:6443 cannot be reached [(]refused[)]. Fix: check that it runs")):
        with pytest.raises(kind, match=expected):
            cluster(Dynamic(error)).get(ref("sailoperator.io/v1", "Istio", "m"))
        with pytest.raises(kind, match=expected):
            cluster(Dynamic(error)).list("sailoperator.io/v1", "Istio")


def test_a_missing_object_is_none():
    assert cluster(Dynamic()).get(ref("v1", "Secret", "cacerts", "istio-system")) is None


def test_delete_sends_the_checked_uid_and_resource_version():
    """The API server then deletes only the object whose ownership was checked (409 Conflict otherwise)."""
    dynamic = Dynamic()
    live = {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "httpbin", "namespace": "app-ns-2", "uid": "u1", "resourceVersion": "42", "labels": MARKED}}
    cluster(dynamic).delete(live)
    ((verb, sent),) = dynamic.calls
    assert verb == "delete" and sent["name"] == "httpbin" and sent["namespace"] == "app-ns-2"
    assert sent["body"]["preconditions"] == {"uid": "u1", "resourceVersion": "42"}


def test_no_write_of_an_object_without_a_mark_is_sent():
    dynamic = Dynamic()
    bare = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cacerts", "namespace": "istio-system",
                                                               "labels": {"app": "x"}, "uid": "u1", "resourceVersion": "1"}}
    layer = cluster(dynamic)
    for write in (lambda: layer.apply(bare), lambda: layer.create(bare), lambda: layer.replace(bare, bare),
                  lambda: layer.delete(bare)):
        with pytest.raises(UnmarkedWrite, match="Secret istio-system/cacerts carries none of this collection's marks"):
            write()
    assert dynamic.calls == []
    # A namespace this inventory only labels carries its owner label alone: that is a mark.
    labelled = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app", "labels": {"multimesh.istio/owner": "t"}}}
    layer.apply(labelled)
    # A write of an unmarked object names its reason (istioctl's default revision tag).
    layer.delete(bare, unmarked_because="istioctl's default revision tag")
    assert [verb for verb, _kwargs in dynamic.calls] == ["server_side_apply", "delete"]


def test_writes_go_under_the_field_manager_and_release_applies_the_identity_alone():
    dynamic = Dynamic()
    layer = cluster(dynamic)
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app", "labels": dict(MARKED)}}
    layer.create(obj)
    layer.replace(obj, {"metadata": {"resourceVersion": "7"}})
    layer.apply(obj, dry_run=True)
    layer.release(dict(obj, spec={"finalizers": []}))
    create, replace, apply, release = [kwargs for _verb, kwargs in dynamic.calls]
    assert all(kwargs["field_manager"] == "multimesh-istio-team-a" for kwargs in (create, replace, apply, release))
    assert replace["body"]["metadata"]["resourceVersion"] == "7" and "resourceVersion" not in obj["metadata"]
    assert apply["dry_run"] == "All" and release["dry_run"] is None
    assert release["body"] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}


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

    monkeypatch.setattr(stream, "_own_core_api", core_api)
    return use


def test_a_pod_that_trickles_its_answer_cannot_outlast_the_timeout(forwarded):
    """Each read comes within the per-read timeout, but the whole answer never does: the overall deadline ends it."""
    forward = forwarded(TricklingSocket(b"x", 0.05, 60))  # 3s of bytes, each 0.05s apart
    started = time.monotonic()
    with pytest.raises(stream.PodRequestError) as caught:
        stream.pod_port_request(None, "istio-system-1", "istiod-1", 15014, b"GET / HTTP/1.1\r\n\r\n", 0.5,
                                lambda raw: False)
    assert time.monotonic() - started < 1.5
    assert str(caught.value).startswith("no whole answer from pod istio-system-1/istiod-1 port 15014 within 0.5s (")
    assert forward.closed
    # Every read waits at most what is left of the deadline.
    assert all(t <= 0.5 for t in forward.sock.timeouts)


def test_an_answer_over_the_size_limit_is_not_read_further(forwarded):
    sock = TricklingSocket(b"y" * 65536, 0, 64)  # 4 MiB, never complete
    forward = forwarded(sock)
    with pytest.raises(stream.PodRequestError) as caught:
        stream.pod_port_request(None, "ns", "pod", 15014, b"GET /", 30, lambda raw: False)
    assert str(caught.value) == ("the answer of pod ns/pod port 15014 exceeds 1048576 bytes; stopped reading it. Fix: ask "
                                 "for less, or check what answers on that port")
    assert stream.POD_RESPONSE_LIMIT == 1024 * 1024
    assert sock.count == 64 - 17 and forward.closed  # 16 chunks fill the limit; the 17th goes over it


def test_a_whole_answer_within_the_limits_is_returned(forwarded):
    forwarded(TricklingSocket(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 1))
    raw = stream.pod_port_request(None, "ns", "pod", 15014, b"GET /", 5, lambda raw: raw.endswith(b"ok"))
    assert raw == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
