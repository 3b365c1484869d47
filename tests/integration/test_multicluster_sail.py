"""playbooks/site.yml and cleanup.yml with the Sail backend on two real API servers, each with the real Sail Operator:
every part a cluster can play - primary and remote (primary-remote), external and config (external control plane)
- as Istio resources, with the remote secrets between them. Converge, zero writes on a second run and in check mode,
and cleanup that leaves nothing of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json

import pytest
import yaml

from conftest import (api_client, fresh_cluster, play, remote_secrets, write_inventory, write_marks,
                      writes_since)

CLUSTERS = (("east", 2300), ("west", 2400))
MESHES = [
    {"name": "mesh-pr", "namespace": "istio-system-pr", "members": [{"name": "app-pr", "owned": True}],
     "topology": "primary-remote",
     "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"}, {"name": "west", "role": "remote"}]},
    {"name": "mesh-ext", "namespace": "external-istiod", "members": [{"name": "app-ext", "owned": True}],
     "topology": "external",
     "clusters": [{"name": "west", "role": "external", "address": "192.0.2.30"}, {"name": "east", "role": "config"}]},
]


@pytest.fixture(scope="module")
def clusters():
    with contextlib.ExitStack() as stack:
        started = dict((name, stack.enter_context(fresh_cluster("it-mcs-" + name, offset, sail=True)))
                       for name, offset in CLUSTERS)
        yield started


@pytest.fixture(scope="module")
def apis(clusters):
    return dict((name, api_client(cluster.kubeconfig)) for name, cluster in clusters.items())


@pytest.fixture(scope="module")
def inventory(clusters, tmp_path_factory):
    work = tmp_path_factory.mktemp("multicluster-sail")
    hosts = dict((name, {"multimesh_kubeconfig": clusters[name].ansible_kubeconfig, "multimesh_network": "network-1"})
                 for name, dummy in CLUSTERS)
    return write_inventory(work / "multicluster-sail.yml", hosts, {
        "multimesh_backend": "sail", "multimesh_cni": {"enabled": False}, "multimesh_meshes": MESHES,
        # No istiod runs here (the remote's injector calls the primary's address): samples and verification across
        # clusters are proven with istioctl (test_multicluster.py), single-cluster Sail injection in test_verify_sail.py.
        "multimesh_samples": [], "multimesh_verify": False, "multimesh_ca_dir": str(work / "ca")})


def istios(api):
    from kubernetes import client

    return dict((i["metadata"]["name"], i) for i in client.CustomObjectsApi(api).list_cluster_custom_object(
        "sailoperator.io", "v1", "istios")["items"])


@pytest.fixture(scope="module")
def converged(inventory, clusters):
    before = write_marks(clusters)
    check = play(inventory, "site.yml", "--check")
    assert check.rc == 0, check.out
    assert writes_since(clusters, before) == {"east": [], "west": []}
    run = play(inventory, "site.yml")
    assert run.rc == 0, run.out
    return run


def test_each_cluster_gets_its_part_as_istio_resources(converged, apis):
    east, west = istios(apis["east"]), istios(apis["west"])
    assert sorted(east) == ["mesh-ext", "mesh-pr"] and sorted(west) == ["mesh-ext", "mesh-pr"]
    assert east["mesh-pr"]["spec"].get("profile") is None and west["mesh-pr"]["spec"]["profile"] == "remote"
    assert east["mesh-ext"]["spec"]["profile"] == "remote" and west["mesh-ext"]["spec"]["profile"] == "empty"
    assert east["mesh-ext"]["spec"]["values"]["global"]["configCluster"] is True
    assert west["mesh-pr"]["spec"]["values"]["global"]["remotePilotAddress"] == "192.0.2.10"
    assert west["mesh-ext"]["spec"]["values"]["global"]["multiCluster"] == {"clusterName": "east"}
    # Stage 22 waited for the external istiod: Ready.
    ready = [c for c in west["mesh-ext"]["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"
    assert "22-external-control-plane" in converged.out


def test_remote_secrets_go_where_the_istiods_read(converged, apis):
    assert sorted(remote_secrets(apis["east"], "istio-system-pr")) == ["istio-remote-secret-west"]
    # The config secret was made for the istiod account Sail created on the config cluster (awaited, not raced).
    config = remote_secrets(apis["west"], "external-istiod")
    assert sorted(config) == ["istio-kubeconfig"]
    kubeconfig = yaml.safe_load(base64.b64decode(config["istio-kubeconfig"].data["config"]))
    token = kubeconfig["users"][0]["user"]["token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==").decode("utf-8"))
    assert claims["sub"] == "system:serviceaccount:external-istiod:istiod-mesh-ext"


def test_second_run_and_check_mode_write_nothing(converged, inventory, clusters):
    before = write_marks(clusters)
    again = play(inventory, "site.yml")
    assert again.rc == 0, again.out
    assert all(r["changed"] == 0 for r in again.recaps().values()), again.out
    check = play(inventory, "site.yml", "--check", "--diff")
    assert check.rc == 0, check.out
    assert writes_since(clusters, before) == {"east": [], "west": []}


def test_cleanup_removes_every_part(converged, inventory, apis):
    run = play(inventory, "cleanup.yml")
    assert run.rc == 0, run.out
    for name in ("east", "west"):
        assert istios(apis[name]) == {}, name
        assert [s for ns in ("istio-system-pr", "external-istiod") for s in remote_secrets(apis[name], ns)] == [], name
    again = play(inventory, "cleanup.yml")
    assert again.rc == 0, again.out
    assert all(r["changed"] == 0 for r in again.recaps().values()), again.out
