"""Benchmark: the connectivity probe engine on an N x N matrix (default 50 x 50) against a harness cluster.

Starts its own harness cluster (kwok runs each exec as a real local program), creates N namespaces with one `sleep`
pod each, and runs the multimesh.istio.connectivity module once over every (client, server) pair: N execs, N x N
curls. There is no pod network, so each curl ends quickly (the name does not resolve); a run that only reads its
results as inconclusive is fine here: this measures the engine (execs, concurrency, the run's bound), not the mesh.

Usage: python scripts/bench_connectivity.py [N] [PROBE_TIMEOUT]   (prints a table; not a test)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))

import harness  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = """
- name: Probe the matrix
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe every pair with one module run
      multimesh.istio.connectivity:
        kubeconfig: {kubeconfig}
        pairs: "{{{{ lookup('ansible.builtin.file', '{pairs}') | from_json }}}}"
        probe_timeout: {timeout}
      register: probes

    - name: Write what the module returned
      ansible.builtin.copy:
        content: "{{{{ probes | to_json }}}}"
        dest: {result}
        mode: "0600"
"""


def main(size=50, probe_timeout=5):
    from kubernetes import client, config

    cluster = harness.Cluster("bench", harness.BASE_PORT + 2000)
    kubeconfig = cluster.up(fresh=True)
    try:
        config.load_kube_config(config_file=kubeconfig)
        core = client.CoreV1Api()
        namespaces = ["bench-{0:02d}".format(n) for n in range(size)]
        for ns in namespaces:
            core.create_namespace({"metadata": {"name": ns}})
            core.create_namespaced_pod(ns, {"metadata": {"name": "sleep-0", "labels": {"app": "sleep"}},
                                            "spec": {"containers": [{"name": "sleep", "image": "curlimages/curl"}]}})
        deadline = time.time() + 120
        while time.time() < deadline:
            running = [p for p in core.list_pod_for_all_namespaces(label_selector="app=sleep").items if p.status.phase == "Running"]
            if len(running) == size:
                break
            time.sleep(1)
        pairs = [{"client_namespace": c, "client": "sleep", "server_namespace": s,
                  "url": "http://httpbin.{0}.svc.cluster.local:8000/get".format(s), "expect": "allow" if c == s else "deny"}
                 for c in namespaces for s in namespaces]
        work = tempfile.mkdtemp()
        with open(os.path.join(work, "pairs.json"), "w") as handle:
            json.dump(pairs, handle)
        result = os.path.join(work, "result.json")
        with open(os.path.join(work, "bench.yml"), "w") as handle:
            handle.write(PLAYBOOK.format(kubeconfig=kubeconfig, pairs=os.path.join(work, "pairs.json"),
                                         timeout=probe_timeout, result=result))
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        started = time.time()
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(work, "bench.yml")],
                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
        elapsed = time.time() - started
        with open(result) as handle:
            summary = json.load(handle)["summary"]
    finally:
        cluster.down()
    bound = 2 * probe_timeout + 10
    print("| matrix | probes | execs | answered | slowest probe | playbook wall time | bound (2 x timeout + 10 s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("| {0} x {0} | {1} | {2} | {3} | {4:.2f} s | {5:.1f} s | {6} s |".format(
        size, summary["probes"], summary["clients"], summary["answered"], summary["slowest"], elapsed, bound))
    return 0 if elapsed <= bound else 1


if __name__ == "__main__":
    sys.exit(main(*[int(a) for a in sys.argv[1:3]]))
