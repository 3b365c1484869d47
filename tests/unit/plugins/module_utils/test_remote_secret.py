"""remote_secret's pure logic: the secret and kubeconfig istioctl prints, token decisions, redaction, option checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import types
from unittest.mock import MagicMock

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.module_utils import remote_secret as rs
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import marked
from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret_cluster import _call

NOW = 1795000000
UID = "5b1d6f9e-7a4c-4a3e-9b8e-2f0a3c1d9e11"


def jwt(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "{0}.{1}.c2lnbmF0dXJl".format(part({"alg": "RS256", "kid": "k1"}), part(claims))


def claims(sub="system:serviceaccount:istio-system:istio-reader-service-account", exp=NOW + 86400 * 200, uid=UID):
    return {"iss": "https://kubernetes.default.svc", "sub": sub, "exp": exp,
            "kubernetes.io": {"namespace": "istio-system", "serviceaccount": {"name": sub.rsplit(":", 1)[-1], "uid": uid}}}


def test_kubeconfig_and_secret_as_istioctl_prints_them():
    kubeconfig = rs.build_kubeconfig("cluster-2", "https://10.0.0.2:6443", "Q0EtREFUQQ==", "tok")
    # istioctl create-remote-secret (istioctl/pkg/multicluster/remote_secret.go): one cluster, context and user, all
    # named after the cluster, the context current.
    assert kubeconfig == {
        "apiVersion": "v1", "kind": "Config", "current-context": "cluster-2", "preferences": {},
        "clusters": [{"name": "cluster-2", "cluster": {"certificate-authority-data": "Q0EtREFUQQ==", "server": "https://10.0.0.2:6443"}}],
        "contexts": [{"name": "cluster-2", "context": {"cluster": "cluster-2", "user": "cluster-2"}}],
        "users": [{"name": "cluster-2", "user": {"token": "tok"}}]}
    secret = rs.build_secret(rs.secret_name("cluster-2", "remote"), "istio-system", "cluster-2",
                             rs.data_key("cluster-2", "remote"), kubeconfig)
    # istioctl's label and annotation, plus the marks that say who created it.
    assert secret["metadata"] == {"name": "istio-remote-secret-cluster-2", "namespace": "istio-system",
                                  "labels": {"istio/multiCluster": "true", "app.kubernetes.io/managed-by": "multimesh.istio"},
                                  "annotations": {"networking.istio.io/cluster": "cluster-2",
                                                  "multimesh.istio/created-by": "remote_secret"}}
    assert yaml.safe_load(secret["stringData"]["cluster-2"]) == kubeconfig
    assert (rs.secret_name("c", "config"), rs.data_key("c", "config")) == ("istio-kubeconfig", "config")
    assert rs.secret_name("c", "remote", "mine") == "mine"
    with_sni = rs.build_kubeconfig("c", "https://lb:443", "Q0E=", "t", tls_server_name="api.c.example")
    assert with_sni["clusters"][0]["cluster"]["tls-server-name"] == "api.c.example"


def stored(secret):
    """The secret as the API server returns it: stringData folded into base64 data."""
    out = dict(secret)
    out["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in out.pop("stringData").items()}
    return out


def test_same_secret_compares_labels_annotation_and_kubeconfig():
    kubeconfig = rs.build_kubeconfig("c2", "https://10.0.0.2:6443", "Q0E=", "tok")
    wanted = rs.build_secret("istio-remote-secret-c2", "istio-system", "c2", "c2", kubeconfig)
    assert rs.same_secret(stored(wanted), wanted, "c2")
    assert not rs.same_secret(None, wanted, "c2")
    moved = rs.build_secret("istio-remote-secret-c2", "istio-system", "c2", "c2",
                            rs.build_kubeconfig("c2", "https://10.9.9.9:6443", "Q0E=", "tok"))
    assert not rs.same_secret(stored(moved), wanted, "c2")
    unlabelled = stored(wanted)
    unlabelled["metadata"] = dict(unlabelled["metadata"], labels={})
    assert not rs.same_secret(unlabelled, wanted, "c2")
    # An owner label is part of what is wanted: a secret of the same content without it is rewritten.
    owned = rs.build_secret("istio-remote-secret-c2", "istio-system", "c2", "c2", kubeconfig, owner="inv-a")
    assert owned["metadata"]["labels"]["multimesh.istio/owner"] == "inv-a"
    assert not rs.same_secret(stored(wanted), owned, "c2") and rs.same_secret(stored(owned), owned, "c2")
    garbage = dict(stored(wanted), data={"c2": "bm90IHlhbWw6IFs="})
    assert rs.parse_kubeconfig(garbage, "c2") is None and not rs.same_secret(garbage, wanted, "c2")


def test_only_objects_this_module_marked_for_this_owner_are_ours():
    kubeconfig = rs.build_kubeconfig("c2", "https://10.0.0.2:6443", "Q0E=", "tok")
    mine = rs.build_secret("n", "istio-system", "c2", "c2", kubeconfig, owner="inv-a")
    by_istioctl = {"metadata": {"name": "n", "labels": {"istio/multiCluster": "true"},
                                "annotations": {"networking.istio.io/cluster": "c2"}}}
    assert rs.not_ours(mine, "inv-a") is None and rs.not_ours(mine) is None
    assert rs.not_ours(by_istioctl, "inv-a") == "not created by multimesh.istio (no multimesh.istio/created-by annotation)"
    assert rs.not_ours(by_istioctl) == rs.not_ours(by_istioctl, "inv-a")
    assert rs.not_ours(mine, "inv-b") == "created by inventory 'inv-a', not by this inventory (inv-b)"
    unowned = rs.build_secret("n", "istio-system", "c2", "c2", kubeconfig)
    assert rs.not_ours(unowned, "inv-b") == "created by remote_secret without an owner, not by this inventory (inv-b)"
    assert rs.not_ours(None) == rs.not_ours(by_istioctl)


@pytest.mark.parametrize("token, uid, why", [
    (jwt(claims()), UID, None),
    (jwt(claims(exp=NOW + 3600)), UID, "token expires in 3600s (renewed below 2592000s)"),
    (jwt(claims(exp=NOW - 10)), UID, "token expires in -10s (renewed below 2592000s)"),
    (jwt(claims(sub="system:serviceaccount:istio-system:istiod")), UID, "token is for system:serviceaccount:istio-system:istiod"),
    (jwt(claims()), "another-uid", "service account was recreated"),
    ("not-a-jwt", UID, "no readable token"),
    (None, UID, "no readable token"),
])
def test_token_decision(token, uid, why):
    assert rs.token_problem(token, "istio-system", "istio-reader-service-account", uid, NOW, 2592000) == why


def test_legacy_token_without_expiry_is_kept_only_when_legacy_tokens_are_wanted():
    legacy = jwt({"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:istio-system:istio-reader-service-account",
                  "kubernetes.io/serviceaccount/service-account.uid": UID})
    assert rs.token_problem(legacy, "istio-system", "istio-reader-service-account", UID, NOW, 2592000, bound=False) is None
    # Issue 13 point 7: under the default token: bound, a stored legacy token is migrated.
    assert rs.token_problem(legacy, "istio-system", "istio-reader-service-account", UID, NOW, 2592000) == (
        "a legacy token (it never expires) is replaced by a bound token (token: bound)")
    assert rs.token_expiry(legacy) is None and rs.token_expiry(jwt(claims())) == NOW + 86400 * 200


def test_redaction_hides_every_token():
    kubeconfig = rs.build_kubeconfig("c2", "https://10.0.0.2:6443", "Q0E=", "secret-token-value")
    wanted = rs.build_secret("istio-remote-secret-c2", "istio-system", "c2", "c2", kubeconfig)
    for secret in (wanted, stored(wanted)):
        shown = rs.redacted(secret, "c2")
        assert "secret-token-value" not in json.dumps(shown)
        assert yaml.safe_load(shown["stringData"]["c2"])["users"][0]["user"]["token"] == "<redacted>"
    assert rs.redacted(None, "c2") is None


@pytest.mark.parametrize("change, message", [
    ({"cluster_name": "Cluster_2"}, "cluster_name: 'Cluster_2' is not a DNS-1123 label"),
    ({"cluster_name": None}, "cluster_name: '' is not a DNS-1123 label"),
    ({"namespace": "Istio System"}, "namespace: 'Istio System' is not a namespace name"),
    ({"create_service_account": True, "type": "config"}, "create_service_account: only for type=remote"),
    ({"token_duration": 60}, "token_duration: 60s is below the API server's minimum of 600s"),
    ({"server": "http://10.0.0.2:6443"}, "server: 'http://10.0.0.2:6443' is not an https:// URL"),
    ({"remote_kubeconfig": None}, "remote_kubeconfig: the remote cluster is not given"),
    ({"renew_before": 3600}, "token_duration: 3600s is not longer than renew_before (3600s)"),
    ({"owner": "inv a"}, "owner: 'inv a' is not a label value"),
    ({"owner": ""}, "owner: '' is not a label value"),
])
def test_bad_options_name_the_option(change, message):
    params = {"cluster_name": "cluster-2", "namespace": "istio-system", "type": "remote", "token": "bound",
              "token_duration": 3600, "server": None, "create_service_account": False,
              "remote_kubeconfig": "/etc/kube/cluster-2", "renew_before": 600}
    assert rs.check_params(params) == []
    params.update(change)
    problems = rs.check_params(params)
    assert len(problems) == 1 and problems[0].startswith(message) and "Fix: " in problems[0]


def test_loopback_servers_are_recognised():
    assert rs.is_loopback("https://127.0.0.1:6443") and rs.is_loopback("https://localhost") and rs.is_loopback("https://[::1]:443")
    assert not rs.is_loopback("https://10.0.0.2:6443") and not rs.is_loopback("https://127.example.com")


def test_reader_rules_grant_no_write_on_stored_objects():
    writes = {"create", "update", "patch", "delete", "deletecollection", "*"}
    for rule in rs.READER_RULES:
        if set(rule["verbs"]) & writes:
            assert rule["verbs"] == ["create"] and rule["resources"] in (["tokenreviews"], ["subjectaccessreviews"])


def test_api_errors_become_messages_that_name_the_cluster():
    from kubernetes.client.rest import ApiException

    def raising(exc):
        return MagicMock(side_effect=exc)

    assert _call("remote cluster", "read secrets", raising(ApiException(status=404, reason="Not Found"))) is None
    for status, reason, message in (
            (403, "Forbidden", "remote cluster: not allowed to read secrets (403 Forbidden). Fix: use credentials for the "
                               "remote cluster that may read secrets."),
            (401, "Unauthorized", "remote cluster: not allowed to read secrets (401 Unauthorized). Fix: use credentials for "
                                  "the remote cluster that may read secrets."),
            (500, "Internal Server Error", "remote cluster: cannot read secrets: 500 Internal Server Error")):
        with pytest.raises(rs.RemoteSecretError) as caught:
            _call("remote cluster", "read secrets", raising(ApiException(status=status, reason=reason)))
        assert str(caught.value) == message
    with pytest.raises(rs.RemoteSecretError) as caught:
        _call("control-plane cluster", "create secrets", raising(ConnectionRefusedError(111, "refused")))
    assert str(caught.value) == ("control-plane cluster: cannot create secrets: the API server is unreachable "
                                 "(ConnectionRefusedError). Fix: check the control-plane cluster's access options "
                                 "(kubeconfig, context, host).")


def test_redacted_masks_every_credential_of_a_stored_kubeconfig():
    """Issue 13 point 5: a stored kubeconfig may carry more than a token (a user's own, or an older secret)."""
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [
        {"name": "cert", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZLXNlY3JldA=="}},
        {"name": "basic", "user": {"username": "admin", "password": "pa55-secret"}},
        {"name": "oidc", "user": {"auth-provider": {"name": "oidc", "config": {
            "id-token": "oidc-secret", "refresh-token": "refresh-secret"}}}},
        {"name": "exec", "user": {"exec": {"command": "get-token", "args": ["--key", "arg-secret"],
                                           "env": [{"name": "API_KEY", "value": "env-secret"}]}}},
        {"name": "token", "user": {"token": "secret-token-value"}}]}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "istio-remote-secret-c2"},
              "stringData": {"c2": yaml.safe_dump(kubeconfig)}}
    shown = json.dumps(rs.redacted(secret, "c2"))
    for value in ("S0VZLXNlY3JldA==", "pa55-secret", "oidc-secret", "refresh-secret", "arg-secret", "env-secret",
                  "secret-token-value"):
        assert value not in shown, value
    users = yaml.safe_load(rs.redacted(secret, "c2")["stringData"]["c2"])["users"]
    assert users[3]["user"]["exec"]["command"] == "get-token" and users[2]["user"]["auth-provider"]["name"] == "oidc"


