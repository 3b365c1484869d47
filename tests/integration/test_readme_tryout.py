"""README's local try-out, run exactly as written: the block after the `try-out` marker, line by line, from the
repository root with a relative KUBECONFIG, on the harness's default port. It must converge the example inventory
(the real Sail Operator and its CRDs, installed by `harness.py up --sail`) and run the verification, whose report says
what the harness cannot give (no pod network: connectivity is inconclusive) and what the real istiods prove: every
sample pod injected and bound to its own mesh's istiod, roots of trust and discovery scope per mesh."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess

from conftest import REPO, api_client, harness, read_report

MARKER = "<!-- try-out: tests/integration/test_readme_tryout.py runs this block as written -->"


def tryout_lines():
    with open(os.path.join(REPO, "README.md")) as handle:
        readme = handle.read()
    assert readme.count(MARKER) == 1, "README.md must hold the try-out marker once"
    block = re.search(r"```bash\n(.*?)```", readme[readme.index(MARKER):], re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def run(line):
    env = dict((k, v) for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "MULTIMESH_RENDER_DIR", "MULTIMESH_HARNESS_PORT"))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(os.path.join(REPO, ".venv")))
    proc = subprocess.run(["bash", "-c", line], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=1200, check=False)
    return proc.returncode, proc.stdout


def test_the_readme_tryout_converges_the_example_inventory_and_runs_the_verification():
    lines = tryout_lines()
    assert [line.split()[0] for line in lines] == ["./scripts/setup.sh", ".venv/bin/python", "KUBECONFIG=build/harness/c1/kubeconfig",
                                                   ".venv/bin/python"], lines
    cluster = harness.Cluster("c1", 16443)  # README's default port
    cluster.down(quiet=True)
    shutil.rmtree(os.path.join(cluster.dir, "etcd"), ignore_errors=True)  # a try-out starts from an empty cluster
    reports = os.path.join(REPO, "multimesh-verify")
    shutil.rmtree(reports, ignore_errors=True)
    try:
        outputs = [run(line) for line in lines[:3]]
        for line, (rc, out) in zip(lines[:2], outputs):
            assert rc == 0, (line, out)
        assert outputs[1][1].strip().endswith(os.path.join(REPO, "build", "harness", "c1", "kubeconfig")), outputs[1][1]
        rc, out = outputs[2]
        assert "Pre-flight passed" in out, out
        # Converged: the two Istios Ready, the samples Available; then the verification ran and failed, as it must here.
        from kubernetes import client

        api = api_client(cluster.kubeconfig)
        custom = client.CustomObjectsApi(api)
        for name in ("mesh-1", "mesh-2"):
            istio = custom.get_cluster_custom_object("sailoperator.io", "v1", "istios", name)
            assert [c["status"] for c in istio["status"]["conditions"] if c["type"] == "Ready"] == ["True"], istio
        for namespace in ("app-ns-1", "app-ns-2", "app-ns-3"):
            deployments = client.AppsV1Api(api).list_namespaced_deployment(namespace).items
            assert sorted(d.metadata.name for d in deployments) == ["httpbin", "sleep"], namespace
            assert all(d.status.available_replicas == d.spec.replicas for d in deployments), namespace
        assert rc != 0 and re.search(r"cluster-1\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1", out), out
        report, checks = read_report(reports)
        assert report["passed"] is False, report
        status = dict((name, check["status"]) for name, check in checks.items())
        for mesh in ("mesh-1", "mesh-2"):
            assert status["discovery scope " + mesh] == "pass" and status["injector " + mesh] == "pass", status
        for member in ("app-ns-1", "app-ns-2", "app-ns-3"):
            assert status["root of trust " + member] == "pass", status
            pods = client.CoreV1Api(api).list_namespaced_pod(member).items
            assert len(pods) == 2, member
            for pod in pods:
                # Injected by the operator-rendered injector, bound to its own mesh's istiod.
                assert "istio-proxy" in [c.name for c in pod.spec.containers], pod.metadata.name
                for kind in ("sidecar ", "binding "):
                    assert status[kind + member + "/" + pod.metadata.name] == "pass", status
        # Only what the harness cannot give fails: the probes, with no pod network.
        assert report["failed"] and all(name.startswith("connectivity ") for name in report["failed"]), report["failed"]
        assert all("inconclusive" in checks[name]["reason"] for name in report["failed"]), report["failed"]
    finally:
        rc, out = run(lines[3])
        shutil.rmtree(reports, ignore_errors=True)
    assert rc == 0, out
    assert not cluster.pid("kube-apiserver")
