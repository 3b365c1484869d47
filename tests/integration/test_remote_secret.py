"""remote_secret wiring two real API servers: the stored kubeconfig reads the remote cluster and cannot write to it;
idempotence, check mode, rotation, the istioctl method, and removal of only what the module created."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, api_client, fresh_cluster, harness, wait_for

NAMESPACE = "istio-system"


@pytest.fixture(scope="module")
def clusters():
    with fresh_cluster("it-c4", 1300) as primary, fresh_cluster("it-c5", 1400) as remote:
        for cluster in (primary, remote):
            api(cluster.kubeconfig)[0].create_namespace({"metadata": {"name": NAMESPACE}})
        yield primary, remote


def api(kubeconfig):
    from kubernetes import client

    admin = api_client(kubeconfig)
    return client.CoreV1Api(admin), client.RbacAuthorizationV1Api(admin)


def remote_secret(clusters, *flags, **args):
    """One ad-hoc run of remote_secret; returns the module's result."""
    primary, remote = clusters
    params = dict(kubeconfig=primary.kubeconfig, remote_kubeconfig=remote.kubeconfig, cluster_name="it-remote",
                  namespace=NAMESPACE, server=remote.server, create_service_account=True)
    params.update(args)
    return adhoc("multimesh.istio.remote_secret", params, *flags)


def adhoc(module, params, *flags):
    params = {k: v for k, v in params.items() if v is not None}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, "-m", module,
               "-a", json.dumps(params)] + list(flags)
    proc = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300, check=False)
    # The default callback prints "localhost | CHANGED => {json}" (after the diff, with --diff).
    marker = proc.stdout.rfind("localhost | ")
    try:
        result = json.loads(proc.stdout[proc.stdout.index("=>", marker) + 2:])
        result["_printed"] = proc.stdout
        result["failed"] = proc.stdout[marker:].startswith("localhost | FAILED")
        return result
    except ValueError:
        raise AssertionError("no JSON result from ansible:\n" + proc.stdout + proc.stderr)


def stored(primary, name="istio-remote-secret-it-remote"):
    secret = api(primary.kubeconfig)[0].read_namespaced_secret(name, NAMESPACE)
    return secret


def kubeconfig_of(secret, key):
    return yaml.safe_load(base64.b64decode(secret.data[key]).decode("utf-8"))


@pytest.fixture(scope="module")
def created(clusters):
    result = remote_secret(clusters)
    assert not result.get("failed"), result
    return result


def test_secret_has_the_shape_istioctl_gives_it(created, clusters):
    primary, remote = clusters
    assert created["changed"] is True
    secret = stored(primary)
    # istioctl's label and annotation, and the marks that say who made it.
    assert secret.metadata.labels == {"istio/multiCluster": "true", "app.kubernetes.io/managed-by": "multimesh.istio"}
    assert secret.metadata.annotations == {"networking.istio.io/cluster": "it-remote", "multimesh.istio/created-by": "remote_secret"}
    assert list(secret.data) == ["it-remote"]
    kubeconfig = kubeconfig_of(secret, "it-remote")
    assert kubeconfig["current-context"] == "it-remote"
    assert [c["name"] for c in kubeconfig["clusters"]] == [c["name"] for c in kubeconfig["contexts"]] == \
        [u["name"] for u in kubeconfig["users"]] == ["it-remote"]
    assert kubeconfig["clusters"][0]["cluster"]["server"] == remote.server
    assert "<redacted>" in json.dumps(created["secret"]) and kubeconfig["users"][0]["user"]["token"] not in json.dumps(created)


def test_token_reads_but_cannot_write(created, clusters, tmp_path):
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    primary, _remote = clusters
    path = tmp_path / "remote.kubeconfig"
    path.write_text(base64.b64decode(stored(primary).data["it-remote"]).decode("utf-8"))
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)
    core = client.CoreV1Api(client.ApiClient(configuration))
    assert NAMESPACE in [n.metadata.name for n in core.list_namespace().items]
    core.list_pod_for_all_namespaces()
    core.list_secret_for_all_namespaces()
    for write in (lambda: core.create_namespace({"metadata": {"name": "written-by-istiod"}}),
                  lambda: core.create_namespaced_config_map(NAMESPACE, {"metadata": {"name": "x"}}),
                  lambda: core.delete_namespace(NAMESPACE)):
        with pytest.raises(ApiException) as refused:
            write()
        assert refused.value.status == 403


