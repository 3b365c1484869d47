"""remote_access: what a remote secret's credentials may do on the other cluster, observed without writing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import stat
import types

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.modules import remote_access


class ApiException(Exception):
    def __init__(self, status):
        super(ApiException, self).__init__("status {0}".format(status))
        self.status = status


PEM = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
OWNER = "inv-a"
# What remote_secret writes on a secret (multimesh.istio.remote_secret.marks) for the owner.
MARKS = {"labels": {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": OWNER},
         "annotations": {"multimesh.istio/created-by": "remote_secret"}}


def kubeconfig(server="https://west:6443", user=None):
    """The shape remote_secret writes; user replaces the bearer token."""
    return {"apiVersion": "v1", "kind": "Config", "current-context": "west",
            "clusters": [{"name": "west", "cluster": {"server": server,
                                                      "certificate-authority-data": base64.b64encode(PEM).decode()}}],
            "contexts": [{"name": "west", "context": {"cluster": "west", "user": "west"}}],
            "users": [{"name": "west", "user": user or {"token": "reader-token"}}]}


class Core(object):
    """The control-plane cluster: the secrets it holds, as (data, metadata)."""

    def __init__(self, secrets):
        self.secrets = secrets

    def read_namespaced_secret(self, name, namespace):
        if (namespace, name) not in self.secrets:
            raise ApiException(404)
        data, meta = self.secrets[(namespace, name)]
        return types.SimpleNamespace(data=data, metadata=types.SimpleNamespace(**meta))


def secret(key, config, meta=None):
    return {key: base64.b64encode(yaml.safe_dump(config).encode()).decode()}, MARKS if meta is None else meta


@pytest.fixture
def remote(monkeypatch):
    """The other cluster, as the credentials see it: readable or not, and the verbs its reviews allow. The client
    configuration each call came with is kept (with the CA file's content and mode at that moment)."""
    state = {"readable": True, "allowed": set(), "reviews": [], "configs": []}

    class RemoteCore(object):
        def __init__(self, api):
            config = api.configuration
            with open(config.ssl_ca_cert, "rb") as handle:
                state["configs"].append({"host": config.host, "api_key": config.api_key, "ca_file": config.ssl_ca_cert,
                                         "ca": handle.read(), "mode": stat.S_IMODE(os.stat(config.ssl_ca_cert).st_mode),
                                         "verify_ssl": config.verify_ssl, "retries": config.retries})

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
    return state


ITEM = {"namespace": "istio-system-1", "cluster": "west", "type": "remote"}
NAME = ("istio-system-1", "istio-remote-secret-west")


def test_a_reader_reads_and_may_not_write(remote, tmp_path):
    core = Core({NAME: secret("west", kubeconfig())})
    seen = remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))
    assert seen == {"namespace": "istio-system-1", "cluster": "west", "type": "remote",
                    "secret": "istio-remote-secret-west", "exists": True, "server": "https://west:6443",
                    "can_read": True, "writes_allowed": [], "error": None}
    assert ("create", "namespaces") in remote["reviews"] and ("create", "secrets") in remote["reviews"]


def test_the_client_comes_from_the_token_and_inline_ca_alone(remote, tmp_path):
    """host, bearer token and CA (in a 0600 file, gone afterwards) from the secret's fields; nothing else."""
    core = Core({NAME: secret("west", kubeconfig())})
    assert remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))["can_read"]
    config = remote["configs"][0]
    assert config["host"] == "https://west:6443" and config["api_key"] == {"authorization": "Bearer reader-token"}
    assert config["ca"] == PEM and config["mode"] == 0o600 and config["verify_ssl"] is True and config["retries"] == 0
    assert os.path.dirname(config["ca_file"]) == str(tmp_path) and os.listdir(str(tmp_path)) == []


def test_an_exec_user_is_refused_and_nothing_runs(remote, tmp_path):
    marker = tmp_path / "ran"
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh",
                     "args": ["-c", "touch {0}".format(marker)]}}
    core = Core({NAME: secret("west", kubeconfig(user=user))})
    seen = remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))
    assert not marker.exists()
    assert seen["exists"] and not seen["can_read"] and seen["server"] is None and remote["configs"] == []
    assert seen["error"].startswith("secret istio-system-1/istio-remote-secret-west (key west): users[0].user.exec "
                                    "runs a command on this machine. Fix: ")