def stored_job(params=None):
    """A RemoteSecret without clusters: enough for the decisions on the stored secret."""
    from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret_cluster import RemoteSecret

    job = RemoteSecret.__new__(RemoteSecret)
    job.params, job.name, job.warnings = dict({"namespace": "istio-system"}, **(params or {})), "istio-remote-secret-c2", []
    return job


def test_a_stored_token_is_kept_only_from_the_shape_this_module_writes(tmp_path):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
    written = rs.build_kubeconfig("c2", "https://10.0.0.2:6443", base64.b64encode(pem).decode(), "stored-token")
    job = stored_job()
    assert job._stored_token(written) == "stored-token" and job.warnings == []
    assert job._stored_token(None) is None and job.warnings == []
    marker = tmp_path / "ran"
    edited = yaml.safe_load(yaml.safe_dump(written))
    edited["users"][0]["user"]["exec"] = {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh",
                                          "args": ["-c", "touch {0}".format(marker)]}
    assert job._stored_token(edited) is None and not marker.exists()
    assert job.warnings == ["secret istio-system/istio-remote-secret-c2: users[0].user.exec runs a command on this "
                            "machine: its token is not kept, the secret is rewritten."]


class FakeRemote(object):
    """The remote cluster as module_utils/k8s/cluster.py's Cluster, over dicts by (kind, namespace, name); TokenRequest
    answers a JWT whose claims say which secret it is bound to (as the API server's do). Like the real one, it writes
    only marked objects and deletes only the object it is shown, unchanged."""

    def __init__(self):
        self.objects, self.writes, self.token_requests, self.uids = {}, [], [], 0

    def put(self, kind, name, namespace=None, **meta):
        self.uids += 1
        kind_type = meta.pop("type", None)
        self.objects[(kind, namespace, name)] = {"kind": kind, "metadata": dict({"name": name, "namespace": namespace,
                                                                                 "uid": "uid-{0}".format(self.uids),
                                                                                 "resourceVersion": "1"}, **meta),
                                                 "type": kind_type}
        return self.objects[(kind, namespace, name)]

    @staticmethod
    def _key(obj):
        return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]

    def get(self, obj):
        return copy.deepcopy(self.objects.get(self._key(obj)))

    def list(self, api_version, kind, label_selector=None, field_selector=None, namespace=None):
        return [copy.deepcopy(o) for (k, ns, _n), o in sorted(self.objects.items()) if k == kind and ns == namespace]

    def create(self, obj):
        assert marked(obj), obj
        self.writes.append(("create", obj["kind"], obj["metadata"]["name"]))
        meta = obj["metadata"]
        made = self.put(obj["kind"], meta["name"], meta.get("namespace"), labels=meta["labels"],
                        annotations=meta["annotations"], type=obj.get("type"))
        return copy.deepcopy(made)

    def delete(self, live):
        assert marked(live), live
        stored = self.objects[self._key(live)]
        assert stored["metadata"]["uid"] == live["metadata"]["uid"], "deleted another object than the one checked"
        self.writes.append(("delete", live["kind"], live["metadata"]["name"]))
        del self.objects[self._key(live)]

    def request_token(self, name, namespace, spec):
        self.token_requests.append({"spec": spec})
        ref = spec.get("boundObjectRef") or {}
        sa = self.objects[("ServiceAccount", namespace, name)]["metadata"]
        token_claims = dict(claims(exp=NOW + spec["expirationSeconds"], uid=sa["uid"]))
        if ref:
            token_claims["kubernetes.io"]["secret"] = {"name": ref["name"], "uid": ref["uid"]}
        return jwt(token_claims)


