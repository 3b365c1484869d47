"""The collection builds, and the execution environment definition produces a build context that installs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(*command, **kwargs):
    proc = subprocess.run(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def left_by_a_run(path):
    """A file a run from the clone leaves (a root CA key, a report), made for the test if none is there; its remover."""
    path = os.path.join(ROOT, path)
    made = [p for p in (os.path.dirname(os.path.dirname(path)), os.path.dirname(path)) if not os.path.isdir(p)]
    for directory in made:
        os.mkdir(directory)
    with open(path, "w") as handle:
        handle.write("stand-in\n")
    return lambda: (os.remove(path), [os.rmdir(d) for d in reversed(made)])


def clean_env(tmp_path):
    """The environment of a consumer: none of this clone's Ansible settings."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "MULTIMESH_")))
    env.update(ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1")
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """The collection built once for these tests, from a clone where runs left root CA keys and reports, from the top
    and from playbooks/ (multimesh_ca_dir is relative to where the playbook runs)."""
    out = tmp_path_factory.mktemp("built")
    cleanups = [left_by_a_run(os.path.join("multimesh-ca", "packaging-test", "root-key.pem")),
                left_by_a_run(os.path.join("multimesh-verify", "packaging-test", "report.json")),
                left_by_a_run(os.path.join("playbooks", "multimesh-ca", "packaging-test", "root-key.pem")),
                left_by_a_run(os.path.join("playbooks", "multimesh-verify", "packaging-test", "report.json")),
                left_by_a_run(os.path.join("tests", "packaging-test", "ca-key.pem"))]
    try:
        # Away from this repository's ansible.cfg, whose collections path already holds multimesh.istio.
        run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(out), cwd=str(out),
            env=clean_env(out))
    finally:
        for cleanup in cleanups:
            cleanup()
    return out / "multimesh-istio-0.1.0.tar.gz"


def test_collection_builds_and_execution_environment_context_is_created(tarball, tmp_path):
    with tarfile.open(str(tarball)) as archive:
        names = archive.getnames()
    assert "plugins/action/mesh_model.py" in names and "roles/model/meta/argument_specs.yml" in names
    assert not [n for n in names if n.startswith(("build/", ".venv/", "tests/output/")) or "__pycache__" in n]
    assert not [n for n in names if "multimesh-ca" in n or "multimesh-verify" in n or n.endswith(".pem")], names
    # No development files (issue 29 point 1): what a user of the collection runs, its docs and its unit tests only.
    development = ("tests/harness/", "tests/integration/", "tests/render/", "molecule/", "scripts/", "requirements/")
    assert not [n for n in names if n.startswith(development) or n in ("ansible.cfg", "pytest.ini", "execution-environment.yml")], \
        [n for n in names if n.startswith(development)][:10]
    assert "roles/verify/README.md" in names and "meta/execution-environment.yml" in names and "bindep.txt" in names

    shutil.copy(str(tarball), str(tmp_path))
    for name in ("execution-environment.yml", "bindep.txt", os.path.join("meta", "ee-requirements.txt"),
                 os.path.join("ee", "install-tools.sh")):
        os.makedirs(os.path.dirname(str(tmp_path / name)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, name), str(tmp_path / name))
    run(os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
        cwd=str(tmp_path))
    context = tmp_path / "context"
    assert (context / "_build" / "collections" / "multimesh-istio-0.1.0.tar.gz").is_file()
    requirements = (context / "_build" / "requirements.yml").read_text()
    assert "kubernetes.core" in requirements and "collections/multimesh-istio-0.1.0.tar.gz" in requirements
    assert "kubernetes" in (context / "_build" / "requirements.txt").read_text()
    # The tools: pinned and checked by the script the final stage runs, never piped from curl into tar (point 5).
    with open(os.path.join(ROOT, "ee", "install-tools.sh")) as handle:
        assert (context / "_build" / "tools" / "install-tools.sh").read_text() == handle.read()
    containerfile = (context / "Dockerfile").read_text()
    final = containerfile[containerfile.index("FROM base AS final"):]
    assert 'RUN ISTIOCTL_SHA256="$ISTIOCTL_SHA256" sh /tmp/install-tools.sh' in final and "| tar" not in containerfile


