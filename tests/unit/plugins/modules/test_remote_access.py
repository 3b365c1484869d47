"""remote_access: what a remote secret's credentials may do on the other cluster, observed without writing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import types

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.modules import remote_access


class ApiException(Exception):
    def __init__(self, status):
        super(ApiException, self).__init__("status {0}".format(status))
        self.status = status


def kubeconfig(server="https://west:6443"):
    return {"clusters": [{"name": "west", "cluster": {"server": server}}], "contexts": [], "users": []}


class Core(object):
    """The control-plane cluster: the secrets it holds."""

    def __init__(self, secrets):
        self.secrets = secrets

    def read_namespaced_secret(self, name, namespace):
        if (namespace, name) not in self.secrets:
            raise ApiException(404)
        return types.SimpleNamespace(data=self.secrets[(namespace, name)])


def secret(key, config):
    return {key: base64.b64encode(yaml.safe_dump(config).encode()).decode()}


@pytest.fixture
def remote(monkeypatch):
    """The other cluster, as the credentials see it: readable or not, and the verbs its reviews allow."""
    state = {"readable": True, "allowed": set(), "reviews": []}

    class RemoteCore(object):
        def __init__(self, api):
            pass

        def list_namespace(self, **kwargs):
            if not state["readable"]:
                raise ApiException(403)

    class Reviews(object):
        def __init__(self, api):
            pass

        def create_self_subject_access_review(self, body, **kwargs):
            attrs = body["spec"]["resourceAttributes"]
            state["reviews"].append((attrs["verb"], attrs["resource"]))
            allowed = (attrs["verb"], attrs["resource"]) in state["allowed"]
            return types.SimpleNamespace(status=types.SimpleNamespace(allowed=allowed))

    import kubernetes.client

    monkeypatch.setattr(kubernetes.client, "CoreV1Api", RemoteCore)
    monkeypatch.setattr(kubernetes.client, "AuthorizationV1Api", Reviews)
    monkeypatch.setattr(remote_access, "_client", lambda config, timeout: object())
    return state


ITEM = {"namespace": "istio-system-1", "cluster": "west", "type": "remote"}


def test_a_reader_reads_and_may_not_write(remote):
    core = Core({("istio-system-1", "istio-remote-secret-west"): secret("west", kubeconfig())})
    seen = remote_access.observe(core, ITEM, 5)
    assert seen == {"namespace": "istio-system-1", "cluster": "west", "type": "remote",
                    "secret": "istio-remote-secret-west", "exists": True, "server": "https://west:6443",
                    "can_read": True, "writes_allowed": [], "error": None}
    assert ("create", "namespaces") in remote["reviews"] and ("create", "secrets") in remote["reviews"]


def test_writes_the_reader_is_allowed_are_reported(remote):
    remote["allowed"].add(("create", "secrets"))
    core = Core({("istio-system-1", "istio-remote-secret-west"): secret("west", kubeconfig())})
    assert remote_access.observe(core, ITEM, 5)["writes_allowed"] == ["create secrets"]


def test_a_missing_secret_or_refused_credentials_are_results_not_failures(remote):
    assert remote_access.observe(Core({}), ITEM, 5)["error"] == "no secret istio-system-1/istio-remote-secret-west"
    remote["readable"] = False
    core = Core({("istio-system-1", "istio-remote-secret-west"): secret("west", kubeconfig())})
    seen = remote_access.observe(core, ITEM, 5)
    assert seen["exists"] and not seen["can_read"] and "status 403" in seen["error"]


def test_a_config_secret_is_read_under_its_own_name_and_key(remote):
    core = Core({("external-istiod", "istio-kubeconfig"): secret("config", kubeconfig("https://east:6443"))})
    seen = remote_access.observe(core, {"namespace": "external-istiod", "cluster": "east", "type": "config"}, 5)
    assert seen["secret"] == "istio-kubeconfig" and seen["server"] == "https://east:6443" and seen["can_read"]
