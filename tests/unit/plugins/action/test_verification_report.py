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


def test_action_writes_reports_and_fails_on_a_failed_check(tmp_path):
    task = MagicMock()
    task.async_val = 0
    task.args = {"model": MODEL, "probes": [dict(PAIR, rc=0, http_code="200", elapsed=0.01, pod="curl-1")],
                 "report_dir": str(tmp_path)}
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    result = action.run(task_vars={})
    assert result["failed"] is True
    assert "FAILED connectivity a1 -> a2: expected denied by the mesh (HTTP 503, or reset after connecting: curl exit 52/56), observed HTTP 200 " \
           "(a request across meshes was answered)" in result["msg"]
    with open(str(tmp_path / "report.json")) as handle:
        assert "connectivity a1 -> a2" in json.load(handle)["failed"]
    assert (tmp_path / "junit.xml").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
