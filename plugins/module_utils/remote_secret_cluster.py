# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""remote_secret against the two clusters: the service account and its token on the remote cluster, the secret on
the control-plane cluster. Every API error becomes a message that says which cluster, what was refused and the fix.
Over 400 lines: each API call comes with the message of its refusal, which is most of the text here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import time

from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_module, ref
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import ApiException, ClusterError, Unreachable
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import OWNER_LABEL
from ansible_collections.multimesh.istio.plugins.module_utils.remote_kubeconfig import RemoteKubeconfigError, credentials
from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret import (
    CREATED_BY,
    READER_RULES,
    RemoteSecretError,
    build_kubeconfig,
    build_secret,
    data_key,
    is_loopback,
    kubeconfig_text,
    marks,
    not_ours,
    parse_kubeconfig,
    jwt_claims,
    redacted,
    same_secret,
    secret_name,
    token_expiry,
    token_problem,
)


_RBAC = "rbac.authorization.k8s.io/v1"


def _call(where, what, fn, *args, **kwargs):
    """Run one API call; a missing object is None, anything else a RemoteSecretError that says what to do."""
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 404:
            return None
        if exc.status in (401, 403):
            raise RemoteSecretError("{0}: not allowed to {1} ({2} {3}). Fix: use credentials for the {0} that may {1}.".format(
                where, what, exc.status, exc.reason))
        raise RemoteSecretError("{0}: cannot {1}: {2} {3}".format(where, what, exc.status, exc.reason))
    except Unreachable as exc:
        raise RemoteSecretError("{0}: cannot {1}: the API server is unreachable ({2}). Fix: check the {0}'s access "
                                "options (kubeconfig, context, host).".format(where, what, type(exc.__context__ or exc).__name__))
    except ClusterError as exc:  # says what and the fix
        raise RemoteSecretError("{0}: cannot {1}: {2}".format(where, what, exc))
    except Exception as exc:  # urllib3 raises MaxRetryError and friends when the server cannot be reached
        raise RemoteSecretError("{0}: cannot {1}: the API server is unreachable ({2}). Fix: check the {0}'s access "
                                "options (kubeconfig, context, host).".format(where, what, type(exc).__name__))


def _annotations(obj):
    return (obj.get("metadata") or {}).get("annotations") or {}


