"""remote_kubeconfig: a kubeconfig read from a cluster gives a server, inline CA data and a bearer token - nothing that
runs a command or reads a file on this machine - and the client is built from those fields alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import os
import stat

import pytest

from ansible_collections.multimesh.istio.plugins.module_utils import remote_kubeconfig as rk

PEM = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA = base64.b64encode(PEM).decode("ascii")
WHERE = "secret istio-system/istio-remote-secret-west (key west)"


def kubeconfig(**cluster):
    """What remote_secret and istioctl create-remote-secret write."""
    return {"apiVersion": "v1", "kind": "Config", "current-context": "west", "preferences": {},
            "clusters": [{"name": "west", "cluster": dict({"server": "https://10.0.0.5:6443",
                                                           "certificate-authority-data": CA}, **cluster)}],
            "contexts": [{"name": "west", "context": {"cluster": "west", "user": "west"}}],
            "users": [{"name": "west", "user": {"token": "tok.en-1"}}]}


def refused(config):
    with pytest.raises(rk.RemoteKubeconfigError) as caught:
        rk.credentials(config, WHERE)
    message = str(caught.value)
    assert message.startswith(WHERE + ": ") and "Fix: " in message and caught.value.problem in message
    return message


def test_the_shape_remote_secret_writes_gives_server_token_and_ca():
    creds = rk.credentials(kubeconfig(), WHERE)
    assert creds == {"server": "https://10.0.0.5:6443", "token": "tok.en-1", "ca_pem": PEM, "tls_server_name": None}
    assert rk.credentials(kubeconfig(**{"tls-server-name": "api.west"}), WHERE)["tls_server_name"] == "api.west"
    # A context is optional (none, then no current-context); a namespace in it is harmless.
    bare = dict(kubeconfig(), contexts=[])
    del bare["current-context"]
    assert rk.credentials(bare, WHERE)["token"] == "tok.en-1"


@pytest.mark.parametrize("user, field, why", [
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "touch"}}, "users[0].user.exec",
     "runs a command"),
    ({"auth-provider": {"name": "gcp", "config": {"cmd-path": "/bin/sh"}}}, "users[0].user.auth-provider",
     "runs an authentication provider"),
    ({"tokenFile": "/etc/shadow"}, "users[0].user.tokenFile", "reads a file"),
    ({"client-certificate": "/root/c.crt", "client-key": "/root/c.key"}, "users[0].user.client-certificate",
     "reads a file"),
    ({"client-key": "/root/c.key"}, "users[0].user.client-key", "reads a file"),
    ({"client-certificate-data": CA, "client-key-data": CA}, "users[0].user.client-certificate-data",
     "is a client certificate; only a bearer token"),
    ({"username": "admin", "password": "pw"}, "users[0].user.password", "is basic authentication"),
    ({"as": "system:admin"}, "users[0].user.as", "impersonates"),
    ({"something-new": 1}, "users[0].user.something-new", "is not accepted"),
])
def test_every_user_but_a_bare_token_is_refused(user, field, why):
    config = kubeconfig()
    config["users"][0]["user"].update(user)
    message = refused(config)
    assert "{0}: {1} {2}".format(WHERE, field, why) in message
    # Nothing of the refused values reaches the message.
    assert "/etc/shadow" not in message and "/root" not in message and "cmd-path" not in message


@pytest.mark.parametrize("cluster, field, why", [
    ({"certificate-authority": "/etc/kubernetes/pki/ca.crt"}, "certificate-authority", "reads a file"),
    ({"proxy-url": "http://evil:3128"}, "proxy-url", "sends the requests through a proxy"),
    ({"insecure-skip-tls-verify": True}, "insecure-skip-tls-verify", "turns off verification"),
    ({"server": "http://10.0.0.5:6443"}, "server", "is not an https:// URL"),
    ({"server": "https://user:pw@10.0.0.5"}, "server", "is not an https:// URL"),
    ({"server": "https://[::1"}, "server", "is not an https:// URL"),
    ({"server": None}, "server", "is not an https:// URL"),
    ({"certificate-authority-data": None}, "certificate-authority-data", "is missing"),
    ({"certificate-authority-data": "not base64!"}, "certificate-authority-data", "is missing"),
    ({"certificate-authority-data": base64.b64encode(b"junk").decode()}, "certificate-authority-data", "is missing"),
    ({"tls-server-name": "a b"}, "tls-server-name", "is not a host name"),
])
def test_a_cluster_without_an_https_server_and_inline_ca_is_refused(cluster, field, why):
    message = refused(kubeconfig(**cluster))
    assert "{0}: clusters[0].cluster.{1} {2}".format(WHERE, field, why) in message


def test_no_choice_among_several_entries_and_a_context_must_join_them():
    config = kubeconfig()
    config["users"].append({"name": "admin", "user": {"token": "other"}})
    assert "users holds 2 entries; exactly one" in refused(config)
    config = kubeconfig()
    config["clusters"].append(copy.deepcopy(config["clusters"][0]))
    assert "clusters holds 2 entries" in refused(config)
    assert "users holds 0 entries" in refused(dict(kubeconfig(), users=[]))
    assert "clusters holds 0 entries" in refused(dict(kubeconfig(), clusters="x"))
    config = kubeconfig()
    config["contexts"].append({"name": "other", "context": {"cluster": "west", "user": "west"}})
    assert "contexts holds 2 entries" in refused(config)
    config = kubeconfig()
    config["contexts"][0]["context"]["user"] = "someone"
    assert "contexts[0].context does not join" in refused(config)
    assert "current-context names no context" in refused(dict(kubeconfig(), **{"current-context": "other"}))
    assert "users[0].user.token is missing" in refused(dict(kubeconfig(), users=[{"name": "west", "user": {}}]))
    assert "users[0].user.token is missing" in refused(
        dict(kubeconfig(), users=[{"name": "west", "user": {"token": "a\r\nX-Injected: 1"}}]))
    assert "the kubeconfig is not a YAML mapping" in refused(["not", "a", "mapping"])


def test_the_client_is_built_from_the_fields_with_the_ca_in_a_private_file_removed_after(tmp_path):
    creds = rk.credentials(kubeconfig(**{"tls-server-name": "api.west"}), WHERE)
    with rk.connected(creds, str(tmp_path), retries=0) as cluster:
        config = cluster.api.configuration
        assert config.host == "https://10.0.0.5:6443"
        assert config.api_key == {"authorization": "Bearer tok.en-1"}
        assert config.auth_settings()["BearerToken"]["value"] == "Bearer tok.en-1"  # the header actually sent
        assert config.verify_ssl is True and config.retries == 0 and config.tls_server_name == "api.west"
        assert os.path.dirname(config.ssl_ca_cert) == str(tmp_path)
        with open(config.ssl_ca_cert, "rb") as handle:
            assert handle.read() == PEM
        assert stat.S_IMODE(os.stat(config.ssl_ca_cert).st_mode) == 0o600
        ca_file = config.ssl_ca_cert
    assert not os.path.exists(ca_file) and os.listdir(str(tmp_path)) == []


def test_the_ca_file_is_removed_when_the_block_fails(tmp_path):
    creds = rk.credentials(kubeconfig(), WHERE)
    with pytest.raises(RuntimeError):
        with rk.connected(creds, str(tmp_path)):
            raise RuntimeError("the other cluster did not answer")
    assert os.listdir(str(tmp_path)) == []
