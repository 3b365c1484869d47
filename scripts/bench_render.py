"""Benchmark: tasks executed and wall time of playbooks/site.yml in render mode, small vs large inventory.

Usage: python scripts/bench_render.py   (prints a table; not a test)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from inventory_gen import inventory  # noqa: E402  pylint: disable=wrong-import-position

import yaml  # noqa: E402  pylint: disable=wrong-import-position

# Samples sleep and httpbin in every namespace (inventory_gen); the large cases show whether the time per namespace
# stays flat as meshes are added.
CASES = (("2 meshes / 3 namespaces", [("mesh-1", 1), ("mesh-2", 2)]), ("5 meshes / 50 namespaces", [(None, 10)] * 5),
         ("50 meshes / 500 namespaces", [(None, 10)] * 50), ("200 meshes / 1000 namespaces", [(None, 5)] * 200))


def build(case):
    if case[0][0] is None:
        return inventory(len(case), case[0][1])
    data = inventory(len(case), 1)
    for mesh, (dummy, members) in zip(data["multimesh_clusters"]["vars"]["multimesh_meshes"], case):
        mesh["members"] = ["{0}-app-{1}".format(mesh["name"], n) for n in range(1, members + 1)]
    return data


def run(label, data, workdir):
    path = os.path.join(workdir, "inventory.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle)
    render = os.path.join(workdir, "render-" + str(abs(hash(label))))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    started = time.time()
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                          os.path.join(ROOT, "playbooks", "site.yml"), "-i", path, "-e", "multimesh_render_dir=" + render],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    elapsed = time.time() - started
    recap = dict(re.findall(r"(ok|changed|skipped)=(\d+)", out.split("PLAY RECAP")[1]))
    files = sum(len(f) for dummy, dummy2, f in os.walk(render))
    objects = 0
    for top, dummy, names in os.walk(render):
        for name in names:
            with open(os.path.join(top, name)) as handle:
                objects += sum(1 for doc in yaml.safe_load_all(handle) if doc)
    return label, int(recap["ok"]), int(recap["skipped"]), files, objects, elapsed


def main():
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for label, case in CASES:
            rows.append(run(label, build(case), workdir))
    print("{0:<30} {1:>10} {2:>8} {3:>6} {4:>8} {5:>8} {6:>13}".format(
        "inventory", "tasks run", "skipped", "files", "objects", "seconds", "ms/namespace"))
    for row, (dummy, case) in zip(rows, CASES):
        namespaces = sum(members for dummy2, members in case)
        print("{0:<30} {1:>10} {2:>8} {3:>6} {4:>8} {5:>8.1f} {6:>13.1f}".format(*(row + (1000 * row[5] / namespaces,))))


if __name__ == "__main__":
    main()