def remote_job(remote, owner, check_mode=False):
    from ansible_collections.multimesh.istio.plugins.module_utils.remote_secret_cluster import RemoteSecret

    job = RemoteSecret.__new__(RemoteSecret)
    job.module = types.SimpleNamespace(check_mode=check_mode, _diff=False, warn=lambda msg: None)
    job.params = {"namespace": "istio-system", "rotate": False, "token": "bound", "renew_before": 86400 * 30,
                  "token_duration": 86400 * 365, "method": "native", "cluster_name": "c2"}
    job.check, job.owner = check_mode, owner
    job.remote = remote
    job.sa_namespace, job.sa_name, job.name, job.key = "istio-system", "istio-reader-service-account", "istio-remote-secret-c2", "c2"
    job.changes, job.warnings, job.kept, job.revocation = [], [], [], None
    return job


def test_the_issued_token_is_bound_to_this_inventorys_secret_and_revoked_on_removal(monkeypatch):
    """Issue point 18: istioctl's install made the reader account, so cleanup cannot delete it; the token this
    inventory issued is bound to a secret of its own, and deleting that secret revokes it."""
    from ansible_collections.multimesh.istio.plugins.module_utils import remote_secret_cluster as rsc

    monkeypatch.setattr(rsc.time, "time", lambda: NOW)
    remote = FakeRemote()
    sa = remote.put("ServiceAccount", "istio-reader-service-account", "istio-system")  # istioctl's, unmarked
    job = remote_job(remote, "team-a")
    token = job._token(copy.deepcopy(sa), None)
    (request,) = remote.token_requests
    anchor = remote.objects[("Secret", "istio-system", job.token_secret_name())]
    assert request["spec"]["boundObjectRef"] == {"apiVersion": "v1", "kind": "Secret", "name": job.token_secret_name(),
                                                 "uid": anchor["metadata"]["uid"]}
    assert anchor["metadata"]["labels"]["multimesh.istio/owner"] == "team-a"
    assert anchor["metadata"]["annotations"]["multimesh.istio/token-for"] == "istio-reader-service-account"
    # Idempotent: a second run keeps the token, issues none and writes nothing.
    writes = list(remote.writes)
    assert remote_job(remote, "team-a")._token(copy.deepcopy(sa), token) == token
    assert len(remote.token_requests) == 1 and remote.writes == writes
    # A token stored before this change (bound to no secret) cannot be revoked: it is replaced.
    old = jwt(claims(uid=sa["metadata"]["uid"]))
    again = remote_job(remote, "team-a")
    assert again._token(copy.deepcopy(sa), old) != old and len(remote.token_requests) == 2
    assert "cleanup could not revoke it" in again.changes[0]

    # Check mode: says it would revoke, writes nothing.
    writes = list(remote.writes)
    preview = remote_job(remote, "team-a", check_mode=True)
    preview._revoke_and_remove()
    assert remote.writes == writes and preview.revocation.startswith("token would be revoked")

    gone = remote_job(remote, "team-a")
    assert gone._revoke_and_remove() is False
    assert ("delete", "Secret", job.token_secret_name()) in remote.writes
    assert ("Secret", "istio-system", job.token_secret_name()) not in remote.objects
    assert ("ServiceAccount", "istio-system", "istio-reader-service-account") in remote.objects
    assert gone.revocation == (
        "token revoked (token secret istio-system/{0} deleted); account istio-system/istio-reader-service-account "
        "kept: not created by this module for this inventory".format(job.token_secret_name()))


