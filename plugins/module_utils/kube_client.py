# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Cluster access for modules that run on a host: one argument spec (named as in kubernetes.core) and one way to
turn it into a kubernetes API client or a kubeconfig file for tools such as istioctl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import tempfile
import time

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the caller through missing_required_lib
    yaml = None

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes import dynamic as k8s_dynamic
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):
        status = None


try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
except ImportError:  # pragma: no cover - kubernetes.core is a dependency of this collection
    AUTH_ARG_SPEC = {}

# Written by the API server, not by a client: left out of comparisons, diffs and objects created again.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")

# A second cluster named by a prefix (remote_*) in one module: the options kubeconfig-based tools need, without
# environment fallbacks (K8S_AUTH_* describe the first cluster).
_PREFIXED = {
    "kubeconfig": {"type": "path"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path"},
    "validate_certs": {"type": "bool"},
}


def cluster_spec(prefix=""):
    """Access options for one cluster: kubernetes.core's (AUTH_ARG_SPEC, documented by its k8s_auth_options doc
    fragment; unset options come from K8S_AUTH_* as in kubernetes.core). A prefix (e.g. 'remote_') names a second
    cluster in the same module with the options of _PREFIXED."""
    if not prefix:
        return dict((key, dict(value)) for key, value in AUTH_ARG_SPEC.items())
    return dict((prefix + key, dict(value)) for key, value in _PREFIXED.items())


# kubernetes.core also reads these names (its AUTH_ARG_MAP's client-side names).
_ENV_ALIASES = {"ca_cert": "K8S_AUTH_SSL_CA_CERT", "validate_certs": "K8S_AUTH_VERIFY_SSL",
                "client_cert": "K8S_AUTH_CERT_FILE", "client_key": "K8S_AUTH_KEY_FILE"}


def _env(key):
    value = os.environ.get("K8S_AUTH_" + key.upper())
    if value is None and key in _ENV_ALIASES:
        value = os.environ.get(_ENV_ALIASES[key])
    if value is not None and (AUTH_ARG_SPEC.get(key) or {}).get("type") == "bool":
        return value.lower() not in ("0", "false", "no")
    if value is not None and (AUTH_ARG_SPEC.get(key) or {}).get("type") == "list":
        return [item for item in value.split(",") if item]
    return value


def _access(params, prefix):
    """The access options of one cluster; unprefixed ones fall back to K8S_AUTH_* like kubernetes.core's."""
    keys = AUTH_ARG_SPEC if not prefix else _PREFIXED
    access = dict((key, params.get(prefix + key)) for key in keys)
    if not prefix:
        for key, value in access.items():
            if value is None:
                access[key] = _env(key)
    return access


def _explicit_kubeconfig(access):
    """A kubeconfig (as a dict) for access given by host (token, client certificate or basic auth) or by an
    in-memory kubeconfig; None when a kubeconfig file is used instead."""
    if isinstance(access.get("kubeconfig"), dict):
        return access["kubeconfig"]
    if not access.get("host"):
        return None
    cluster = {"server": access["host"]}
    if access.get("validate_certs") is False:
        cluster["insecure-skip-tls-verify"] = True
    elif access.get("ca_cert"):
        cluster["certificate-authority"] = access["ca_cert"]
    if access.get("proxy"):
        cluster["proxy-url"] = access["proxy"]
    user = {}
    for key, field in (("api_key", "token"), ("client_cert", "client-certificate"), ("client_key", "client-key"),
                       ("username", "username"), ("password", "password"), ("impersonate_user", "as"),
                       ("impersonate_groups", "as-groups")):
        if access.get(key):
            user[field] = access[key]
    return {"apiVersion": "v1", "kind": "Config", "current-context": "access",
            "clusters": [{"name": "access", "cluster": cluster}],
            "users": [{"name": "access", "user": user}],
            "contexts": [{"name": "access", "context": {"cluster": "access", "user": "access"}}]}


def private_file(module, content, suffix):
    """Write content to a 0600 file in the module's temporary directory; it is removed when the module exits."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir=module.tmpdir)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    module.add_cleanup_file(path)
    return path


def kubeconfig_args(module, prefix=""):
    """Command-line flags (--kubeconfig/--context) that give a tool the same access as the module's options."""
    access = _access(module.params, prefix)
    explicit = _explicit_kubeconfig(access)
    if explicit is not None:
        args = ["--kubeconfig", private_file(module, yaml.safe_dump(explicit), ".kubeconfig")]
        return args + (["--context", access["context"]] if access.get("context") and not access.get("host") else [])
    args = []
    if access["kubeconfig"]:
        args += ["--kubeconfig", access["kubeconfig"]]
    if access["context"]:
        args += ["--context", access["context"]]
    return args


def api_client(module, prefix=""):
    """A kubernetes ApiClient for the cluster the options describe; fails the module with a readable message."""
    if not HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))
    try:
        if not prefix:
            from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

            return get_api_client(**dict((k, v) for k, v in module.params.items() if k in AUTH_ARG_SPEC)).client.client
        access = _access(module.params, prefix)
        configuration = k8s_client.Configuration()
        if access["host"]:
            configuration.host = access["host"]
            if access["api_key"]:
                configuration.api_key = {"authorization": "Bearer " + access["api_key"]}
            if access["ca_cert"]:
                configuration.ssl_ca_cert = access["ca_cert"]
        else:
            k8s_config.load_kube_config(config_file=access["kubeconfig"], context=access["context"],
                                        client_configuration=configuration)
        if access["validate_certs"] is False:
            configuration.verify_ssl = False
        return k8s_client.ApiClient(configuration)
    except Exception as exc:  # the kubernetes library raises many types for a bad kubeconfig
        if is_api_error(exc):  # kubernetes.core's client asks the server for its version at once
            module.fail_json(msg=api_failure(exc, "{0}cluster access ({1})".format(prefix, describe_access(module.params, prefix))))
        module.fail_json(msg="{0}cluster access: cannot load the configuration: {1}. Fix: check {0}kubeconfig/{0}context "
                             "or {0}host/{0}api_key.".format(prefix, exc))


