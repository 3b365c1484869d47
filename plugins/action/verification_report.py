# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Evaluate every verification check from the cluster state the verify role read, write report.json and junit.xml
on the controller, and fail when a check failed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.module_utils.action_args import verification_report_argspec
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_checks as judges
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_report as reporting
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_probes import evaluate_probe, evaluate_spread

# Only istioctl missing from PATH skips the mapping; a configured istioctl_path that does not run is a failure.
_NO_ISTIOCTL = ("istioctl was not found",)


def _mapping(model, proxy_results, pods, peer_pods=None):
    """proxy_results: registered istioctl_proxy_status runs, one per mesh (item = the mesh)."""
    by_mesh, reason, checks = {}, None, []
    for result in proxy_results or []:
        mesh = result.get("item") or {}
        # Registered with failed_when: false, so a failed run is one without proxies.
        if result.get("failed") or "proxies" not in result:
            msg = result.get("msg") or "istioctl proxy-status failed"
            if msg.startswith(_NO_ISTIOCTL):
                reason = msg
                continue
            checks.append(reporting.check("control-plane mapping " + mesh.get("name", "?"), "mapping", "proxy-status answers",
                                          "error", reporting.FAIL, {"msg": msg, "stderr": result.get("stderr")}, msg))
            continue
        by_mesh[mesh.get("name")] = result.get("proxies") or []
    if not proxy_results:
        reason = "istioctl was not asked (verify_proxy_status is false)"
    failed = set(c["name"] for c in checks)
    mapped = [c for c in judges.check_mapping(model, by_mesh, pods, reason, peer_pods) if c["name"] not in failed]
    return checks + mapped


def _probes(probes, peer_pods=None):
    """probes: what multimesh.istio.connectivity returned, one entry per pair; a spread probe (across clusters) is
    judged against the pods the other clusters' hosts read (peer_pods)."""
    checks = []
    for probe in probes or []:
        checks += evaluate_spread(probe, peer_pods) if probe.get("expect") == "spread" else [evaluate_probe(probe)]
    return checks


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=verification_report_argspec())
        model = args["model"]
        pods = args.get("pods") or []
        checks = (judges.check_control_planes(model, args.get("deployments") or [], args.get("mutating") or [], args.get("validating") or [])
                  + judges.check_pods(model, pods) + _mapping(model, args.get("proxy_status"), pods, args.get("peer_pods"))
                  + judges.check_roots(model, args.get("root_configmaps") or [])
                  + judges.check_discovery(model, args.get("registries"), args.get("services") or []) + _probes(args.get("probes"), args.get("peer_pods"))
                  + judges.check_remote_access(model, args.get("remote_access"))
                  + judges.check_sidecar_scope(model, args.get("sidecars"), args.get("registries"))
                  + judges.check_ingress_gateways(model, args.get("gateway_deployments"), args.get("gateways"),
                                                  args.get("registries")))
        report = reporting.report(checks)
        report_dir = args.get("report_dir")
        files = []
        if report_dir:
            report_dir = os.path.realpath(os.path.expanduser(report_dir))
            files = [os.path.join(report_dir, name) for name in ("report.json", "junit.xml")]
        # Check mode changes nothing, on the controller either: it only says what a real run would write.
        check_mode = bool(self._task.check_mode)
        if files and not check_mode:
            if not os.path.isdir(report_dir):
                os.makedirs(report_dir)
            with open(files[0], "w") as handle:
                json.dump(report, handle, indent=2, sort_keys=True)
            with open(files[1], "w") as handle:
                handle.write(reporting.junit(report, "multimesh.istio verification of cluster " + model["cluster"]["name"]))
        matrix = reporting.matrix(report)
        counts = report["counts"]
        where = ""
        if files:
            where = (" - check mode: nothing written; a run would write " + " and ".join(files) if check_mode
                     else " - report in " + report_dir)
        lines = ["{0} passed, {1} failed, {2} skipped{3}".format(counts[reporting.PASS], counts[reporting.FAIL], counts[reporting.SKIPPED], where)]
        for item in checks:
            if item["status"] == reporting.FAIL:
                why = " ({0})".format(item["reason"]) if item.get("reason") else ""
                lines.append("FAILED {0}: expected {1}, observed {2}{3}".format(item["name"], item["expected"], item["observed"], why))
        lines += ["SKIPPED {0}: {1}".format(s["name"], s["reason"]) for s in report["skipped"]]
        lines += ["connectivity from cluster {0} (rows: client namespace, columns: httpbin namespace):".format(
            model["cluster"]["name"])] + matrix.splitlines()
        # msg is printed twice on a failure (the error's header and the result), so it stays one line: the counts
        # and the failed checks' names; every line (each failure's reason, skips, the matrix) is in details, once.
        summary = lines[0] + ("" if report["passed"] else "; failed: " + ", ".join(report["failed"]))
        result.update(changed=False, report=report, matrix=matrix, msg=summary, details=lines, failed=not report["passed"],
                      files=[] if check_mode else files, would_write=files if check_mode else [])
        return result