class RemoteSecret(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.remote = connect_module(module, "remote_")
        self.target = connect_module(module, "")
        self.sa_namespace = self.params["service_account_namespace"] or self.params["namespace"]
        self.sa_name = self.params["service_account"] or (
            "istio-reader-service-account" if self.params["type"] == "remote" else "istiod")
        self.name = secret_name(self.params["cluster_name"], self.params["type"], self.params["secret_name"])
        self.key = data_key(self.params["cluster_name"], self.params["type"])
        self.owner = self.params.get("owner")
        self.changes = []
        self.warnings = []
        self.kept = []
        self.revocation = None

    # ---------------------------------------------------------------- remote cluster

    def _reader_objects(self):
        role_name = "{0}-{1}-multimesh-reader".format(self.sa_name, self.sa_namespace)
        labels, annotations = marks(self.owner)
        role = {"apiVersion": _RBAC, "kind": "ClusterRole",
                "metadata": {"name": role_name, "labels": labels, "annotations": annotations}, "rules": READER_RULES}
        binding = {"apiVersion": _RBAC, "kind": "ClusterRoleBinding",
                   "metadata": {"name": role_name, "labels": dict(labels), "annotations": dict(annotations)},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
                   "subjects": [{"kind": "ServiceAccount", "name": self.sa_name, "namespace": self.sa_namespace}]}
        return role, binding

    def read_service_account(self):
        return _call("remote cluster", "read service accounts", self.remote.get,
                     ref("v1", "ServiceAccount", self.sa_name, self.sa_namespace))

    def service_account(self):
        """The remote service account (created with the reader role when asked); None only in check mode."""
        sa = self.read_service_account()
        deadline = time.time() + (self.params.get("service_account_timeout") or 0)
        while sa is None and not self.params["create_service_account"] and not self.check and time.time() < deadline:
            # An operator (Sail) creates it some moments after the install that asks for it.
            time.sleep(2)
            sa = self.read_service_account()
        if sa is None and not self.params["create_service_account"] and self.check:
            # In a dry run the install that creates it (e.g. a config cluster's) was only simulated too.
            self.changes.append("expect service account {0}/{1} on the remote cluster (it does not exist yet)".format(
                self.sa_namespace, self.sa_name))
            return None
        if sa is None and not self.params["create_service_account"]:
            waited = self.params.get("service_account_timeout") or 0
            raise RemoteSecretError("remote cluster: service account {0}/{1} does not exist{2}. Fix: install Istio there (it "
                                    "creates it), or set create_service_account: true.".format(
                                        self.sa_namespace, self.sa_name, " (waited {0}s for it)".format(waited) if waited else ""))
        if self.params["create_service_account"]:
            sa = self._ensure_reader(sa)
        return sa

    def _ensure_reader(self, sa):
        role, binding = self._reader_objects()
        if sa is None:
            self.changes.append("create service account {0}/{1} on the remote cluster".format(self.sa_namespace, self.sa_name))
            if not self.check:
                if _call("remote cluster", "read namespaces", self.remote.get, ref("v1", "Namespace", self.sa_namespace)) is None:
                    raise RemoteSecretError("remote cluster: namespace {0} does not exist. Fix: create it first (the "
                                            "service account lives there).".format(self.sa_namespace))
                labels, annotations = marks(self.owner)
                sa = _call("remote cluster", "create service accounts", self.remote.create, {
                    "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
                        "name": self.sa_name, "namespace": self.sa_namespace, "labels": labels, "annotations": annotations}})
        for obj in (role, binding):
            live = _call("remote cluster", "read " + obj["kind"], self.remote.get, obj)
            if live is None:
                self.changes.append("create {0} {1} on the remote cluster".format(obj["kind"], obj["metadata"]["name"]))
                if not self.check:
                    _call("remote cluster", "create " + obj["kind"], self.remote.create, obj)
            elif live.get("rules", live.get("subjects")) != obj.get("rules", obj.get("subjects")):
                foreign = not_ours(live, self.owner)
                if foreign:
                    self.warnings.append("{0} {1} on the remote cluster differs from the reader role but was {2}: left "
                                         "as it is.".format(obj["kind"], obj["metadata"]["name"], foreign))
                    continue
                self.changes.append("update {0} {1} on the remote cluster".format(obj["kind"], obj["metadata"]["name"]))
                if not self.check:
                    _call("remote cluster", "update " + obj["kind"], self.remote.replace, obj, live)
        return sa

    def ca_data(self):
        """The remote cluster's CA as pods see it (kube-root-ca.crt), else the CA of the access configuration."""
        cm = _call("remote cluster", "read configmaps", self.remote.get,
                   ref("v1", "ConfigMap", "kube-root-ca.crt", self.sa_namespace))
        if cm is not None and (cm.get("data") or {}).get("ca.crt"):
            return base64.b64encode(cm["data"]["ca.crt"].encode("utf-8")).decode("ascii")
        ca_file = self.remote.api.configuration.ssl_ca_cert
        if ca_file:
            with open(ca_file, "rb") as handle:
                return base64.b64encode(handle.read()).decode("ascii")
        if self.check:  # the namespace may come with an install that a dry run only simulated
            return ""
        raise RemoteSecretError("remote cluster: no CA certificate found (no kube-root-ca.crt in {0}, none in the access "
                                "configuration). Fix: set remote_ca_cert.".format(self.sa_namespace))

    def server(self):
        server = self.params["server"] or self.remote.host
        if is_loopback(server) and not self.params["server"]:
            self.warnings.append("server {0} is a loopback address: istiod in another cluster cannot reach it. Set server "
                                 "to an address istiod can reach.".format(server))
        return server

    def _token(self, sa, stored):
        """The token to store: the stored one while it is still good, else a new one (a placeholder in check mode)."""
        if self.params["token"] == "legacy":
            return self.legacy_token(self.params["rotate"])
        uid = ((sa or {}).get("metadata") or {}).get("uid")
        why = "rotation asked" if self.params["rotate"] else (token_problem(
            stored, self.sa_namespace, self.sa_name, uid, time.time(), self.params["renew_before"])
            or self._token_secret_problem(stored))
        if not why:
            return stored
        self.changes.append("new bound token for {0}/{1}: {2}".format(self.sa_namespace, self.sa_name, why))
        if self.check:
            return "<new token>"
        token = self.bound_token()
        left = (token_expiry(token) or 0) - time.time()
        if token_expiry(token) is not None and left < self.params["renew_before"]:
            # The API server may cap token lifetimes (--service-account-max-token-expiration).
            self.warnings.append(
                "the remote API server issued a token valid for {0}s, less than renew_before ({1}s): every run will "
                "renew it. Set renew_before below {0}.".format(int(left), self.params["renew_before"]))
        return token

    # The secret this inventory's bound tokens are bound to (TokenRequest boundObjectRef): deleting it revokes them,
    # even where the account stays (istioctl's istio-reader-service-account, another inventory's).
    TOKEN_FOR = "multimesh.istio/token-for"

    def token_secret_name(self):
        digest = hashlib.sha256((self.owner or "").encode("utf-8")).hexdigest()[:10]
        return "{0}-token-{1}".format(self.sa_name, digest)[:253]

    def read_token_secret(self):
        return _call("remote cluster", "read secrets", self.remote.get,
                     ref("v1", "Secret", self.token_secret_name(), self.sa_namespace))

    def _token_secret_problem(self, token):
        """Why a stored token is not revocable by this inventory (None when it is bound to its live token secret)."""
        bound = (jwt_claims(token or "") or {}).get("kubernetes.io", {}).get("secret") or {}
        live = self.read_token_secret()
        name = "{0}/{1}".format(self.sa_namespace, self.token_secret_name())
        if live is None:
            return "the token secret {0} it is bound to does not exist".format(name)
        if bound.get("name") != self.token_secret_name() or bound.get("uid") != live["metadata"].get("uid"):
            return "token is not bound to this inventory's token secret {0} (cleanup could not revoke it)".format(name)
        return None

    def _ensure_token_secret(self):
        live = self.read_token_secret()
        why = not_ours(live, self.owner) if live is not None else None
        if why:
            raise RemoteSecretError("remote cluster: secret {0}/{1} exists and was {2}. Fix: remove it if nothing uses it, "
                                    "or use another owner.".format(self.sa_namespace, self.token_secret_name(), why))
        if live is None:
            self.changes.append("create token secret {0}/{1} on the remote cluster (the token is bound to it)".format(
                self.sa_namespace, self.token_secret_name()))
            labels, annotations = marks(self.owner)
            annotations[self.TOKEN_FOR] = self.sa_name
            live = _call("remote cluster", "create secrets", self.remote.create, {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {
                    "name": self.token_secret_name(), "namespace": self.sa_namespace, "labels": labels,
                    "annotations": annotations}})
        return live

    def bound_token(self):
        anchor = self._ensure_token_secret()
        spec = {"expirationSeconds": self.params["token_duration"],
                "boundObjectRef": {"apiVersion": "v1", "kind": "Secret", "name": anchor["metadata"]["name"],
                                   "uid": anchor["metadata"]["uid"]}}
        return _call("remote cluster", "create service account tokens", self.remote.request_token, self.sa_name,
                     self.sa_namespace, spec)

    def legacy_token(self, rotate):
        """The token of a service-account-token secret referencing the account, as istioctl does; one is created (named
        as istioctl names it) when none exists, and recreated on rotation when this module created it."""
        mine = None
        for item in self._secrets():
            if item.get("type") == "kubernetes.io/service-account-token" and \
                    _annotations(item).get("kubernetes.io/service-account.name") == self.sa_name:
                mine = item
                break
        if mine is not None and not rotate:
            return base64.b64decode((mine.get("data") or {}).get("token") or b"").decode("utf-8")
        if self.check:
            self.changes.append("new legacy token secret for {0}/{1}".format(self.sa_namespace, self.sa_name))
            return "<new token>"
        if mine is not None:
            if _annotations(mine).get(CREATED_BY) != "remote_secret":
                raise RemoteSecretError("rotate: the token secret {0}/{1} was not created by this module. Fix: rotate it "
                                        "where it was created, or use token: bound.".format(self.sa_namespace, mine["metadata"]["name"]))
            _call("remote cluster", "delete secrets", self.remote.delete, mine)
        self.changes.append("new legacy token secret for {0}/{1}".format(self.sa_namespace, self.sa_name))
        name = self.sa_name + "-istio-remote-secret-token"
        labels, annotations = marks(self.owner)
        annotations["kubernetes.io/service-account.name"] = self.sa_name
        _call("remote cluster", "create secrets", self.remote.create, {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "namespace": self.sa_namespace, "labels": labels, "annotations": annotations}})
        deadline = time.time() + 30
        while True:
            mine = _call("remote cluster", "read secrets", self.remote.get, ref("v1", "Secret", name, self.sa_namespace))
            if mine is not None and (mine.get("data") or {}).get("token"):
                break
            if time.time() > deadline:
                raise RemoteSecretError("remote cluster: waited 30s for the token controller to fill secret {0}/{1}. Fix: "
                                        "check kube-controller-manager runs with a service account key, or use token: "
                                        "bound.".format(self.sa_namespace, name))
            time.sleep(1)
        return base64.b64decode(mine["data"]["token"]).decode("utf-8")

    def _secrets(self):
        """The secrets of the service account's namespace on the remote cluster, by name."""
        found = _call("remote cluster", "list secrets", self.remote.list, "v1", "Secret", namespace=self.sa_namespace)
        return sorted(found or [], key=lambda item: item["metadata"]["name"])

    # ---------------------------------------------------------------- control-plane (target) cluster

    def existing(self):
        return _call("control-plane cluster", "read secrets", self.target.get,
                     ref("v1", "Secret", self.name, self.params["namespace"]))

    def write(self, secret, existing):
        if existing is None:
            _call("control-plane cluster", "create secrets", self.target.create, secret)
        else:
            _call("control-plane cluster", "update secrets", self.target.replace, secret, existing)

    # ---------------------------------------------------------------- states

    def _refuse_foreign(self, existing):
        """Before any change: a same-named secret this module did not write for this owner is never taken over."""
        why = not_ours(existing, self.owner) if existing is not None else None
        if why:
            raise RemoteSecretError(
                "control-plane cluster: secret {0}/{1} already exists and was {2}. Fix: remove it if nothing uses it "
                "(kubectl -n {0} delete secret {1}), or give another secret_name.".format(
                    self.params["namespace"], self.name, why))

    def _stored_token(self, current):
        """The token of the stored kubeconfig, kept only from the shape this module writes (credentials()); any other
        shape, e.g. edited by hand, gets a new token and is rewritten."""
        if not current:
            return None
        try:
            return credentials(current, "secret {0}/{1}".format(self.params["namespace"], self.name))["token"]
        except RemoteKubeconfigError as exc:
            self.warnings.append("{0}: its token is not kept, the secret is rewritten.".format(exc.problem))
            return None

    def present(self, token_source=None):
        """token_source(): (token, ca_data, server) from istioctl instead of the native path."""
        existing = self.existing()
        self._refuse_foreign(existing)
        current = parse_kubeconfig(existing, self.key)
        if token_source is not None:
            token, ca, server = token_source()
        else:
            sa = self.service_account()
            ca, server = self.ca_data(), self.server()
            token = self._token(sa, self._stored_token(current))
        kubeconfig = build_kubeconfig(self.params["cluster_name"], server, ca, token, self.params["tls_server_name"])
        wanted = build_secret(self.name, self.params["namespace"], self.params["cluster_name"], self.key, kubeconfig,
                              self.owner)
        if not same_secret(existing, wanted, self.key):
            self.changes.append("{0} secret {1}/{2} on the control-plane cluster".format(
                "create" if existing is None else "update", self.params["namespace"], self.name))
            if not self.check:
                self.write(wanted, existing)
        return self._result(existing, wanted, token)

    def absent(self):
        existing = self.existing()
        why = not_ours(existing, self.owner) if existing is not None else None
        if why:
            # Someone else's secret (istioctl's, another inventory's): kept, and said so.
            self.kept.append("secret {0}/{1} on the control-plane cluster: {2}".format(self.params["namespace"], self.name, why))
        elif existing is not None:
            self.changes.append("delete secret {0}/{1} on the control-plane cluster".format(self.params["namespace"], self.name))
            if not self.check:
                _call("control-plane cluster", "delete secrets", self.target.delete, existing)
        if self.params["method"] == "native" and self._revoke_and_remove():
            self.warnings.append("the reader service account {0}/{1} on the remote cluster was removed with this secret; "
                                 "other control planes that read the remote cluster with it lose access (their secrets "
                                 "live on their own clusters, which this module cannot see).".format(
                                     self.sa_namespace, self.sa_name))
        return self._result(existing if why is None else None, None, None)

    def _other_users(self):
        """Token secrets for the account that are not this inventory's: another inventory's (its bound tokens'
        secret, its legacy token secret) or anyone else's service-account-token secret."""
        users = []
        for item in self._secrets():
            notes = _annotations(item)
            if notes.get(self.TOKEN_FOR) != self.sa_name and not (item.get("type") == "kubernetes.io/service-account-token"
                                                                  and notes.get("kubernetes.io/service-account.name") == self.sa_name):
                continue
            if not_ours(item, self.owner):
                who = (item["metadata"].get("labels") or {}).get(OWNER_LABEL)
                users.append("{0} (secret {1}/{2})".format("inventory " + repr(who) if who else "another token",
                                                           self.sa_namespace, item["metadata"]["name"]))
        return users

    def _revoke_and_remove(self):
        """Revoke this inventory's token (delete the secret it is bound to), then remove the reader account and RBAC
        this module created, unless another inventory's token uses the account; whether the account went."""
        anchor = self.read_token_secret()
        name = "{0}/{1}".format(self.sa_namespace, self.token_secret_name())
        said = []
        if anchor is not None and not not_ours(anchor, self.owner):
            self.changes.append("delete token secret {0} on the remote cluster: the token this inventory issued is "
                                "revoked".format(name))
            said.append("{0} (token secret {1} deleted)".format("token would be revoked" if self.check else "token revoked", name))
            if not self.check:
                _call("remote cluster", "delete secrets", self.remote.delete, anchor)
        else:
            said.append("no token secret of this inventory ({0}) to revoke".format(name))
        account = self.read_service_account()
        # Another inventory's users matter only for an account this inventory made (and would otherwise delete).
        users = self._other_users() if account is not None and not not_ours(account, self.owner) else []
        if users:
            said.append("account {0}/{1} kept: used by {2}".format(self.sa_namespace, self.sa_name, ", ".join(users)))
            self.kept.append("service account {0}/{1} and its reader role on the remote cluster: used by {2}".format(
                self.sa_namespace, self.sa_name, ", ".join(users)))
            self.revocation = "; ".join(said)
            return False
        removed = self._remove_created()
        said.append("account {0}/{1} {2}".format(self.sa_namespace, self.sa_name, (
            "would be deleted" if self.check else "deleted") if removed else "kept: not created by this module for this inventory"))
        self.revocation = "; ".join(said)
        return removed

    def _remove_created(self):
        """Only what this module created on the remote cluster for this owner (the created-by annotation, the owner
        label); whether the service account was among it."""
        role, binding = self._reader_objects()
        candidates = [binding, role, ref("v1", "Secret", self.sa_name + "-istio-remote-secret-token", self.sa_namespace),
                      ref("v1", "ServiceAccount", self.sa_name, self.sa_namespace)]
        removed_account = False
        for obj in candidates:
            kind, name = obj["kind"], obj["metadata"]["name"]
            live = _call("remote cluster", "read " + kind, self.remote.get, obj)
            if live is not None and not not_ours(live, self.owner):
                self.changes.append("delete {0} {1} on the remote cluster (created by this module)".format(kind, name))
                removed_account = removed_account or kind == "ServiceAccount"
                if not self.check:
                    _call("remote cluster", "delete " + kind, self.remote.delete, live)
        return removed_account

    def _result(self, existing, wanted, token):
        after = redacted(wanted, self.key)
        result = {"changed": bool(self.changes), "changes": self.changes, "secret_name": self.name,
                  "namespace": self.params["namespace"], "cluster_name": self.params["cluster_name"],
                  "service_account": "{0}/{1}".format(self.sa_namespace, self.sa_name),
                  "secret": after, "token_expires": token_expiry(token) if token else None, "kept": self.kept}
        if self.revocation is not None:
            result["revocation"] = self.revocation
        if self.module._diff:
            before = redacted(existing, self.key)
            result["diff"] = {"before_header": "secret {0}/{1}".format(self.params["namespace"], self.name),
                              "after_header": "secret {0}/{1}".format(self.params["namespace"], self.name),
                              "before": kubeconfig_text(before) if before else "", "after": kubeconfig_text(after) if after else ""}
        for warning in self.warnings:
            self.module.warn(warning)
        return result
