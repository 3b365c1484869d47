"""Render every render-test inventory with both backends into one tree, so that a refactoring can show its render
output is byte-identical: run it before and after, then `diff -r BEFORE AFTER`.

Usage: python scripts/render_trees.py OUT_DIR   (prints one line per render; not a test)
"""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from inventory_gen import inventory  # noqa: E402  pylint: disable=wrong-import-position

import yaml  # noqa: E402  pylint: disable=wrong-import-position

BACKENDS = ("sail", "istioctl")


def inventories(workdir):
    """(name, path) of each render-test inventory, and a generated one with samples in every namespace."""
    found = [(os.path.basename(p)[:-4], p) for p in sorted(glob.glob(os.path.join(ROOT, "tests", "render", "inventories", "*.yml")))
             if not p.endswith("invalid.yml")]
    generated = inventory(3, 3)
    generated["multimesh_clusters"]["vars"]["multimesh_samples"] = ["sleep", "httpbin", "helloworld"]
    path = os.path.join(workdir, "generated.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(generated, handle)
    return found + [("generated-3x3", path)]


def main(out):
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    playbook = os.path.join(ROOT, "playbooks", "site.yml")
    for name, path in inventories(out):
        for backend in BACKENDS:
            target = os.path.join(out, "{0}-{1}".format(name, backend))
            proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook, "-i", path,
                                   "-e", "multimesh_render_dir=" + target, "-e", "multimesh_backend=" + backend],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, check=False)
            files = len(glob.glob(os.path.join(target, "**", "*.yaml"), recursive=True))
            print("{0:<40} rc={1} files={2}".format(os.path.basename(target), proc.returncode, files))
            if proc.returncode:
                with open(target + ".log", "w") as handle:
                    handle.write(proc.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
