"""Benchmark: site.yml (Sail backend, verification and samples off) against one kubernetes.core.k8s task applying the
same rendered objects, on a harness cluster with the real Sail Operator; and the write requests of a no-op run.

For each inventory (the example's 2 meshes / 3 namespaces, and 5 meshes / 50 namespaces), on a fresh cluster:
  first converge of site.yml (no Ready wait: control_plane_ready_timeout=0), the no-op re-run of site.yml, and one
  playbook with one kubernetes.core.k8s task that server-side applies the objects site.yml renders (the floor).
Write requests are those of the audited identity in the API server's audit log, dry runs excluded.

Usage: python scripts/bench_noop.py   (prints a table; not a test; about 3 minutes on 2 cores)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))

import harness  # noqa: E402  pylint: disable=wrong-import-position
from bench_render import build  # noqa: E402  pylint: disable=wrong-import-position

import yaml  # noqa: E402  pylint: disable=wrong-import-position

CASES = (("2 meshes / 3 namespaces", [("mesh-1", 1), ("mesh-2", 2)]), ("5 meshes / 50 namespaces", [(None, 10)] * 5))
OFF = {"multimesh_samples": [], "multimesh_verify": False, "control_plane_ready_timeout": 0}
FLOOR = """---
- name: One kubernetes.core.k8s task applying the rendered objects
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Apply every rendered object
      kubernetes.core.k8s:
        definition: "{{ objects }}"
        apply: true
        server_side_apply:
          field_manager: bench-floor  # shares the fields, so the stages' objects stay as they are
"""


def playbook(kubeconfig, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               K8S_AUTH_KUBECONFIG=kubeconfig)
    started = time.time()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook")] + list(args), cwd=ROOT,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        sys.exit("ansible-playbook {0} failed:\n{1}".format(" ".join(args), proc.stdout[-3000:]))
    return time.time() - started


def rendered_objects(inventory, workdir):
    render = os.path.join(workdir, "render")
    playbook("/nonexistent", os.path.join(ROOT, "playbooks", "site.yml"), "-i", inventory, "-e", json.dumps(OFF),
             "-e", "multimesh_render_dir=" + render)
    objects = []
    for top, dummy, names in sorted(os.walk(render)):
        for name in sorted(names):
            with open(os.path.join(top, name)) as handle:
                objects.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    # Namespaces first, as the stages apply them.
    return sorted(objects, key=lambda obj: obj["kind"] != "Namespace")


def run_case(label, data, workdir):
    cluster = harness.Cluster("bench-noop", harness.BASE_PORT + 2100)
    cluster.up(fresh=True, sail=True)
    try:
        inventory = os.path.join(workdir, "inventory.yml")
        with open(inventory, "w") as handle:
            yaml.safe_dump(data, handle)
        site = [os.path.join(ROOT, "playbooks", "site.yml"), "-i", inventory, "-e", json.dumps(OFF)]
        objects = rendered_objects(inventory, workdir)
        first = playbook(cluster.ansible_kubeconfig, *site)
        mark, dummy = cluster.write_requests()
        noop = playbook(cluster.ansible_kubeconfig, *site)
        noop_writes = len(cluster.write_requests(mark)[1])
        floor_file = os.path.join(workdir, "floor.yml")
        with open(floor_file, "w") as handle:
            handle.write(FLOOR)
        with open(os.path.join(workdir, "objects.json"), "w") as handle:
            json.dump({"objects": objects}, handle)
        mark, dummy = cluster.write_requests()
        floor = playbook(cluster.ansible_kubeconfig, floor_file, "-e", "@" + os.path.join(workdir, "objects.json"))
        floor_writes = len(cluster.write_requests(mark)[1])
    finally:
        cluster.down(quiet=True)
    return label, len(objects), floor, floor_writes, noop, noop_writes, first


def main():
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for label, case in CASES:
            rows.append(run_case(label, build(case), workdir))
    header = ("inventory", "objects", "k8s task s", "its writes", "no-op site.yml s", "its writes", "no-op ratio",
              "first converge s", "first ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for dummy in header) + "|")
    for label, objects, floor, floor_writes, noop, noop_writes, first in rows:
        print("| {0} | {1} | {2:.1f} | {3} | {4:.1f} | {5} | {6:.2f} (target <= 2) | {7:.1f} | {8:.2f} (target <= 3) |".format(
            label, objects, floor, floor_writes, noop, noop_writes, noop / floor, first, first / floor))


if __name__ == "__main__":
    main()
