"""verification_report reads registered results as Ansible leaves them (connectivity probes, failed_when: false)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest.mock import MagicMock

from ansible_collections.multimesh.istio.plugins.action.verification_report import ActionModule, _mapping, _probes
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

MODEL = build_model(meshes=[{"name": "m1", "namespace": "ns-1", "members": ["a1"], "samples": ["curl", "httpbin"]},
                            {"name": "m2", "namespace": "ns-2", "members": ["a2"], "samples": ["curl", "httpbin"]}])
PAIR = {"client_namespace": "a1", "server_namespace": "a2", "url": "http://httpbin.a2.svc.cluster.local:8000/get",
        "expect": "deny", "client": "curl"}


def test_probes_as_the_connectivity_module_returns_them():
    denied = dict(PAIR, rc=0, http_code="503", elapsed=0.02, pod="curl-1")
    unresolved = dict(PAIR, server_namespace="a1", expect="allow", rc=6, http_code="000", elapsed=0.01, pod="curl-1")
    no_pod = dict(PAIR, client_namespace="a2", rc=None, http_code=None, elapsed=0, pod=None,
                  error="no running curl pod in namespace a2")
    checks = _probes([denied, unresolved, no_pod])
    assert [(c["name"], c["status"], c["observed"]) for c in checks] == [
        ("connectivity a1 -> a2", "pass", "HTTP 503"), ("connectivity a1 -> a1", "fail", "curl exit 6 (could not resolve the host)"),
        ("connectivity a2 -> a2", "fail", "not probed")]
    assert checks[2]["reason"] == "inconclusive: no running curl pod in namespace a2"


def test_proxy_status_failures_fail_and_missing_istioctl_skips():
    ok = {"item": MODEL["meshes"][0], "proxies": [], "changed": False}
    error = {"item": MODEL["meshes"][1], "failed": False, "msg": "istioctl proxy-status failed (rc=1): Error: port forward"}
    checks = _mapping(MODEL, [ok, error], [])
    assert [(c["name"], c["status"]) for c in checks] == [("control-plane mapping m2", "fail"), ("control-plane mapping m1", "pass")]
    missing = {"item": MODEL["meshes"][0], "msg": "istioctl was not found on PATH. Fix: install istioctl or set istioctl_path."}
    assert {c["status"] for c in _mapping(MODEL, [missing, dict(missing, item=MODEL["meshes"][1])], [])} == {"skipped"}
    assert {c["reason"] for c in _mapping(MODEL, [], [])} == {"istioctl was not asked (verify_proxy_status is false)"}


def judge(report_dir, check_mode=False):
    task = MagicMock()
    task.async_val = 0
    task.check_mode = check_mode
    task.args = {"model": MODEL, "probes": [dict(PAIR, rc=0, http_code="200", elapsed=0.01, pod="curl-1")],
                 "report_dir": str(report_dir)}
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def test_action_writes_reports_and_fails_on_a_failed_check(tmp_path):
    result = judge(tmp_path)
    assert result["failed"] is True
    assert "FAILED connectivity a1 -> a2: expected denied by the mesh (HTTP 503, or reset after connecting: curl exit 52/56), observed HTTP 200 " \
           "(a request across meshes was answered)" in result["details"]
    # The message is one line, printed twice by Ansible on a failure; the reasons are in details, once.
    assert "; failed: " in result["msg"] and "connectivity a1 -> a2" in result["msg"] and "\n" not in result["msg"]
    assert "HTTP 200" not in result["msg"], result["msg"]
    with open(str(tmp_path / "report.json")) as handle:
        assert "connectivity a1 -> a2" in json.load(handle)["failed"]
    assert (tmp_path / "junit.xml").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert result["files"] == [str(tmp_path / "report.json"), str(tmp_path / "junit.xml")]
    assert result["would_write"] == []


def test_check_mode_writes_nothing_and_names_what_it_would_write(tmp_path):
    """Tenant issue point 17: check mode changes nothing, on the controller either (not even the directory)."""
    report_dir = tmp_path / "reports"
    result = judge(report_dir, check_mode=True)
    assert not report_dir.exists()
    # The verdict stands: the checks are judged all the same.
    assert result["failed"] is True and "connectivity a1 -> a2" in result["report"]["failed"]
    wanted = [str(report_dir / "report.json"), str(report_dir / "junit.xml")]
    assert result["would_write"] == wanted and result["files"] == []
    assert result["details"][0].endswith(" - check mode: nothing written; a run would write {0} and {1}".format(*wanted))
    # An existing report from an earlier run is left as it is.
    report_dir.mkdir()
    (report_dir / "report.json").write_text("earlier")
    judge(report_dir, check_mode=True)
    assert (report_dir / "report.json").read_text() == "earlier" and not (report_dir / "junit.xml").exists()


def test_report_paths_are_given_as_the_published_artifacts_give_them(tmp_path):
    """One rule for both (roles/verify/tasks/publish.yml: expanduser | realpath): a directory through a symbolic link
    is named by its real path."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = judge(tmp_path / "link" / ".." / "link")
    assert result["files"] == [str(tmp_path / "real" / "report.json"), str(tmp_path / "real" / "junit.xml")]