def _tarball(path, members):
    """A .tar.gz of {name: content} (executables), and its sha256."""
    import hashlib
    import io

    with tarfile.open(str(path), "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o755
            archive.addfile(info, io.BytesIO(content))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def releases(tmp_path):
    """Stand-ins for the Istio and helm release servers (file:// URLs), with a released .sha256 for istioctl."""
    istio = tmp_path / "istio" / "1.30.3"
    istio.mkdir(parents=True)
    istioctl = _tarball(istio / "istioctl-1.30.3-linux-amd64.tar.gz", {"istioctl": b"#!/bin/sh\necho istioctl\n"})
    (istio / "istioctl-1.30.3-linux-amd64.tar.gz.sha256").write_text(istioctl + "  istioctl-1.30.3-linux-amd64.tar.gz\n")
    (tmp_path / "helm").mkdir()
    helm = _tarball(tmp_path / "helm" / "helm-v3.19.0-linux-amd64.tar.gz", {"linux-amd64/helm": b"#!/bin/sh\necho helm\n"})
    (tmp_path / "bin").mkdir()

    def install(**env):
        environment = dict(os.environ, TOOLS_ARCH="x86_64", TOOLS_PROTOCOLS="=file", TOOLS_DEST=str(tmp_path / "bin"),
                           ISTIO_RELEASES="file://" + str(tmp_path / "istio"), HELM_RELEASES="file://" + str(tmp_path / "helm"))
        environment.update(env)
        proc = subprocess.run(["sh", os.path.join(ROOT, "ee", "install-tools.sh")], env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        return proc.returncode, proc.stdout, sorted(os.listdir(str(tmp_path / "bin")))
    install.istioctl, install.helm, install.istio = istioctl, helm, istio
    return install


def test_the_ee_tools_are_installed_only_when_their_checksums_match(releases):
    """ee/install-tools.sh (execution-environment.yml's final stage), offline: helm's pinned sha256 refuses any other
    tarball; istioctl is checked against its release's .sha256 and, when given, ISTIOCTL_SHA256. Nothing is installed
    unless every check passed."""
    rc, out, installed = releases()
    assert rc != 0 and installed == [], out
    assert "helm-v3.19.0-linux-amd64.tar.gz has sha256 {0}, expected a7f81ce0".format(releases.helm) in out, out

    rc, out, installed = releases(HELM_SHA256=releases.helm, ISTIOCTL_SHA256="0" * 64)
    assert rc != 0 and installed == [] and "(against ISTIOCTL_SHA256)" in out, out

    rc, out, installed = releases(HELM_SHA256=releases.helm, HELM_VERSION="v3.20.0")
    assert rc != 0 and installed == [] and "helm-v3.20.0-linux-amd64.tar.gz" in out, out  # not there: curl --fail
    rc, out, installed = releases(HELM_VERSION="v3.20.0")
    assert rc != 0 and "HELM_VERSION=v3.20.0 needs HELM_SHA256" in out, out

    (releases.istio / "istioctl-1.30.3-linux-amd64.tar.gz.sha256").write_text("1" * 64 + "  x\n")
    rc, out, installed = releases(HELM_SHA256=releases.helm)
    assert rc != 0 and installed == [] and "(against the release's .sha256)" in out, out
    (releases.istio / "istioctl-1.30.3-linux-amd64.tar.gz.sha256").write_text("")
    rc, out, installed = releases(HELM_SHA256=releases.helm)
    assert rc != 0 and installed == [] and "no sha256 to check against (got '')" in out, out


def test_the_ee_tools_install_when_every_checksum_matches(releases):
    rc, out, installed = releases(HELM_SHA256=releases.helm, ISTIOCTL_SHA256=releases.istioctl)
    assert rc == 0 and installed == ["helm", "istioctl"], out
    assert "istioctl 1.30.3 and helm v3.19.0 (linux-amd64)" in out
    rc, out, dummy = releases(HELM_SHA256=releases.helm, TOOLS_PROTOCOLS="=https")
    assert rc != 0 and 'Protocol "file" not supported' in out, out  # https only by default: file:// (or http://) refused


def test_a_consumer_execution_environment_gets_the_collections_dependencies(tarball, tmp_path):
    """ansible-builder introspects an installed collection through meta/execution-environment.yml: a consumer's EE
    that only lists multimesh.istio gets its Python and system packages (issue 16 item 3)."""
    installed = tmp_path / "collections" / "ansible_collections" / "multimesh" / "istio"
    installed.mkdir(parents=True)
    with tarfile.open(str(tarball)) as archive:
        archive.extractall(str(installed))
    found = run(os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path / "collections"))
    for requirement in ("kubernetes>=24.2.0", "cryptography>=42,<51", "tar [platform:rpm]"):
        assert "'{0}  # from collection multimesh.istio'".format(requirement) in found, found
    assert "python3" not in found  # the EE's own Python only (issue 29 point 5)


def test_a_project_sync_installs_this_collection_and_its_tested_kubernetes_core():
    """Issue 29 point 2: AWX installs collections/requirements.yml on a project sync; a stock EE then has both."""
    with open(os.path.join(ROOT, "collections", "requirements.yml")) as handle:
        wanted = dict((c["name"], c) for c in yaml.safe_load(handle)["collections"])
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert wanted[galaxy["repository"] + ".git"]["type"] == "git"
    assert wanted["kubernetes.core"]["version"] == galaxy["dependencies"]["kubernetes.core"]


def test_galaxy_metadata_is_complete_and_matches_the_execution_environment():
    """Galaxy shows these links; the dependency range is the one the EE installs and the tests run (kubernetes.core
    6.x from the ansible 12 bundle)."""
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "execution-environment.yml")) as handle:
        ee = yaml.safe_load(handle)
    for key in ("repository", "documentation", "homepage", "issues"):
        assert galaxy[key].startswith("https://github.com/multimesh-istio/multimesh.istio"), key
    pinned = dict((c["name"], c.get("version")) for c in ee["dependencies"]["galaxy"]["collections"])
    assert galaxy["dependencies"] == {"kubernetes.core": ">=6.0.0,<7.0.0"} and pinned["kubernetes.core"] == ">=6.0.0,<7.0.0"
    with open(os.path.join(ROOT, "build", "collections", "ansible_collections", "kubernetes", "core", "MANIFEST.json")) as handle:
        version = json.load(handle)["collection_info"]["version"]
    assert version.split(".")[0] == "6", version


