"""One root CA per multicluster mesh: what pre-flight reads per cluster, and each way a run would split trust."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.multimesh.istio.plugins.module_utils import plugin_ca as ca
from ansible_collections.multimesh.istio.plugins.plugin_utils.ca_trust import (
    ca_roots,
    ca_trust_problems,
    fingerprint,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

INVENTORY = [{"host": h, "name": None, "network": None, "access": ["", h]} for h in ("east", "west", "central")]
MESHES = [
    {"name": "mesh-mp", "namespace": "istio-system-mp", "topology": "multi-primary", "clusters": ["east", "central"]},
    {"name": "mesh-pr", "namespace": "istio-system-pr", "topology": "primary-remote",
     "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"}, {"name": "west", "role": "remote"}]},
    {"name": "solo", "namespace": "istio-system-solo", "clusters": ["east"]},
]


@pytest.fixture(scope="module")
def roots():
    return [ca.new_root("Root CA", "Istio", 30, 2048)[1] for dummy in range(2)]


def model(here, ca_dir):
    return build_model(meshes=copy.deepcopy(MESHES), clusters=copy.deepcopy(INVENTORY), here=here, ca_dir=str(ca_dir))


def cacerts(root_pem, intermediate_pem=None):
    data = {"root-cert.pem": root_pem, "ca-cert.pem": intermediate_pem}
    return {"data": dict((k, base64.b64encode(v).decode("ascii")) for k, v in data.items() if v)}


def keep_root(ca_dir, mesh, root_pem, key=True):
    (ca_dir / mesh).mkdir(parents=True, exist_ok=True)
    (ca_dir / mesh / "root-cert.pem").write_bytes(root_pem)
    if key:
        (ca_dir / mesh / "root-key.pem").write_bytes(b"kept")


def keep_intermediate(ca_dir, mesh, cluster, cert_pem):
    (ca_dir / mesh / cluster).mkdir(parents=True, exist_ok=True)
    (ca_dir / mesh / cluster / "ca-cert.pem").write_bytes(cert_pem)


def test_fingerprint_is_plugin_cas_root_fingerprint(roots):
    assert fingerprint(roots[0]) == x509.load_pem_x509_certificate(roots[0]).fingerprint(hashes.SHA256()).hex()
    assert fingerprint(roots[0].decode("ascii")) == fingerprint(roots[0]) != fingerprint(roots[1])
    assert fingerprint(b"not a certificate") is None and fingerprint("") is None
    assert fingerprint("-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----") is None


def test_only_meshes_with_an_istiod_here_are_read(tmp_path, roots):
    keep_root(tmp_path, "mesh-mp", roots[0])
    east = ca_roots(model("east", tmp_path), {"mesh-mp": cacerts(roots[0]), "mesh-pr": None})
    assert east == [
        {"mesh": "mesh-mp", "cluster": "east", "namespace": "istio-system-mp", "ca_dir": str(tmp_path / "mesh-mp"),
         "ca_dir_root": fingerprint(roots[0]), "ca_dir_root_key": True, "ca_dir_intermediate": None,
         "held_root": fingerprint(roots[0]), "held_intermediate": None,
         "ca_clusters": [("central", "central"), ("east", "east")]},
        {"mesh": "mesh-pr", "cluster": "east", "namespace": "istio-system-pr", "ca_dir": str(tmp_path / "mesh-pr"),
         "ca_dir_root": None, "ca_dir_root_key": False, "ca_dir_intermediate": None, "held_root": None,
         "held_intermediate": None, "ca_clusters": [("east", "east")]}]
    # west is mesh-pr's remote (no istiod, no cacerts) and in no other multicluster mesh; solo has one cluster.
    assert ca_roots(model("west", tmp_path), {}) == []
    assert [e["mesh"] for e in ca_roots(model("central", tmp_path), {})] == ["mesh-mp"]


def entries(tmp_path, secrets_by_cluster):
    return [e for here, secrets in secrets_by_cluster.items() for e in ca_roots(model(here, tmp_path), secrets)]


def test_a_fresh_install_and_a_converged_mesh_pass(tmp_path, roots):
    assert ca_trust_problems(entries(tmp_path, {"east": {}, "central": {}})) == []
    keep_root(tmp_path, "mesh-mp", roots[0])
    assert ca_trust_problems(entries(tmp_path, {"east": {"mesh-mp": cacerts(roots[0])}, "central": {}})) == []


def test_a_lost_ca_dir_would_mint_a_second_root(tmp_path, roots):
    """A new cluster joins a mesh whose other cluster holds a root, and the directory that issued it is gone."""
    problems = ca_trust_problems(entries(tmp_path, {"east": {"mesh-mp": cacerts(roots[0])}, "central": {}}))
    assert problems == [
        "mesh mesh-mp: cluster east (secret istio-system-mp/cacerts) holds root {0}, but {1} has no root CA "
        "(root-cert.pem, root-key.pem): this run would make a second root and the mesh's clusters would stop trusting "
        "each other. Fix: point multimesh_ca_dir at the directory that holds that root - keep it on persistent storage "
        "(an AWX job's working directory is gone after the job) - or, to start over with a new root, delete the "
        "mesh's cacerts secrets on every cluster first.".format(fingerprint(roots[0])[:16], tmp_path / "mesh-mp")]


def test_clusters_or_directory_with_another_root(tmp_path, roots):
    keep_root(tmp_path, "mesh-mp", roots[1])
    problems = ca_trust_problems(entries(tmp_path, {"east": {"mesh-mp": cacerts(roots[0])},
                                                    "central": {"mesh-mp": cacerts(roots[1])}}))
    assert len(problems) == 1 and problems[0].startswith(
        "mesh mesh-mp: its clusters do not share one root CA: cluster central (secret istio-system-mp/cacerts) holds "
        "root {1}; cluster east (secret istio-system-mp/cacerts) holds root {0}; {2} holds root {1}. Fix: point "
        "multimesh_ca_dir at the directory that issued".format(
            fingerprint(roots[0])[:16], fingerprint(roots[1])[:16], tmp_path / "mesh-mp")), problems


def test_clusters_keeping_their_root_in_different_directories(tmp_path):
    mixed = ca_roots(model("east", tmp_path / "a"), {}) + ca_roots(model("central", tmp_path / "b"), {})
    problems = ca_trust_problems(mixed)
    assert problems == [
        "mesh mesh-mp: its clusters keep their root CA in different directories (central: {0}, east: {1}), so each "
        "would get a root of its own and they would not trust each other. Fix: set multimesh_ca_dir once for all "
        "clusters of the mesh (a group variable).".format(tmp_path / "b" / "mesh-mp", tmp_path / "a" / "mesh-mp")]


def test_a_root_without_its_key_or_a_lost_intermediate(tmp_path, roots):
    """Each would make plugin_ca fail in the control-plane stage, after earlier stages changed the cluster."""
    keep_root(tmp_path, "mesh-mp", roots[0], key=False)
    assert ca_trust_problems(entries(tmp_path, {"east": {}, "central": {}})) == [
        "mesh mesh-mp: {0} holds root-cert.pem without root-key.pem, so no cluster can get an intermediate. Fix: "
        "restore root-key.pem from where the directory is kept; a new root would break the trust of the clusters that "
        "hold this one.".format(tmp_path / "mesh-mp")]
    keep_root(tmp_path, "mesh-mp", roots[0])
    keep_intermediate(tmp_path, "mesh-mp", "east", roots[1])  # any certificate stands for east's intermediate
    kept = {"east": {"mesh-mp": cacerts(roots[0], roots[1])}, "central": {}}
    assert ca_trust_problems(entries(tmp_path, kept)) == []
    (tmp_path / "mesh-mp" / "east" / "ca-cert.pem").unlink()
    assert ca_trust_problems(entries(tmp_path, kept)) == [
        "mesh mesh-mp: cluster east's secret istio-system-mp/cacerts holds an intermediate CA that {0} does not. Fix: "
        "restore that directory, or delete the secret to issue a new intermediate (then restart that istiod).".format(
            tmp_path / "mesh-mp" / "east")]


def test_no_new_root_while_a_cluster_of_the_mesh_is_outside_the_run(tmp_path, roots):
    """Tenant issue point 11: with --limit (or multimesh_target_hosts) the run sees only some clusters of a mesh; when
    the CA directory was lost, one left out may hold the root, and minting a new one would split the mesh's trust."""
    limited = entries(tmp_path, {"central": {}})  # east, outside the run, holds the root of the lost directory
    assert ca_trust_problems(limited) == [
        "mesh mesh-mp: {0} has no root CA, so this run would make a new one, but cluster(s) east of the mesh are not "
        "in this run (--limit, multimesh_target_hosts, or they failed before pre-flight) and may hold the mesh's root "
        "already: a new root would split the mesh's trust. Fix: run without --limit so that pre-flight reads every "
        "cluster of the mesh, or restore {0} (root-cert.pem, root-key.pem) from where it is kept.".format(
            tmp_path / "mesh-mp")]
    # Not for mesh-pr on a limit to its remote: west reports no CA mesh, and no entry of mesh-pr is made.
    assert ca_trust_problems(entries(tmp_path, {"west": {}})) == []
    # Every CA cluster in the run: a fresh mesh gets its root.
    assert ca_trust_problems(entries(tmp_path, {"east": {}, "central": {}})) == []
    # The directory holds the root: a limited run issues from it, as before.
    keep_root(tmp_path, "mesh-mp", roots[0])
    assert ca_trust_problems(entries(tmp_path, {"central": {}})) == []
    # A cluster in the run holds the root and the directory is lost: the existing check names it.
    (tmp_path / "mesh-mp" / "root-cert.pem").unlink()
    (tmp_path / "mesh-mp" / "root-key.pem").unlink()
    assert ca_trust_problems(entries(tmp_path, {"central": {"mesh-mp": cacerts(roots[0])}}))[0].startswith(
        "mesh mesh-mp: cluster central (secret istio-system-mp/cacerts) holds root")
