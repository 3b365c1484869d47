# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Streams to a pod over a cluster's API server: exec (the probes' curl) and port-forward (istiod's debug port)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time

try:
    from kubernetes import client as k8s_client
except ImportError:  # pragma: no cover - the modules report the missing library when they connect
    k8s_client = None


@contextlib.contextmanager
def _own_core_api(api):
    """A CoreV1Api on an ApiClient of its own: kubernetes.stream swaps the client's request function while it
    connects a websocket (exec, port-forward), so streaming calls that may run in parallel threads share none."""
    own = k8s_client.ApiClient(api.configuration)
    try:
        yield k8s_client.CoreV1Api(own)
    finally:
        own.close()


def pod_exec(api):
    """exec_fn(namespace, pod, container, command, timeout) -> (stdout, stderr, exit status or None) over the
    Kubernetes exec (websocket) API; calls can run in parallel threads."""
    from kubernetes.stream import stream

    def run(namespace, pod, container, command, timeout):
        with _own_core_api(api) as core:
            resp = stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                          container=container, command=command, stdin=False, stdout=True, stderr=True, tty=False,
                          _preload_content=False, _request_timeout=timeout)
            try:
                resp.run_forever(timeout=timeout)
                stdout, stderr = resp.read_stdout(timeout=0) or "", resp.read_stderr(timeout=0) or ""
                status = None if resp.is_open() else _exit_status(resp)
            finally:
                resp.close()
        return stdout, stderr, status

    return run


def _exit_status(resp):
    try:
        return resp.returncode
    except (ValueError, KeyError, IndexError, TypeError):  # an error channel without a numeric exit code
        return None


# The most a pod's answer over a port-forward may hold: istiod's debug endpoints of a tenant mesh stay far below it;
# a pod that streams more (or never stops) is not read into the controller's memory.
POD_RESPONSE_LIMIT = 1024 * 1024


class PodRequestError(Exception):
    """A pod's answer over a port-forward was not read whole: too slow overall, or too large."""


def pod_port_request(api, namespace, pod, port, request, timeout, complete, limit=POD_RESPONSE_LIMIT):
    """Send raw bytes to a pod's port over a port-forward (the Kubernetes port-forward API) and return the bytes
    the pod answers, up to where complete(bytes) says the answer is whole (a forwarded stream does not always show
    the pod's close) or the pod closes. timeout bounds each read and the whole exchange (a pod that trickles bytes
    cannot hold the run); an answer over limit bytes is not read further. Raises on a failed forward, a timeout or
    an answer over the limit (PodRequestError)."""
    from kubernetes.stream import portforward

    deadline = time.monotonic() + timeout
    where = "pod {0}/{1} port {2}".format(namespace, pod, port)
    with _own_core_api(api) as core:
        forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace,
                              ports=str(port), _request_timeout=timeout)
        try:
            sock = forward.socket(port)
            sock.settimeout(_remaining(deadline, where, timeout, 0))
            sock.sendall(request)
            chunks, size = [], 0
            while not complete(b"".join(chunks)):
                sock.settimeout(_remaining(deadline, where, timeout, size))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise PodRequestError("the answer of {0} exceeds {1} bytes; stopped reading it. Fix: ask for less, "
                                          "or check what answers on that port".format(where, limit))
                chunks.append(chunk)
            error = forward.error(port)
        finally:
            forward.close()
    if error and not chunks:
        raise RuntimeError(error)
    return b"".join(chunks)


def _remaining(deadline, where, timeout, size):
    """Seconds left before deadline; PodRequestError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise PodRequestError("no whole answer from {0} within {1}s ({2} bytes read)".format(where, timeout, size))
    return left