def test_the_built_tarball_installs_and_renders_the_example_inventory(tarball, tmp_path):
    """As a consumer would: install the tarball (kubernetes.core from the bundle, Galaxy being unreachable here) and
    run the playbook by its FQCN, outside this repository and its ansible.cfg, in render mode."""
    env = clean_env(tmp_path)
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(tmp_path / "installed"),
        str(tarball), cwd=str(tmp_path), env=env)
    (tmp_path / "deps" / "ansible_collections").mkdir(parents=True)
    os.symlink(os.path.join(ROOT, "build", "collections", "ansible_collections", "kubernetes"),
               str(tmp_path / "deps" / "ansible_collections" / "kubernetes"))
    # Under its own name: the directory of a hosts.yml is the inventory's identity (multimesh_owner), and a generic
    # one such as 'inventory' is refused.
    shutil.copytree(os.path.join(ROOT, "inventories", "example"), str(tmp_path / "example"))
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join((str(tmp_path / "installed"), str(tmp_path / "deps")))
    out = run(os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "example" / "hosts.yml"), "multimesh.istio.site",
              "-e", "multimesh_render_dir=" + str(tmp_path / "out"), "-vv", cwd=str(tmp_path), env=env)
    installed = str(tmp_path / "installed" / "ansible_collections" / "multimesh" / "istio")
    assert os.path.join(installed, "playbooks", "site.yml") in out, out
    for part in ("roles", "plugins", "playbooks", os.path.join("build", "collections", "ansible_collections", "multimesh")):
        assert os.path.join(ROOT, part) + os.sep not in out, part  # nothing of this clone ran
    rendered = sorted(os.listdir(str(tmp_path / "out")))
    assert rendered and any("mesh-1" in name for name in rendered), rendered


