"""remote_secret with method=istioctl: only a token, inline CA data and an https server are taken from what
istioctl create-remote-secret printed (it read them from the remote cluster)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import types

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.module_utils.istioctl import IstioctlError
from ansible_collections.multimesh.istio.plugins.modules import remote_secret

PEM = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA = base64.b64encode(PEM).decode()


def printed(user):
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": "c2", "preferences": {},
                  "clusters": [{"name": "c2", "cluster": {"server": "https://10.0.0.2:6443", "certificate-authority-data": CA}}],
                  "contexts": [{"name": "c2", "context": {"cluster": "c2", "user": "c2"}}],
                  "users": [{"name": "c2", "user": user}]}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "istio-remote-secret-c2"},
                           "stringData": {"c2": yaml.safe_dump(kubeconfig)}})


def source(monkeypatch, out):
    class Istioctl(object):
        def __init__(self, module):
            pass

        def run(self, args, cluster=False):
            return 0, out, ""

    monkeypatch.setattr(remote_secret, "Istioctl", Istioctl)
    module = types.SimpleNamespace(check_mode=False, params={
        "cluster_name": "c2", "type": "remote", "server": None, "tls_server_name": None})
    job = types.SimpleNamespace(sa_namespace="istio-system", sa_name="istio-reader-service-account")
    return remote_secret.istioctl_source(module, job)


def test_token_ca_and_server_are_taken_from_the_printed_kubeconfig(monkeypatch):
    assert source(monkeypatch, printed({"token": "legacy-token"})) == ("legacy-token", CA, "https://10.0.0.2:6443")


def test_a_printed_kubeconfig_with_another_credential_is_refused(monkeypatch):
    with pytest.raises(IstioctlError) as caught:
        source(monkeypatch, printed({"token": "t", "tokenFile": "/etc/shadow"}))
    assert str(caught.value) == ("the kubeconfig istioctl create-remote-secret printed: users[0].user.tokenFile reads a "
                                 "file on this machine. Fix: check the remote cluster's service account token secret "
                                 "and CA.")