def dynamic_client(module, prefix=""):
    return k8s_dynamic.DynamicClient(api_client(module, prefix))


try:
    from urllib3.exceptions import HTTPError as _Urllib3Error
except ImportError:  # pragma: no cover - urllib3 comes with the kubernetes library
    _Urllib3Error = OSError


def require_item_keys(module, option, keys, fix):
    """Fail naming option[index] and the missing keys when an item of a list option lacks one of keys."""
    for index, item in enumerate(module.params[option]):
        missing = [key for key in keys if not item.get(key)]
        if missing:
            module.fail_json(msg="{0}[{1}]: missing {2}. Fix: {3}.".format(option, index, ", ".join(missing), fix))


def one_line(exc):
    """An exception's text on one line (the kubernetes library's messages span several)."""
    return " ".join(str(exc).split())


def is_api_error(exc):
    """What a call to the API server raises when the server cannot be reached or refuses the call."""
    return isinstance(exc, (ApiException, _Urllib3Error, OSError))


def describe_access(params, prefix=""):
    """Which cluster the options name, for messages (never a credential)."""
    access = _access(params, prefix)
    if access.get("host"):
        return access["host"]
    kubeconfig = access.get("kubeconfig") if isinstance(access.get("kubeconfig"), str) else None
    return "kubeconfig {0}{1}".format(kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config",
                                      ", context " + access["context"] if access.get("context") else "")


def api_failure(exc, what):
    """A one-line message for an API error: what was being done, the server's answer or why it is unreachable, and
    the fix (instead of a traceback)."""
    status = getattr(exc, "status", None)
    if status:
        return "{0}: the API server answered {1} {2}. Fix: check that these credentials may do this.".format(
            what, status, getattr(exc, "reason", "") or "")
    return ("{0}: the API server cannot be reached ({1}). Fix: check kubeconfig/context (or host) and that the API "
            "server runs.".format(what, one_line(exc)[:300]))


def _resource(dyn, api_version, kind):
    """The kind's API resource, or None when the cluster does not serve it. Any other discovery failure (refused,
    forbidden, unreachable) is raised: taking it for "not installed" would make a removal report success."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        return dyn.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return None


def get_object(dyn, api_version, kind, name, namespace=None):
    """The live object as a dict, or None when it (or its kind) does not exist."""
    resource = _resource(dyn, api_version, kind)
    if resource is None:
        return None  # the CRD is not installed, so the object cannot exist
    try:
        return resource.get(name=name, namespace=namespace).to_dict()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def list_objects(dyn, api_version, kind, label_selector=None, namespace=None):
    resource = _resource(dyn, api_version, kind)
    if resource is None:
        return []
    return resource.get(namespace=namespace, label_selector=label_selector).to_dict().get("items", [])


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