def test_second_run_keeps_the_token(created, clusters):
    primary, _remote = clusters
    before = stored(primary).metadata.resource_version
    again = remote_secret(clusters)
    assert not again.get("failed") and again["changed"] is False, again
    assert stored(primary).metadata.resource_version == before


def test_check_mode_rotation_writes_nothing(created, clusters):
    primary, remote = clusters
    before = stored(primary)
    preview = remote_secret(clusters, "--check", "--diff", rotate=True)
    assert preview["changed"] is True and any("rotation asked" in line for line in preview["changes"])
    assert "token: <redacted>" in preview["_printed"] and "token: ey" not in preview["_printed"]
    assert stored(primary).metadata.resource_version == before.metadata.resource_version


def test_rotation_replaces_the_token(created, clusters):
    primary, _remote = clusters
    old = kubeconfig_of(stored(primary), "it-remote")["users"][0]["user"]["token"]
    rotated = remote_secret(clusters, rotate=True)
    assert rotated["changed"] is True, rotated
    new = kubeconfig_of(stored(primary), "it-remote")["users"][0]["user"]["token"]
    assert new != old and rotated["token_expires"] > 0


def test_istioctl_method_stores_the_same_shape(created, clusters):
    primary, _remote = clusters
    istioctl = os.path.join(harness.build(), "istioctl")
    args = dict(method="istioctl", token="legacy", cluster_name="it-remote-ctl", create_service_account=None, istioctl_path=istioctl)
    first = remote_secret(clusters, **args)
    assert not first.get("failed") and first["changed"] is True, first
    secret = stored(primary, "istio-remote-secret-it-remote-ctl")
    assert secret.metadata.annotations == {"networking.istio.io/cluster": "it-remote-ctl", "multimesh.istio/created-by": "remote_secret"}
    assert kubeconfig_of(secret, "it-remote-ctl")["users"][0]["name"] == "it-remote-ctl"
    again = remote_secret(clusters, **args)
    assert again["changed"] is False, again
    check = remote_secret(clusters, "--check", **args)
    assert check["changed"] is False, check


def test_absent_removes_the_secret_and_only_what_it_created(created, clusters):
    primary, remote = clusters
    gone = remote_secret(clusters, state="absent")
    assert gone["changed"] is True, gone
    core, rbac = api(remote.kubeconfig)
    # This inventory's token is revoked; the account it made stays while the istioctl-made secret of
    # test_istioctl_method_stores_the_same_shape (its legacy token secret, no marks) still reads with it.
    assert gone["revocation"].startswith("token revoked (token secret istio-system/istio-reader-service-account-token-"), gone
    assert ("account istio-system/istio-reader-service-account kept: used by another token (secret "
            "istio-system/istio-reader-service-account-istio-remote-secret-token)") in gone["revocation"], gone
    assert "istio-reader-service-account" in [s.metadata.name for s in core.list_namespaced_service_account(NAMESPACE).items]
    assert not [s.metadata.name for s in core.list_namespaced_secret(NAMESPACE).items
                if s.metadata.name.startswith("istio-reader-service-account-token-")]
    names = [s.metadata.name for s in api(primary.kubeconfig)[0].list_namespaced_secret(NAMESPACE).items]
    assert "istio-remote-secret-it-remote" not in names and "istio-remote-secret-it-remote-ctl" in names
    again = remote_secret(clusters, state="absent")
    assert again["changed"] is False, again


def test_missing_service_account_fails_before_any_change(clusters):
    primary, _remote = clusters
    failed = remote_secret(clusters, cluster_name="it-nosa", service_account="nobody", create_service_account=False)
    assert failed["failed"] is True, failed["_printed"]
    assert failed["msg"] == ("remote cluster: service account istio-system/nobody does not exist. Fix: install Istio there "
                             "(it creates it), or set create_service_account: true.")
    assert "istio-remote-secret-it-nosa" not in [s.metadata.name for s in api(primary.kubeconfig)[0].list_namespaced_secret(NAMESPACE).items]
    waited = remote_secret(clusters, cluster_name="it-nosa", service_account="nobody", create_service_account=False,
                           service_account_timeout=4)
    assert waited["failed"] is True and "does not exist (waited 4s for it)" in waited["msg"], waited["_printed"]


