"""The rendered manifests as job artifacts (issue 29 point 3): contents when small, never a Secret's, names only over
the limit; the lookup as a playbook calls it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest


from ansible_collections.multimesh.istio.plugins.plugin_utils.render_artifacts import render_artifacts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ISTIO = "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata:\n  name: mesh-a\n"
SECRET = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cacerts\n"


@pytest.fixture
def rendered(tmp_path):
    (tmp_path / "istioctl").mkdir()
    (tmp_path / "20-control-plane-mesh-a.yaml").write_text(ISTIO)
    (tmp_path / "istioctl" / "20-control-plane-mesh-a.yaml").write_text(ISTIO)
    (tmp_path / "notes.txt").write_text("not a manifest")
    return tmp_path


def test_contents_are_published_with_paths_relative_to_the_absolute_directory(rendered):
    found = render_artifacts(str(rendered / "istioctl" / ".."), 1024)
    assert found == {"dir": os.path.realpath(str(rendered)), "bytes": 2 * len(ISTIO), "withheld": [],
                     "files": {"20-control-plane-mesh-a.yaml": ISTIO, "istioctl/20-control-plane-mesh-a.yaml": ISTIO}}


def test_only_the_files_render_mode_names_are_read(rendered):
    """An inventory, a kubeconfig or anything else kept in the directory never reaches the job's artifacts."""
    (rendered / "hosts.yml").write_text("all: {vars: {api_key: secret}}\n")
    (rendered / "kubeconfig.yaml").write_text("kind: Config\nusers: [{user: {token: secret}}]\n")
    (rendered / "istioctl" / "group_vars").mkdir()
    (rendered / "istioctl" / "group_vars" / "20-x.yaml").write_text("token: secret\n")
    assert sorted(render_artifacts(str(rendered), 1 << 20)["files"]) == [
        "20-control-plane-mesh-a.yaml", "istioctl/20-control-plane-mesh-a.yaml"]


@pytest.mark.parametrize("content, reason", [
    (SECRET, "holds a Secret or a kubeconfig"),
    ("kind: List\nitems:\n- {kind: Secret, metadata: {name: s}}\n", "holds a Secret or a kubeconfig"),
    ("kind: Config\nusers: []\n", "holds a Secret or a kubeconfig"),
    ("kind: ConfigMap\ndata: {ca.crt: \"-----BEGIN CERTIFICATE-----\"}\n", "holds PEM data"),
    ("kind: [unclosed\n", "is not YAML"),
])
def test_a_file_holding_a_secret_is_listed_without_its_content(rendered, content, reason):
    (rendered / "30-members-mesh-a.yaml").write_text(content)
    found = render_artifacts(str(rendered), 1 << 20)
    assert found["files"]["30-members-mesh-a.yaml"] is None and found["files"]["20-control-plane-mesh-a.yaml"] == ISTIO
    assert found["withheld"] == ["30-members-mesh-a.yaml: {0}; take it from {1}".format(reason, rendered)]


def test_a_file_that_is_not_utf8_is_withheld_not_fatal(rendered):
    (rendered / "30-members-mesh-a.yaml").write_bytes(b"kind: \xff\n")
    found = render_artifacts(str(rendered), 1 << 20)
    assert found["files"]["30-members-mesh-a.yaml"] is None and found["files"]["20-control-plane-mesh-a.yaml"] == ISTIO
    assert found["withheld"] == ["30-members-mesh-a.yaml: cannot be read (UnicodeDecodeError); take it from " + str(rendered)]


def test_over_the_limit_only_the_names_are_published(rendered):
    found = render_artifacts(str(rendered), 2 * len(ISTIO) - 1)
    assert found["files"] == {"20-control-plane-mesh-a.yaml": None, "istioctl/20-control-plane-mesh-a.yaml": None}
    assert found["withheld"][0].startswith("{0} bytes in all, over multimesh_render_artifacts_max_bytes ({1})".format(
        2 * len(ISTIO), 2 * len(ISTIO) - 1))
    assert render_artifacts(str(rendered), 2 * len(ISTIO))["withheld"] == []


def test_symbolic_links_are_not_followed(rendered, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "20-control-plane-mesh-b.yaml").write_text("private: key\n")
    os.symlink(str(outside / "20-control-plane-mesh-b.yaml"), str(rendered / "20-control-plane-mesh-b.yaml"))
    assert sorted(render_artifacts(str(rendered), 1024)["files"]) == [
        "20-control-plane-mesh-a.yaml", "istioctl/20-control-plane-mesh-a.yaml"]
    shutil.rmtree(str(rendered / "istioctl"))
    os.symlink(str(outside), str(rendered / "istioctl"))
    assert sorted(render_artifacts(str(rendered), 1024)["files"]) == ["20-control-plane-mesh-a.yaml"]


@pytest.mark.parametrize("limit", [-1, True, 1.5])
def test_a_limit_that_is_not_a_number_of_bytes_is_refused_by_name(rendered, limit):
    with pytest.raises(ValueError, match=r"multimesh_render_artifacts_max_bytes: .* Fix: set it to 0 \(names only\) or more"):
        render_artifacts(str(rendered), limit)


def lookup(rendered, tmp_path, *options):
    """What a playbook's lookup() returns (one directory: its entry), through ansible on this collection."""
    out = tmp_path / "found.json"
    call = "lookup('multimesh.istio.rendered_manifests', {0!r}{1})".format(str(rendered), "".join(", " + o for o in options))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-c", "local",
                           "-m", "ansible.builtin.copy", "-a", "content={{ %s | to_json }} dest=%s" % (call, out)],
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return proc.returncode, (json.loads(out.read_text()) if proc.returncode == 0 else proc.stdout)


def test_the_lookup_gives_a_playbook_the_directorys_entry(rendered, tmp_path):
    rc, found = lookup(rendered, tmp_path, "max_bytes=0")
    assert rc == 0 and found["files"] == {"20-control-plane-mesh-a.yaml": None, "istioctl/20-control-plane-mesh-a.yaml": None}, found
    rc, found = lookup(rendered, tmp_path)
    assert rc == 0 and found["files"]["20-control-plane-mesh-a.yaml"] == ISTIO, found  # the default limit


def test_the_lookup_names_the_variable_when_the_limit_is_negative(rendered, tmp_path):
    rc, out = lookup(rendered, tmp_path, "max_bytes=-1")
    assert rc != 0 and "multimesh_render_artifacts_max_bytes: -1 is not a number of bytes" in out, out