@pytest.mark.parametrize("user, field", [
    ({"auth-provider": {"name": "oidc", "config": {"idp-issuer-url": "https://idp", "refresh-token": "r"}}},
     "users[0].user.auth-provider"),
    ({"tokenFile": "FILE"}, "users[0].user.tokenFile"),
    ({"client-certificate": "FILE", "client-key": "FILE"}, "users[0].user.client-certificate"),
    ({"token": "t", "client-key": "FILE"}, "users[0].user.client-key"),
])
def test_providers_and_file_paths_are_refused_and_no_file_is_read(remote, tmp_path, user, field):
    path = tmp_path / "controller-secret"
    path.write_text("FROM-A-FILE")
    user = dict((k, str(path) if v == "FILE" else v) for k, v in user.items())
    core = Core({NAME: secret("west", kubeconfig(user=user))})
    seen = remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))
    assert remote["configs"] == [] and not seen["can_read"]
    assert "(key west): {0} ".format(field) in seen["error"] and "Fix: " in seen["error"]
    assert str(path) not in seen["error"]


def test_a_ca_path_is_refused(remote, tmp_path):
    config = kubeconfig()
    config["clusters"][0]["cluster"]["certificate-authority"] = "/etc/kubernetes/pki/ca.crt"
    seen = remote_access.observe(Core({NAME: secret("west", config)}), ITEM, 5, OWNER, str(tmp_path))
    assert "clusters[0].cluster.certificate-authority reads a file" in seen["error"] and remote["configs"] == []


@pytest.mark.parametrize("meta, why", [
    ({}, "it was not created by multimesh.istio (no multimesh.istio/created-by annotation)"),
    ({"labels": {}, "annotations": {"multimesh.istio/created-by": "remote_secret"}},
     "it was created by remote_secret without an owner, not by this inventory (inv-a)"),
    ({"labels": {"multimesh.istio/owner": "inv-b"}, "annotations": {"multimesh.istio/created-by": "remote_secret"}},
     "it was created by inventory 'inv-b', not by this inventory (inv-a)"),
])
def test_a_secret_without_this_inventorys_marks_is_not_used(remote, tmp_path, meta, why):
    core = Core({NAME: secret("west", kubeconfig(), meta)})
    seen = remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))
    assert seen["exists"] and not seen["can_read"] and remote["configs"] == []
    assert seen["error"].startswith("secret istio-system-1/istio-remote-secret-west is not used: " + why + ". Fix: ")


def test_without_an_owner_any_secret_remote_secret_wrote_is_used(remote, tmp_path):
    meta = {"annotations": {"multimesh.istio/created-by": "remote_secret"}}
    assert remote_access.observe(Core({NAME: secret("west", kubeconfig(), meta)}), ITEM, 5, None, str(tmp_path))["can_read"]


def test_writes_the_reader_is_allowed_are_reported(remote, tmp_path):
    remote["allowed"].add(("create", "secrets"))
    core = Core({NAME: secret("west", kubeconfig())})
    assert remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))["writes_allowed"] == ["create secrets"]


def test_a_missing_secret_or_refused_credentials_are_results_not_failures(remote, tmp_path):
    assert remote_access.observe(Core({}), ITEM, 5, OWNER)["error"] == "no secret istio-system-1/istio-remote-secret-west"
    remote["readable"] = False
    core = Core({NAME: secret("west", kubeconfig())})
    seen = remote_access.observe(core, ITEM, 5, OWNER, str(tmp_path))
    assert seen["exists"] and not seen["can_read"] and "status 403" in seen["error"]
    assert os.listdir(str(tmp_path)) == []


def test_a_config_secret_is_read_under_its_own_name_and_key(remote, tmp_path):
    core = Core({("external-istiod", "istio-kubeconfig"): secret("config", kubeconfig("https://east:6443"))})
    seen = remote_access.observe(core, {"namespace": "external-istiod", "cluster": "east", "type": "config"}, 5, OWNER,
                                 str(tmp_path))
    assert seen["secret"] == "istio-kubeconfig" and seen["server"] == "https://east:6443" and seen["can_read"]