def test_unreachable_remote_names_the_cluster(clusters):
    failed = remote_secret(clusters, cluster_name="it-down", remote_kubeconfig=None, remote_host="https://127.0.0.1:9",
                           remote_validate_certs=False)
    assert failed["failed"] is True
    assert failed["msg"].startswith("remote cluster: cannot read service accounts: the API server is unreachable")


def test_plugin_ca_gives_both_clusters_one_root(clusters, tmp_path_factory):
    ca_dir = str(tmp_path_factory.mktemp("ca") / "mesh-1")
    results = {}
    for cluster, name in zip(clusters, ("primary", "remote")):
        params = dict(kubeconfig=cluster.kubeconfig, ca_dir=ca_dir, name=name, namespace=NAMESPACE, key_size=2048)
        first = adhoc("multimesh.istio.plugin_ca", params)
        assert not first["failed"] and first["changed"] is True, first["_printed"]
        again = adhoc("multimesh.istio.plugin_ca", params)
        assert again["changed"] is False, again["_printed"]
        secret = api(cluster.kubeconfig)[0].read_namespaced_secret("cacerts", NAMESPACE)
        assert sorted(secret.data) == ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]
        results[name] = (first["root_fingerprint"], base64.b64decode(secret.data["root-cert.pem"]))
    assert results["primary"] == results["remote"]
    other = adhoc("multimesh.istio.plugin_ca", dict(kubeconfig=clusters[0].kubeconfig, ca_dir=ca_dir + "-other", name="primary",
                                                    namespace=NAMESPACE, key_size=2048))
    assert other["failed"] is True
    assert other["msg"].startswith("istio-system/cacerts holds other CA material than ")


