"""The Sail backend end to end against the real Sail Operator and a real istiod for each istiod Deployment it renders
(istiod_runner.py): what the operator wrote (status, the istiod Deployment and webhooks from its charts), real sidecar
injection of the samples by each mesh's own istiod, and the verification - injector, sidecar binding, roots of trust
and discovery scope pass; connectivity is inconclusive (no pod network) and real istioctl finds no proxy connected (no
Envoy runs under kwok). A sample opted out of injection behind the collection's back fails the samples' own check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest

from conftest import REPO, ansible_playbook, api_client, fresh_cluster, harness, read_report, wait_for

INVENTORY = os.path.join(REPO, "tests", "render", "inventories", "two-mesh.yml")
MESHES = {"mesh-1": ("istio-system-1", ["app-ns-1"]), "mesh-2": ("istio-system-2", ["app-ns-2", "app-ns-3"])}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with fresh_cluster("it-c7", 1600, sail=True, istiods=True) as cluster:
        site = ansible_playbook(cluster.kubeconfig, os.path.join(REPO, "playbooks", "site.yml"), "-i", INVENTORY,
                                "-e", json.dumps({"multimesh_verify": False}))
        assert site.rc == 0, site.out
        from kubernetes import client

        api = api_client(cluster.kubeconfig)
        core = client.CoreV1Api(api)
        wait_for("mesh-2's istiod to write its root into app-ns-3", lambda: any(
            c.metadata.name == "istio-ca-root-cert" for c in core.list_namespaced_config_map("app-ns-3").items), 60)
        report_dir = tmp_path_factory.mktemp("report")
        run = ansible_playbook(cluster.kubeconfig, os.path.join(REPO, "playbooks", "verify.yml"), "-i", INVENTORY,
                               "-e", "multimesh_istioctl_path=" + os.path.join(harness.build(), "istioctl"),
                               "-e", json.dumps({"multimesh_verify_report_dir": str(report_dir)}))
        yield {"api": api, "run": run, "report": read_report(report_dir), "kubeconfig": cluster.kubeconfig}


def conditions(obj):
    return dict((c["type"], (c["status"], c.get("reason"))) for c in obj["status"]["conditions"])


def test_the_operator_reports_each_istio_its_revision_and_the_cni_healthy(world):
    from kubernetes import client

    custom = client.CustomObjectsApi(world["api"])
    for name, (namespace, dummy) in MESHES.items():
        istio = custom.get_cluster_custom_object("sailoperator.io", "v1", "istios", name)
        assert istio["status"]["state"] == "Healthy" and istio["status"]["activeRevisionName"] == name, istio["status"]
        assert istio["status"]["observedGeneration"] == istio["metadata"]["generation"]
        assert conditions(istio) == {"Reconciled": ("True", "Reconciled"), "Ready": ("True", "Ready"),
                                     "DependenciesHealthy": ("True", "DependenciesHealthy")}, istio["status"]
        revision = custom.get_cluster_custom_object("sailoperator.io", "v1", "istiorevisions", name)
        assert [(r["kind"], r["name"]) for r in revision["metadata"]["ownerReferences"]] == [("Istio", name)]
        assert revision["spec"]["namespace"] == namespace and revision["spec"]["version"] == istio["spec"]["version"]
        # The member namespaces' istio.io/rev and the injected samples use it.
        assert conditions(revision)["InUse"] == ("True", "ReferencedByWorkloads"), revision["status"]
    cni = custom.get_cluster_custom_object("sailoperator.io", "v1", "istiocnis", "default")
    assert cni["status"]["state"] == "Healthy" and conditions(cni)["Ready"] == ("True", "Ready"), cni["status"]
    daemonset = client.AppsV1Api(world["api"]).read_namespaced_daemon_set("istio-cni-node", cni["spec"]["namespace"])
    assert daemonset.metadata.owner_references[0].kind == "IstioCNI"


def test_the_operator_renders_each_meshs_istiod_and_webhooks_from_its_charts(world):
    from kubernetes import client

    apps, admission = client.AppsV1Api(world["api"]), client.AdmissionregistrationV1Api(world["api"])
    for name, (namespace, dummy) in MESHES.items():
        istiod = apps.read_namespaced_deployment("istiod-" + name, namespace)
        assert istiod.metadata.labels["app"] == "istiod" and istiod.metadata.labels["istio.io/rev"] == name
        assert [(r.kind, r.name) for r in istiod.metadata.owner_references] == [("IstioRevision", name)]
        injector = admission.read_mutating_webhook_configuration("istio-sidecar-injector-{0}-{1}".format(name, namespace))
        # istiod (the real one the runner started) patched its CA into the operator's webhook; the operator kept it.
        assert all(w.client_config.ca_bundle for w in injector.webhooks), injector.metadata.name
        assert all(w.client_config.service.name == "istiod-" + name and w.client_config.service.namespace == namespace
                   for w in injector.webhooks)
        assert admission.read_validating_webhook_configuration("istio-validator-{0}-{1}".format(name, namespace))


def test_every_sample_is_injected_by_its_own_meshs_istiod(world):
    from kubernetes import client

    report, checks = world["report"]
    core = client.CoreV1Api(world["api"])
    for name, (dummy, members) in MESHES.items():
        assert checks["injector " + name]["status"] == "pass", checks["injector " + name]
        # Real istioctl reaches the real istiod, which serves no proxy (no Envoy runs under kwok): each pod is missing.
        mapping = checks["control-plane mapping " + name]
        assert mapping["status"] == "fail" and mapping["reason"].startswith("istiod of {0} serves no proxy of ".format(name))
        assert len(mapping["evidence"]["missing"]) == 2 * len(members), mapping
        for member in members:
            pods = core.list_namespaced_pod(member).items
            assert sorted(p.metadata.labels["app"] for p in pods) == ["httpbin", "sleep"], member
            for pod in pods:
                assert pod.metadata.annotations["istio.io/rev"] == name, pod.metadata.name
                assert "istio-proxy" in [c.name for c in pod.spec.containers], pod.metadata.name
                # The shared CNI is the one the mesh uses (the operator counts it as a dependency): no istio-init.
                assert [c.name for c in pod.spec.init_containers or []] == ["istio-validation"], pod.metadata.name
                assert checks["binding {0}/{1}".format(member, pod.metadata.name)]["status"] == "pass"
    assert report["passed"] is False


def test_real_istiods_distribute_roots_and_discover_only_their_mesh(world):
    report, checks = world["report"]
    for name, (namespace, members) in MESHES.items():
        assert checks["discovery scope " + name]["status"] == "pass", checks["discovery scope " + name]
        assert checks["discovery scope " + name]["evidence"]["seen"] == sorted(members + [namespace])
        for member in members:
            assert checks["root of trust " + member]["status"] == "pass", checks["root of trust " + member]
    # Only what the harness cannot give fails: the probes (no pod network) and the proxies' connections (no Envoy).
    assert world["run"].rc != 0 and report["failed"], report
    probes = [name for name in report["failed"] if name.startswith("connectivity ")]
    assert all("inconclusive" in checks[name]["reason"] for name in probes) and len(probes) == 9, report["failed"]
    assert sorted(set(report["failed"]) - set(probes)) == ["control-plane mapping " + name for name in sorted(MESHES)]


def test_a_sample_opted_out_of_injection_fails_the_samples_check_naming_its_pod(world):
    """Someone labels a sample's pods sidecar.istio.io/inject=false (another field manager: the samples' apply keeps
    it): the pods come back without a sidecar, and the samples role names them."""
    from kubernetes import client

    apps = client.AppsV1Api(world["api"])
    apps.patch_namespaced_deployment("httpbin", "app-ns-1", {"spec": {"template": {"metadata": {
        "labels": {"sidecar.istio.io/inject": "false"}}}}})
    wait_for("httpbin of app-ns-1 rolled out without a sidecar", lambda: [
        [c.name for c in p.spec.containers] for p in client.CoreV1Api(world["api"]).list_namespaced_pod(
            "app-ns-1", label_selector="app=httpbin").items if not p.metadata.deletion_timestamp] == [["httpbin"]], 60)
    run = ansible_playbook(world["kubeconfig"], os.path.join(REPO, "playbooks", "site.yml"), "-i", INVENTORY,
                           "-e", json.dumps({"multimesh_verify": False}), "--tags", "samples")
    assert run.rc != 0, run.out
    assert re.search(r"pod app-ns-1/httpbin-[a-z0-9]+-[a-z0-9]+ has no sidecar: injection did not happen", run.out), run.out
    assert not re.search(r"pod app-ns-(2|3)/|pod app-ns-1/sleep", run.out[run.out.index("has no sidecar"):].split("\n")[0])
