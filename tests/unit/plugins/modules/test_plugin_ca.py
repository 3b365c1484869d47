"""plugin_ca keeps material in ca_dir: created once with private modes, reused after, check mode writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest
from module_runner import run_module

from ansible_collections.multimesh.istio.plugins.modules.plugin_ca import main


def args(ca_dir, **extra):
    return dict(dict(name="cluster-1", namespace="istio-system", ca_dir=str(ca_dir), install_secret=False, key_size=2048), **extra)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_check_mode_writes_nothing(tmp_path):
    result, failed = run_module(main, args(tmp_path / "ca"), check_mode=True)
    assert not failed and result["changed"] is True
    assert result["changes"] == ["create root CA in " + str(tmp_path / "ca")]
    assert not (tmp_path / "ca").exists()


def test_created_once_then_reused(tmp_path):
    first, failed = run_module(main, args(tmp_path / "ca"))
    assert not failed, first
    assert first["changes"] == ["create root CA in " + str(tmp_path / "ca"), "issue intermediate CA for cluster-1"]
    assert mode(tmp_path / "ca") == 0o700 and mode(tmp_path / "ca" / "root-key.pem") == 0o600
    assert mode(first["files"]["ca-key.pem"]) == 0o600
    before = {name: open(path, "rb").read() for name, path in first["files"].items()}
    second, failed = run_module(main, args(tmp_path / "ca"))
    assert not failed and second["changed"] is False and second["changes"] == []
    assert {name: open(path, "rb").read() for name, path in second["files"].items()} == before
    assert second["root_fingerprint"] == first["root_fingerprint"]
    other, failed = run_module(main, args(tmp_path / "ca", name="cluster-2"))
    assert not failed and other["changes"] == ["issue intermediate CA for cluster-2"]
    assert other["root_fingerprint"] == first["root_fingerprint"], "clusters of one ca_dir share the root"


def test_half_a_root_is_refused(tmp_path):
    run_module(main, args(tmp_path / "ca"))
    os.remove(str(tmp_path / "ca" / "root-key.pem"))
    result, failed = run_module(main, args(tmp_path / "ca", name="cluster-3"))
    assert failed and result["msg"].startswith("ca_dir: {0} holds only half of the root CA".format(tmp_path / "ca"))
    assert not (tmp_path / "ca" / "cluster-3" / "ca-cert.pem").exists()


def test_intermediate_from_another_root_is_refused(tmp_path):
    run_module(main, args(tmp_path / "a"))
    run_module(main, args(tmp_path / "b"))
    os.rename(str(tmp_path / "b" / "cluster-1"), str(tmp_path / "a" / "cluster-9"))
    result, failed = run_module(main, args(tmp_path / "a", name="cluster-9"))
    assert failed and "was issued by another root" in result["msg"]


def test_unsafe_names_sizes_and_directories_are_refused_before_anything_is_written(tmp_path):
    """Issue 13 point 8."""
    for extra, message in ((dict(name="../x"), "name: '../x' is not a DNS-1123 label"),
                           (dict(key_size=1024), "key_size: 1024 bits is too small")):
        result, failed = run_module(main, args(tmp_path / "ca", **extra))
        assert failed and result["msg"].startswith(message) and "Fix: " in result["msg"], result
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(str(open_dir), 0o777)
    result, failed = run_module(main, args(open_dir))
    assert failed and "may be written by others (mode 777)" in result["msg"]
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / "link"))
    result, failed = run_module(main, args(tmp_path / "link"))
    assert failed and "is a symbolic link" in result["msg"]
    assert not (tmp_path / "ca").exists() and os.listdir(str(open_dir)) == [] and not (tmp_path / "elsewhere").exists()


def test_files_are_replaced_atomically_never_written_through_a_symlink(tmp_path):
    run_module(main, args(tmp_path / "ca"))
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "ca" / "cluster-2").mkdir(mode=0o700)
    os.symlink(str(victim), str(tmp_path / "ca" / "cluster-2" / "ca-key.pem"))
    result, failed = run_module(main, args(tmp_path / "ca", name="cluster-2"))
    assert not failed, result
    assert victim.read_text() == "precious"
    key = tmp_path / "ca" / "cluster-2" / "ca-key.pem"
    assert not os.path.islink(str(key)) and mode(key) == 0o600
    files = sorted(os.listdir(str(tmp_path / "ca" / "cluster-2")))
    assert files == ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]


def test_absent_generates_nothing(tmp_path):
    result, failed = run_module(main, args(tmp_path / "ca", state="absent"))
    assert not failed and result["changed"] is False
    assert not (tmp_path / "ca").exists()


def test_an_unreachable_api_server_fails_with_a_message_not_a_traceback(tmp_path):
    """Issue 13 point 12."""
    result, failed = run_module(main, args(tmp_path / "ca", install_secret=True, host="https://127.0.0.1:9",
                                           api_key="not-a-real-token", validate_certs=False))
    assert failed, result
    assert result["msg"].startswith("cluster access: cannot reach the API server of https://127.0.0.1:9: ")
    assert "Fix: check that it runs and that the kubeconfig/context (or host) name the right cluster" in result["msg"]
    assert "not-a-real-token" not in result["msg"]
    assert "exception" not in result or "Traceback" not in str(result.get("exception"))


def test_every_file_is_private_and_so_is_every_directory_made_for_it(tmp_path):
    """Issue point 19: a run from playbooks/ left multimesh-ca/<mesh>/root-key.pem under a world-readable directory."""
    ca_dir = tmp_path / "multimesh-ca" / "mesh-1"
    result, failed = run_module(main, args(ca_dir))
    assert not failed, result
    assert mode(tmp_path / "multimesh-ca") == 0o700 and mode(ca_dir) == 0o700 and mode(ca_dir / "cluster-1") == 0o700
    for path in [ca_dir / "root-key.pem", ca_dir / "root-cert.pem"] + list(result["files"].values()):
        assert mode(path) == 0o600, path


class FakeCluster(object):
    """module_utils/k8s/cluster.py's Cluster on one cacerts secret (or none) and its namespace (there, or not)."""

    def __init__(self, live=None, conflict=False):
        self.live, self.conflict, self.created, self.deleted, self.namespace = live, conflict, [], [], True

    def get(self, obj):
        return self.namespace or None if obj["kind"] == "Namespace" else self.live

    def create(self, obj):
        self.created.append(obj)

    def delete(self, live):
        from kubernetes.client.rest import ApiException

        if self.conflict:
            raise ApiException(status=409, reason="Conflict")
        self.deleted.append(live)