def test_no_credential_of_a_stored_kubeconfig_reaches_verbose_diff_output(clusters):
    """Issue 13 point 5: -vvv --diff shows the stored secret before the change, with every credential masked."""
    primary = clusters[0]
    leaky = {"apiVersion": "v1", "kind": "Config", "current-context": "c", "clusters": [{"name": "it-leak", "cluster": {
        "server": "https://10.0.0.9:6443"}}], "contexts": [{"name": "c", "context": {"cluster": "it-leak", "user": "u"}}],
        "users": [{"name": "u", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "TEAKEY-secret",
                                         "password": "PASS-secret", "exec": {"command": "x", "env": [
                                             {"name": "API_KEY", "value": "ENV-secret"}]}}}]}
    # One this module wrote (its marks), edited by hand since.
    api(primary.kubeconfig)[0].create_namespaced_secret(NAMESPACE, {
        "metadata": {"name": "istio-remote-secret-it-leak", "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "it-leak", "multimesh.istio/created-by": "remote_secret"}},
        "stringData": {"it-leak": yaml.safe_dump(leaky)}})
    try:
        result = remote_secret(clusters, "--diff", "-vvv", cluster_name="it-leak")
        assert not result["failed"], result["_printed"][-3000:]
        printed = result["_printed"]
        assert "istio-remote-secret-it-leak" in printed, printed[-3000:]
        for value in ("TEAKEY-secret", "PASS-secret", "ENV-secret"):
            assert value not in printed, value
    finally:
        remote_secret(clusters, cluster_name="it-leak", state="absent")
        core = api(primary.kubeconfig)[0]
        if [s for s in core.list_namespaced_secret(NAMESPACE).items if s.metadata.name == "istio-remote-secret-it-leak"]:
            core.delete_namespaced_secret("istio-remote-secret-it-leak", NAMESPACE)


def names(kubeconfig, what):
    core, rbac = api(kubeconfig)
    listed = {"secrets": lambda: core.list_namespaced_secret(NAMESPACE), "accounts": lambda: core.list_namespaced_service_account(NAMESPACE),
              "roles": rbac.list_cluster_role}[what]()
    return {item.metadata.name: item.metadata.resource_version for item in listed.items}


def test_a_secret_someone_else_made_is_neither_replaced_nor_removed(clusters):
    """A same-named secret made by hand (or istioctl): present fails before any change, absent keeps it."""
    primary, remote = clusters
    api(primary.kubeconfig)[0].create_namespaced_secret(NAMESPACE, {
        "metadata": {"name": "istio-remote-secret-it-foreign", "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "it-foreign"}},
        "stringData": {"it-foreign": "hand-made"}})
    before = names(primary.kubeconfig, "secrets"), names(remote.kubeconfig, "accounts"), names(remote.kubeconfig, "roles")
    failed = remote_secret(clusters, cluster_name="it-foreign", service_account="foreign-reader")
    assert failed["failed"] is True, failed["_printed"]
    assert failed["msg"] == (
        "control-plane cluster: secret istio-system/istio-remote-secret-it-foreign already exists and was not created by "
        "multimesh.istio (no multimesh.istio/created-by annotation). Fix: remove it if nothing uses it (kubectl -n "
        "istio-system delete secret istio-remote-secret-it-foreign), or give another secret_name.")
    kept = remote_secret(clusters, cluster_name="it-foreign", service_account="foreign-reader", state="absent")
    assert kept["changed"] is False and kept["kept"] == [
        "secret istio-system/istio-remote-secret-it-foreign on the control-plane cluster: not created by multimesh.istio "
        "(no multimesh.istio/created-by annotation)"], kept
    after = names(primary.kubeconfig, "secrets"), names(remote.kubeconfig, "accounts"), names(remote.kubeconfig, "roles")
    assert after == before  # same objects, same resourceVersions, on both clusters
    api(primary.kubeconfig)[0].delete_namespaced_secret("istio-remote-secret-it-foreign", NAMESPACE)


def test_another_inventory_keeps_what_it_created(clusters):
    """Two inventories (owners) naming the same secret: only the one that created it may change or remove it."""
    primary, remote = clusters
    args = dict(cluster_name="it-owned", service_account="owned-reader")
    made = remote_secret(clusters, owner="inv-a", **args)
    assert not made["failed"] and made["changed"] is True, made["_printed"]
    secret = stored(primary, "istio-remote-secret-it-owned")
    assert secret.metadata.labels["multimesh.istio/owner"] == "inv-a"
    account = api(remote.kubeconfig)[0].read_namespaced_service_account("owned-reader", NAMESPACE)
    assert account.metadata.labels["multimesh.istio/owner"] == "inv-a"
    before = names(primary.kubeconfig, "secrets"), names(remote.kubeconfig, "accounts"), names(remote.kubeconfig, "roles")
    other = remote_secret(clusters, owner="inv-b", **args)
    assert other["failed"] is True and "was created by inventory 'inv-a', not by this inventory (inv-b)" in other["msg"], other
    kept = remote_secret(clusters, owner="inv-b", state="absent", **args)
    assert kept["changed"] is False and len(kept["kept"]) == 1, kept
    assert "reader service account" not in kept["_printed"]  # nothing removed, nothing to warn about
    assert (names(primary.kubeconfig, "secrets"), names(remote.kubeconfig, "accounts"), names(remote.kubeconfig, "roles")) == before
    gone = remote_secret(clusters, owner="inv-a", state="absent", **args)
    assert gone["changed"] is True and gone["kept"] == [], gone
    assert "istio-remote-secret-it-owned" not in names(primary.kubeconfig, "secrets")
    assert "owned-reader" not in names(remote.kubeconfig, "accounts")


def claims(token):
    """The payload of a JWT (unverified)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))


def reviewed(kubeconfig, token):
    """What the API server makes of a bearer token (TokenReview, as its admin): (authenticated, username)."""
    from kubernetes import client

    status = client.AuthenticationV1Api(api_client(kubeconfig)).create_token_review({"spec": {"token": token}}).status
    return bool(status.authenticated), (status.user.username if status.user else None)


def bearer_client(kubeconfig_text, tmp_path, name):
    """An API client that sends the stored kubeconfig's token (Authorization: Bearer) to the remote API server."""
    from kubernetes import client, config

    path = tmp_path / (name + ".kubeconfig")
    path.write_text(kubeconfig_text)
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)
    return client.AuthenticationV1Api(client.ApiClient(configuration))


WHOAMI = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def test_absent_revokes_the_token_though_the_account_stays(clusters, tmp_path):
    """Tenant hardening point 18: the bound token is bound to a token secret of its inventory on the remote cluster;
    state=absent deletes that secret, and the API server then rejects the token - also when the reader account stays
    (here one made by hand, as istioctl's istio-reader-service-account is, read by two inventories)."""
    import hashlib

    from kubernetes.client.rest import ApiException

    primary, remote = clusters
    core = api(remote.kubeconfig)[0]
    account = "shared-reader"
    user = "system:serviceaccount:{0}:{1}".format(NAMESPACE, account)
    owners = {"inv-revoke-a": "it-revoke-a", "inv-revoke-b": "it-revoke-b"}  # owner: cluster_name
    anchor = dict((owner, "{0}-token-{1}".format(account, hashlib.sha256(owner.encode("utf-8")).hexdigest()[:10]))
                  for owner in owners)
    uid = core.create_namespaced_service_account(NAMESPACE, {"metadata": {"name": account}}).metadata.uid
    try:
        tokens, clients = {}, {}
        for owner, cluster_name in sorted(owners.items()):
            made = remote_secret(clusters, owner=owner, cluster_name=cluster_name, service_account=account,
                                 create_service_account=False)
            assert not made["failed"] and made["changed"] is True, made["_printed"]
            text = base64.b64decode(stored(primary, "istio-remote-secret-" + cluster_name).data[cluster_name]).decode("utf-8")
            tokens[owner] = yaml.safe_load(text)["users"][0]["user"]["token"]
            clients[owner] = bearer_client(text, tmp_path, cluster_name)
            # Bound to this owner's token secret on the remote cluster: that very object (name and uid).
            secret = core.read_namespaced_secret(anchor[owner], NAMESPACE)
            assert secret.metadata.labels["multimesh.istio/owner"] == owner
            assert secret.metadata.annotations["multimesh.istio/token-for"] == account
            bound = claims(tokens[owner])["kubernetes.io"]
            assert bound["secret"] == {"name": anchor[owner], "uid": secret.metadata.uid}, bound
            assert bound["serviceaccount"] == {"name": account, "uid": uid}, bound
        for owner in owners:
            assert reviewed(remote.kubeconfig, tokens[owner]) == (True, user)
            assert clients[owner].create_self_subject_review(WHOAMI).status.user_info.username == user

        gone = remote_secret(clusters, owner="inv-revoke-a", cluster_name="it-revoke-a", service_account=account,
                             create_service_account=False, state="absent")
        assert not gone["failed"] and gone["changed"] is True, gone["_printed"]
        assert gone["revocation"].startswith("token revoked"), gone
        assert gone["revocation"] == (
            # Made by hand, not by this module: kept whoever else reads with it.
            "token revoked (token secret {0}/{1} deleted); account {0}/{2} kept: not created by this module for this "
            "inventory".format(NAMESPACE, anchor["inv-revoke-a"], account)), gone
        # The API server caches a good token's authentication for some seconds.
        wait_for("the API server to reject inv-revoke-a's token", lambda: reviewed(remote.kubeconfig, tokens["inv-revoke-a"])[0] is False, 60)
        assert reviewed(remote.kubeconfig, tokens["inv-revoke-a"]) == (False, None)
        with pytest.raises(ApiException) as refused:
            clients["inv-revoke-a"].create_self_subject_review(WHOAMI)
        assert refused.value.status == 401
        # The other inventory's token, for the same account, still authenticates; the account is the same object.
        assert reviewed(remote.kubeconfig, tokens["inv-revoke-b"]) == (True, user)
        assert clients["inv-revoke-b"].create_self_subject_review(WHOAMI).status.user_info.username == user
        assert core.read_namespaced_service_account(account, NAMESPACE).metadata.uid == uid
        secrets = names(remote.kubeconfig, "secrets")
        assert anchor["inv-revoke-a"] not in secrets and anchor["inv-revoke-b"] in secrets
        assert "istio-remote-secret-it-revoke-a" not in names(primary.kubeconfig, "secrets")

        last = remote_secret(clusters, owner="inv-revoke-b", cluster_name="it-revoke-b", service_account=account,
                             create_service_account=False, state="absent")
        assert not last["failed"] and last["changed"] is True, last["_printed"]
        assert last["revocation"] == (
            "token revoked (token secret {0}/{1} deleted); account {0}/{2} kept: not created by this module for this "
            "inventory".format(NAMESPACE, anchor["inv-revoke-b"], account)), last
        wait_for("the API server to reject inv-revoke-b's token", lambda: reviewed(remote.kubeconfig, tokens["inv-revoke-b"])[0] is False, 60)
        with pytest.raises(ApiException) as refused:
            clients["inv-revoke-b"].create_self_subject_review(WHOAMI)
        assert refused.value.status == 401
        # Revoked with the account still there (the same object): the token secret made the difference.
        assert core.read_namespaced_service_account(account, NAMESPACE).metadata.uid == uid
        assert anchor["inv-revoke-b"] not in names(remote.kubeconfig, "secrets")
        assert "istio-remote-secret-it-revoke-b" not in names(primary.kubeconfig, "secrets")
        again = remote_secret(clusters, owner="inv-revoke-b", cluster_name="it-revoke-b", service_account=account,
                              create_service_account=False, state="absent")
        assert not again["failed"] and again["changed"] is False, again["_printed"]
        assert again["revocation"].startswith("no token secret of this inventory ({0}/{1}) to revoke".format(
            NAMESPACE, anchor["inv-revoke-b"])), again
    finally:
        for owner, cluster_name in owners.items():
            for kubeconfig, name in ((remote.kubeconfig, anchor[owner]), (primary.kubeconfig, "istio-remote-secret-" + cluster_name)):
                if name in names(kubeconfig, "secrets"):
                    api(kubeconfig)[0].delete_namespaced_secret(name, NAMESPACE)
        core.delete_namespaced_service_account(account, NAMESPACE)


def test_a_tenant_rewritten_secret_runs_nothing_on_the_controller_and_is_refused(clusters, tmp_path):
    """Tenant hardening point 1, on real API servers: the secret remote_secret wrote (marks and all) rewritten by the
    mesh's tenant, who can write Secrets in its namespace, to a kubeconfig whose user is an exec plugin. The
    verification's remote_access refuses it, naming the field and the fix, and runs nothing."""
    from kubernetes import config
    from kubernetes import client as kube

    primary, remote = clusters
    made = remote_secret(clusters, owner="inv-tenant", cluster_name="it-tenant")
    assert not made["failed"], made["_printed"]
    marker, proof = tmp_path / "ran-on-the-controller", tmp_path / "proof"

    def plugged(path):
        text = base64.b64decode(stored(primary, "istio-remote-secret-it-tenant").data["it-tenant"]).decode("utf-8")
        kubeconfig = yaml.safe_load(text)
        kubeconfig["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh",
                                                   "args": ["-c", "id > " + str(path)], "interactiveMode": "Never"}}
        return kubeconfig

    # The plant is live: a client loaded from it runs the command.
    config.load_kube_config_from_dict(plugged(proof), client_configuration=kube.Configuration())
    assert proof.exists()
    data = base64.b64encode(yaml.safe_dump(plugged(marker)).encode("utf-8")).decode()
    api(primary.kubeconfig)[0].patch_namespaced_secret("istio-remote-secret-it-tenant", NAMESPACE, {"data": {"it-tenant": data}})
    try:
        tried = adhoc("multimesh.istio.remote_access", {
            "kubeconfig": primary.kubeconfig, "owner": "inv-tenant",
            "readers": [{"namespace": NAMESPACE, "cluster": "it-tenant", "type": "remote"}]})
        assert not marker.exists(), "the tenant's exec plugin ran on the controller"
        assert not tried["failed"], tried["_printed"]
        entry = tried["secrets"][0]
        assert entry["exists"] is True and entry["can_read"] is False and entry["server"] is None, entry
        assert "users[0].user.exec runs a command on this machine" in entry["error"], entry
        assert "Fix: let multimesh.istio.remote_secret write the secret" in entry["error"], entry
    finally:
        remote_secret(clusters, owner="inv-tenant", cluster_name="it-tenant", state="absent")
