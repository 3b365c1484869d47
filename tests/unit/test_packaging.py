"""The collection builds, and the execution environment definition produces a build context that installs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(*command, **kwargs):
    proc = subprocess.run(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def test_collection_builds_and_execution_environment_context_is_created(tmp_path):
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp_path))
    tarball = tmp_path / "multimesh-istio-0.1.0.tar.gz"
    with tarfile.open(str(tarball)) as archive:
        names = archive.getnames()
    assert "plugins/action/mesh_model.py" in names and "roles/model/meta/argument_specs.yml" in names
    assert not [n for n in names if n.startswith(("build/", ".venv/", "tests/output/")) or "__pycache__" in n]

    for name in ("execution-environment.yml", "bindep.txt"):
        shutil.copy(os.path.join(ROOT, name), str(tmp_path))
    (tmp_path / "meta").mkdir()
    shutil.copy(os.path.join(ROOT, "meta", "ee-requirements.txt"), str(tmp_path / "meta"))
    run(os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
        cwd=str(tmp_path))
    context = tmp_path / "context"
    assert (context / "_build" / "collections" / "multimesh-istio-0.1.0.tar.gz").is_file()
    requirements = (context / "_build" / "requirements.yml").read_text()
    assert "kubernetes.core" in requirements and "collections/multimesh-istio-0.1.0.tar.gz" in requirements
    assert "kubernetes" in (context / "_build" / "requirements.txt").read_text()


def test_a_consumer_execution_environment_gets_the_collections_dependencies(tmp_path):
    """ansible-builder introspects an installed collection through meta/execution-environment.yml: a consumer's EE
    that only lists multimesh.istio gets its Python and system packages (issue 16 item 3)."""
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp_path))
    installed = tmp_path / "collections" / "ansible_collections" / "multimesh" / "istio"
    installed.mkdir(parents=True)
    with tarfile.open(str(tmp_path / "multimesh-istio-0.1.0.tar.gz")) as archive:
        archive.extractall(str(installed))
    found = run(os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path / "collections"))
    for requirement in ("kubernetes>=24.2.0", "cryptography>=42", "tar [platform:rpm]"):
        assert "'{0}  # from collection multimesh.istio'".format(requirement) in found, found
