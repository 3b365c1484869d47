"""Real istioctl (built by the harness) against a second real API server: version, manifest generate, install and
uninstall of one revision from the IstioOperator the collection renders, and create-remote-secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time

import pytest
import yaml

from conftest import REPO, ansible_playbook, api_client, fresh_cluster, harness

RENDER_INVENTORY = os.path.join(REPO, "tests", "render", "inventories", "three-mesh-istioctl.yml")


@pytest.fixture(scope="module")
def second():
    """A second cluster beside the first: the istioctl backend's world, apart from the Sail tests."""
    with fresh_cluster("it-c2", 1100) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def istioctl():
    return os.path.join(harness.build(), "istioctl")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, second):
    out = tmp_path_factory.mktemp("render")
    run = ansible_playbook(second.kubeconfig, os.path.join(REPO, "playbooks", "site.yml"), "-i", RENDER_INVENTORY,
                           "-e", "multimesh_render_dir=" + str(out))
    assert run.rc == 0, run.out
    return out


def run(istioctl, *args, timeout=300):
    proc = subprocess.run([istioctl] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout


def test_version_is_the_pinned_build(istioctl):
    rc, out = run(istioctl, "version", "--remote=false")
    assert rc == 0, out
    assert out.strip() == "client version: {0}.{1}".format(harness.VERSIONS["istio_reported_version"], harness.VERSIONS["istio"].rsplit("-", 1)[-1])


def test_manifest_generate_uses_the_rendered_revision_and_selectors(istioctl, rendered):
    rc, out = run(istioctl, "manifest", "generate", "-f", str(rendered / "istioctl" / "20-control-plane-usergroup-2.yaml"))
    assert rc == 0, out
    objects = [o for o in yaml.safe_load_all(out) if o]
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert [(d["metadata"]["name"], d["metadata"]["namespace"]) for d in deployments] == [("istiod-usergroup-2", "usergroup-2")]
    mesh = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "istio-usergroup-2"]
    assert "usergroup: usergroup-2" in mesh[0]["data"]["mesh"]
    # The inventory's shared CNI is the one the mesh uses: the injector's values say so (istioctl's translation would
    # have overwritten values.pilot.cni; the IstioOperator carries it in unvalidatedValues), so injection adds
    # istio-validation, not the privileged istio-init.
    injector = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("istio-sidecar-injector")]
    assert json.loads(injector[0]["data"]["values"])["pilot"]["cni"]["enabled"] is True


def test_install_and_uninstall_one_revision(istioctl, rendered, second):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = api_client(second.kubeconfig)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespace({"metadata": {"name": "usergroup-2"}})
    iop = str(rendered / "istioctl" / "20-control-plane-usergroup-2.yaml")
    rc, out = run(istioctl, "install", "-y", "-f", iop, "--kubeconfig", second.kubeconfig, "--readiness-timeout", "3m")
    assert rc == 0, out
    assert apps.read_namespaced_deployment("istiod-usergroup-2", "usergroup-2").status.available_replicas == 1
    webhooks = sorted(w.metadata.name for w in client.AdmissionregistrationV1Api(api).list_mutating_webhook_configuration().items)
    # istioctl suffixes the injector with the namespace when istiod is not in istio-system, and creates a default
    # revision tag pointing at this revision even though nothing asked for it (istio/istio#57412): the istioctl
    # backend must deal with the latter.
    assert webhooks == ["istio-revision-tag-default-usergroup-2", "istio-sidecar-injector-usergroup-2-usergroup-2"]

    rc, secret = run(istioctl, "create-remote-secret", "--kubeconfig", second.kubeconfig, "--name", "it-c2",
                     "-i", "usergroup-2", "--server", second.server)
    assert rc == 0, secret
    docs = [d for d in yaml.safe_load_all(secret) if d and d["kind"] == "Secret"]
    assert docs[0]["metadata"]["name"] == "istio-remote-secret-it-c2"
    assert docs[0]["metadata"]["labels"]["istio/multiCluster"] == "true"
    assert docs[0]["metadata"]["annotations"]["networking.istio.io/cluster"] == "it-c2"

    # With this build `uninstall --revision usergroup-2` (also with -i usergroup-2) reports "No resources will be
    # pruned" and leaves istiod in place; uninstalling with the same IstioOperator file removes exactly this revision.
    rc, out = run(istioctl, "uninstall", "-y", "-f", iop, "--kubeconfig", second.kubeconfig)
    assert rc == 0, out

    def gone():
        try:
            apps.read_namespaced_deployment("istiod-usergroup-2", "usergroup-2")
        except ApiException as exc:
            return exc.status == 404
        return False

    deadline = time.time() + 60
    while not gone() and time.time() < deadline:
        time.sleep(1)
    assert gone(), "istiod-usergroup-2 still exists 60s after uninstall:\n" + out