def test_an_account_another_inventory_issued_a_token_for_is_kept(monkeypatch):
    from ansible_collections.multimesh.istio.plugins.module_utils import remote_secret_cluster as rsc

    monkeypatch.setattr(rsc.time, "time", lambda: NOW)
    remote = FakeRemote()
    labels, notes = rs.marks("team-a")
    sa = remote.put("ServiceAccount", "istio-reader-service-account", "istio-system", labels=labels, annotations=notes)
    for owner in ("team-a", "team-b"):
        remote_job(remote, owner)._token(copy.deepcopy(sa), None)
    a = remote_job(remote, "team-a")
    assert a._revoke_and_remove() is False
    assert ("ServiceAccount", "istio-system", "istio-reader-service-account") in remote.objects
    assert ("Secret", "istio-system", a.token_secret_name()) not in remote.objects
    b_secret = remote_job(remote, "team-b").token_secret_name()
    assert a.revocation == ("token revoked (token secret istio-system/{0} deleted); account "
                            "istio-system/istio-reader-service-account kept: used by inventory 'team-b' (secret "
                            "istio-system/{1})".format(a.token_secret_name(), b_secret))
    # team-b's token is revoked too; the account is team-a's, so team-b does not delete it.
    b = remote_job(remote, "team-b")
    assert b._revoke_and_remove() is False and ("Secret", "istio-system", b_secret) not in remote.objects
    assert b.revocation.endswith("kept: not created by this module for this inventory")
    assert ("ServiceAccount", "istio-system", "istio-reader-service-account") in remote.objects