def test_galaxy_importer_imports_the_tarball(tarball, tmp_path):
    """The check Galaxy and Automation Hub run on upload (issue 29 point 1), with its defaults: ansible-doc on every
    plugin, ansible-lint (production, offline), the changelog. It runs both in a path that holds this collection
    alone, as Galaxy does, so the documentation may need nothing of kubernetes.core (doc fragment k8s_access)."""
    env = clean_env(tmp_path)
    env.update(HOME=str(tmp_path), PATH=os.pathsep.join((BIN, env["PATH"])))
    proc = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and lines[-1] == "Importer processing completed successfully", proc.stdout
    assert [line for line in lines if line.startswith("ERROR")] == [], proc.stdout
    # Galaxy lints without installing dependencies (ansible/ansible-lint#4032): the one warning it can give is that
    # a module of a declared dependency is not installed there.
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        dependencies = tuple(name + "." for name in yaml.safe_load(handle)["dependencies"])
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert [line for line in warnings if "syntax-check[unknown-module]: couldn't resolve module/action '" not in line
            or not line.split("module/action '")[1].startswith(dependencies)] == [], warnings

    with open(str(tmp_path / "importer_result.json")) as handle:
        contents = json.load(handle)["docs_blob"]["contents"]
    documented = dict(((c["content_type"], c["content_name"]), bool(c["doc_strings"])) for c in contents)
    modules = [name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py")]
    filters = [name[:-4] for name in os.listdir(os.path.join(ROOT, "plugins", "filter")) if name.endswith(".yml")]
    lookups = [name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "lookup")) if name.endswith(".py")]
    assert modules and filters and lookups
    assert [m for m in modules if not documented.get(("module", m))] == []
    assert [m for m in lookups if not documented.get(("lookup", m))] == []
    assert [f for f in filters if not documented.get(("filter", f))] == []


def test_the_navigator_runs_a_clones_playbook_with_the_collection_installed_as_usual(tarball, tmp_path):
    """Issue 29 point 2, as its users meet it: `ansible-navigator run playbooks/site.yml --ee false -m stdout` from a
    clone whose build/ setup.sh never made, the collection installed into the user's default path. The clone's
    ansible.cfg keeps that path, so the roles are found there."""
    clone = tmp_path / "clone"
    for part in ("playbooks", os.path.join("inventories", "example")):
        shutil.copytree(os.path.join(ROOT, part), str(clone / part))
    shutil.copy(os.path.join(ROOT, "ansible.cfg"), str(clone))
    env = clean_env(tmp_path)
    env.pop("ANSIBLE_HOME")
    env.update(HOME=str(tmp_path / "home"), PATH=os.pathsep.join((BIN, env["PATH"])))
    user_path = tmp_path / "home" / ".ansible" / "collections"
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(user_path), str(tarball),
        cwd=str(tmp_path), env=env)
    # kubernetes.core as `ansible-galaxy collection install` of this collection would add it (Galaxy is not reachable).
    os.symlink(os.path.join(ROOT, "build", "collections", "ansible_collections", "kubernetes"),
               str(user_path / "ansible_collections" / "kubernetes"))
    out = run(os.path.join(BIN, "ansible-navigator"), "run", "playbooks/site.yml", "--ee", "false", "-m", "stdout",
              "-i", "inventories/example/hosts.yml", "-e", "multimesh_render_dir=out", cwd=str(clone), env=env)
    installed = str(user_path / "ansible_collections" / "multimesh" / "istio")
    assert os.path.join(installed, "roles", "control_plane", "tasks") in out and ROOT + os.sep not in out, out
    assert re.search(r"cluster-1\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", re.sub(r"\x1b\[[0-9;]*m", "", out)), out
    assert sorted(os.listdir(str(clone / "out")))[:2] == ["10-cni-cluster.yaml", "20-control-plane-mesh-1.yaml"]
