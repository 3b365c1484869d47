# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""A kubeconfig read from a cluster (a remote secret) is data, not configuration: nothing in it may run a command or
read a file on the machine that uses it. Only the shape that remote_secret and `istioctl create-remote-secret` write is
accepted - one https server with inline CA data, one user with a bearer token - and the kubernetes client is built from
those fields alone, never with the kubernetes library's kubeconfig loader (which runs exec plugins, auth providers and
reads every *file* field)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import contextlib
import os
import re
import tempfile

from urllib.parse import urlparse

from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_configuration

FIX = ("Fix: let multimesh.istio.remote_secret write the secret (the control_plane role does): one cluster with an "
       "https server and certificate-authority-data, one user with only a bearer token, at most one context joining "
       "them.")

_CLUSTER_FIELDS = ("server", "certificate-authority-data", "tls-server-name")
_USER_FIELDS = ("token",)
_CONTEXT_FIELDS = ("cluster", "user", "namespace")

# Why a field is refused; any other unknown field is refused too, as "not accepted".
_REFUSED = {
    "exec": "runs a command on this machine",
    "auth-provider": "runs an authentication provider plugin on this machine",
    "tokenFile": "reads a file on this machine",
    "client-certificate": "reads a file on this machine",
    "client-key": "reads a file on this machine",
    "certificate-authority": "reads a file on this machine",
    "client-certificate-data": "is a client certificate; only a bearer token is accepted",
    "client-key-data": "is a client key; only a bearer token is accepted",
    "username": "is basic authentication; only a bearer token is accepted",
    "password": "is basic authentication; only a bearer token is accepted",
    "as": "impersonates another user",
    "as-uid": "impersonates another user",
    "as-groups": "impersonates other groups",
    "as-user-extra": "impersonates another user",
    "proxy-url": "sends the requests through a proxy the secret chooses",
    "insecure-skip-tls-verify": "turns off verification of the server's certificate",
    "disable-compression": "is not accepted",
    "extensions": "is not accepted",
}

_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # one visible ASCII word: nothing that could end the Authorization header
_SERVER_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$")


class RemoteKubeconfigError(Exception):
    """A kubeconfig that is refused: `problem` says where and why, str() adds the fix."""

    def __init__(self, where, field, reason):
        self.problem = "{0}: {1} {2}".format(where, field, reason)
        super(RemoteKubeconfigError, self).__init__("{0}. {1}".format(self.problem, FIX))


def _one(kubeconfig, key, where, allow_none=False):
    entries = kubeconfig.get(key)
    if allow_none and not entries:
        return None
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        count = len(entries) if isinstance(entries, list) else 0
        raise RemoteKubeconfigError(where, key, "holds {0} entries; exactly one is accepted (no choice is made among "
                                    "several)".format(count))
    return entries[0]


def _fields(entry, key, inner, allowed, where):
    """entry[inner] (a dict) after refusing every field not in allowed, naming it as key[0].inner.field."""
    body = entry.get(inner)
    if not isinstance(body, dict):
        raise RemoteKubeconfigError(where, "{0}[0].{1}".format(key, inner), "is missing")
    for field in sorted(body):
        if field not in allowed:
            raise RemoteKubeconfigError(where, "{0}[0].{1}.{2}".format(key, inner, field),
                                        _REFUSED.get(field, "is not accepted"))
    return body


def _server(cluster, where):
    server = cluster.get("server")
    try:
        parsed = urlparse(server) if isinstance(server, str) else None
        host = parsed.hostname if parsed else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parsed, host = None, None
    if not host or parsed.scheme != "https" or "@" in parsed.netloc:
        raise RemoteKubeconfigError(where, "clusters[0].cluster.server", "is not an https:// URL of a host (the token "
                                    "is only sent over verified TLS)")
    return server


def _ca_pem(cluster, where):
    data = cluster.get("certificate-authority-data")
    try:
        pem = base64.b64decode("".join(data.split()).encode("ascii"), validate=True) if isinstance(data, str) else b""
    except (binascii.Error, ValueError, UnicodeError):
        pem = b""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise RemoteKubeconfigError(where, "clusters[0].cluster.certificate-authority-data", "is missing or not "
                                    "base64 of a PEM certificate (the server's certificate must be verified)")
    return pem


def credentials(kubeconfig, where):
    """What a kubeconfig from a cluster may give: {server, token, ca_pem (bytes), tls_server_name}. Anything else - a
    command, a provider, a file, another kind of credential, a proxy, a choice among several entries - raises
    RemoteKubeconfigError naming `where` (e.g. the secret) and the field. Pure: reads nothing, runs nothing."""
    if not isinstance(kubeconfig, dict):
        raise RemoteKubeconfigError(where, "the kubeconfig", "is not a YAML mapping")
    # The user first: a command or a file there is the worst of what a kubeconfig can hold.
    user_entry = _one(kubeconfig, "users", where)
    user = _fields(user_entry, "users", "user", _USER_FIELDS, where)
    named = _one(kubeconfig, "clusters", where)
    cluster = _fields(named, "clusters", "cluster", _CLUSTER_FIELDS, where)
    context_entry = _one(kubeconfig, "contexts", where, allow_none=True)
    current = kubeconfig.get("current-context")
    if context_entry is not None:
        context = _fields(context_entry, "contexts", "context", _CONTEXT_FIELDS, where)
        if context.get("cluster") != named.get("name") or context.get("user") != user_entry.get("name"):
            raise RemoteKubeconfigError(where, "contexts[0].context", "does not join clusters[0] and users[0]")
        if current and current != context_entry.get("name"):
            raise RemoteKubeconfigError(where, "current-context", "names no context of the kubeconfig")
    elif current:
        raise RemoteKubeconfigError(where, "current-context", "names no context of the kubeconfig")
    token = user.get("token")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise RemoteKubeconfigError(where, "users[0].user.token", "is missing or not a single word (a bearer token "
                                    "is the only credential accepted)")
    server_name = cluster.get("tls-server-name")
    if server_name is not None and not (isinstance(server_name, str) and _SERVER_NAME.match(server_name)):
        raise RemoteKubeconfigError(where, "clusters[0].cluster.tls-server-name", "is not a host name")
    return {"server": _server(cluster, where), "token": token, "ca_pem": _ca_pem(cluster, where),
            "tls_server_name": server_name}


def configuration(creds, ca_file, **settings):
    """A kubernetes client Configuration from credentials() alone; ca_file holds creds['ca_pem']."""
    from kubernetes import client

    config = client.Configuration()
    config.host = creds["server"]
    config.api_key = {"authorization": "Bearer " + creds["token"]}
    config.ssl_ca_cert = ca_file
    config.verify_ssl = True
    if creds.get("tls_server_name"):
        config.tls_server_name = creds["tls_server_name"]
    for key, value in settings.items():
        setattr(config, key, value)
    return config


@contextlib.contextmanager
def connected(creds, tmpdir=None, **settings):
    """The cluster credentials() name (module_utils/k8s/cluster.py; nothing from K8S_AUTH_* is added); the CA goes
    to a 0600 file (older kubernetes clients verify only against a path), removed when the block ends. settings:
    further Configuration attributes (e.g. retries)."""
    fd, path = tempfile.mkstemp(prefix="remote-ca-", suffix=".crt", dir=tmpdir)
    cluster = None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(creds["ca_pem"])
        cluster = connect_configuration(configuration(creds, path, **settings))
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()
        os.remove(path)