def cacerts(labels):
    return {"apiVersion": "v1", "kind": "Secret", "data": {"ca-cert.pem": "eA=="},
            "metadata": {"name": "cacerts", "namespace": "istio-system", "labels": labels, "uid": "u-1",
                         "resourceVersion": "42"}}


@pytest.fixture
def core(monkeypatch):
    from ansible_collections.multimesh.istio.plugins.modules import plugin_ca

    fake = FakeCluster()
    monkeypatch.setattr(plugin_ca, "connect_module", lambda module: fake)
    return fake


MANAGED = {"app.kubernetes.io/managed-by": "multimesh.istio"}


def test_the_secret_carries_the_owner_and_absent_removes_only_one_with_both_marks(tmp_path, core):
    """Issue point 6: with nothing in ca_dir, a cacerts with only the collection's mark (another inventory's, or made
    by hand to look like it) was deleted."""
    result, failed = run_module(main, args(tmp_path / "ca", install_secret=True, owner="team-a"))
    assert not failed, result
    assert core.created[0]["metadata"]["labels"] == dict(MANAGED, **{"multimesh.istio/owner": "team-a"})
    for labels in (MANAGED, dict(MANAGED, **{"multimesh.istio/owner": "team-b"})):
        core.live = cacerts(labels)
        result, failed = run_module(main, args(tmp_path / "empty", install_secret=True, owner="team-a", state="absent"))
        assert not failed and result["changed"] is False and core.deleted == [], (labels, result)
    core.live = cacerts(dict(MANAGED, **{"multimesh.istio/owner": "team-a"}))
    result, failed = run_module(main, args(tmp_path / "empty", install_secret=True, owner="team-a", state="absent"))
    assert not failed and result["changes"] == ["delete secret istio-system/cacerts"]
    # Issue point 7: only the secret that was checked, not one replaced or changed since.
    # The layer's delete sends the uid and resourceVersion of the object it is given (test_k8s_cluster).
    assert core.deleted == [cacerts(dict(MANAGED, **{"multimesh.istio/owner": "team-a"}))]


def test_a_secret_changed_after_the_check_is_kept_and_the_task_says_so(tmp_path, core):
    core.live, core.conflict = cacerts(dict(MANAGED, **{"multimesh.istio/owner": "team-a"})), True
    result, failed = run_module(main, args(tmp_path / "empty", install_secret=True, owner="team-a", state="absent"))
    assert failed and result["msg"] == ("istio-system/cacerts changed after its labels and material were checked, so it "
                                        "was not deleted. Fix: run again.")


def test_a_missing_control_plane_namespace_is_created_with_the_marks_before_the_secret(tmp_path, core):
    """istiod finds cacerts only if it is there when it starts, before the stage that applies the namespace."""
    core.namespace = False
    result, failed = run_module(main, args(tmp_path / "ca", install_secret=True, owner="team-a"))
    assert not failed, result
    assert result["changes"][-2:] == ["create namespace istio-system", "create secret istio-system/cacerts"]
    namespace, secret = core.created
    assert namespace == {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "istio-system", "labels": dict(MANAGED, **{"multimesh.istio/owner": "team-a"})}}
    assert secret["kind"] == "Secret" and secret["metadata"]["namespace"] == "istio-system"
    # Check mode says so and writes nothing; an existing namespace is left as it is.
    core.created = []
    result, failed = run_module(main, args(tmp_path / "ca", install_secret=True, owner="team-a"), check_mode=True)
    assert not failed and result["changes"] == ["create namespace istio-system", "create secret istio-system/cacerts"]
    assert core.created == []
    core.namespace = True
    result, failed = run_module(main, args(tmp_path / "ca", install_secret=True, owner="team-a"))
    assert not failed and [o["kind"] for o in core.created] == ["Secret"], result
