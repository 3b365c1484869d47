"""The verification with the Sail backend against real istiods: the Sail stand-in writes each Istio's mesh ConfigMap
and Service as the operator's chart does, and the real istiod (istiod_runner.py) does the rest - roots of trust and
discovery scope are real; the stand-in installs no injector, which the verification reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from conftest import REPO, ansible_playbook, api_client, fresh_cluster, install_crds, read_report, wait_for


def test_sail_backend_real_istiods_distribute_roots_and_discover_only_their_mesh(tmp_path):
    with fresh_cluster("it-c7", 1600, sail_standin=True, istiods=True) as cluster:
        install_crds(cluster)
        inventory = os.path.join(REPO, "tests", "render", "inventories", "two-mesh.yml")
        site = ansible_playbook(cluster.kubeconfig, os.path.join(REPO, "playbooks", "site.yml"), "-i", inventory,
                                "-e", json.dumps({"multimesh_verify": False, "samples_require_sidecar": False}))
        assert site.rc == 0, site.out
        from kubernetes import client

        core = client.CoreV1Api(api_client(cluster.kubeconfig))
        wait_for("mesh-2's istiod to write its root into app-ns-3", lambda: any(
            c.metadata.name == "istio-ca-root-cert" for c in core.list_namespaced_config_map("app-ns-3").items), 60)
        run = ansible_playbook(cluster.kubeconfig, os.path.join(REPO, "playbooks", "verify.yml"), "-i", inventory,
                               "-e", json.dumps({"multimesh_verify_report_dir": str(tmp_path)}))
    report, checks = read_report(tmp_path)
    for mesh, namespaces in (("mesh-1", ["app-ns-1", "istio-system-1"]), ("mesh-2", ["app-ns-2", "app-ns-3", "istio-system-2"])):
        assert checks["discovery scope " + mesh]["status"] == "pass", checks["discovery scope " + mesh]
        assert checks["discovery scope " + mesh]["evidence"]["seen"] == namespaces
    for member in ("app-ns-1", "app-ns-2", "app-ns-3"):
        assert checks["root of trust " + member]["status"] == "pass", checks["root of trust " + member]
    # The stand-in installs no injector: that is reported, not passed.
    assert checks["injector mesh-1"]["status"] == "fail" and run.rc != 0
