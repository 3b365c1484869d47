"""A real kube-apiserver (+ etcd, controller-manager, scheduler, kwok) for the integration tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

import harness  # noqa: E402  pylint: disable=wrong-import-position

# pytest-xdist runs test modules on two workers (scripts/test.sh): each module's own clusters have ports of their own
# (fresh_cluster offsets); what a session shares is kept apart per worker.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0


class Run(object):
    def __init__(self, rc, out):
        self.rc, self.out = rc, out

    def recap(self):
        match = re.search(r"\s: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", self.out)
        assert match, self.out
        return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))

    def recaps(self):
        """{host: {ok, changed, failed}} of a play on several hosts."""
        return dict((host, dict(zip(("ok", "changed", "failed"), map(int, found)))) for host, *found in re.findall(
            r"(\w+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", self.out))


def ansible_playbook(kubeconfig, playbook, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               K8S_AUTH_KUBECONFIG=kubeconfig, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_SHOW_CUSTOM_STATS="1")
    env.pop("MULTIMESH_RENDER_DIR", None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook] + list(args)
    proc = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    return Run(proc.returncode, proc.stdout)


# ------------------------------------------------------------------ several clusters, one inventory

def write_inventory(path, hosts, variables):
    """An inventory file of cluster hosts (group multimesh_clusters); returns its path."""
    path.write_text(yaml.safe_dump({"multimesh_clusters": {"hosts": hosts, "vars": dict(
        {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}, **variables)}}))
    return str(path)


def play(inventory, name, *args):
    """A playbook of the collection on an inventory whose hosts each reach their own cluster: K8S_AUTH_KUBECONFIG
    names none of them."""
    return ansible_playbook(os.devnull, os.path.join(REPO, "playbooks", name), "-i", inventory, *args)


def write_marks(clusters):
    """{cluster: position in its audit log}, to count the write requests that follow."""
    return dict((name, cluster.write_requests()[0]) for name, cluster in clusters.items())


def writes_since(clusters, marks):
    return dict((name, clusters[name].write_requests(marks[name])[1]) for name in clusters)


def remote_secrets(api, namespace):
    """{name: secret} of the remote secrets (label istio/multiCluster=true) in a namespace."""
    from kubernetes import client

    return dict((s.metadata.name, s) for s in client.CoreV1Api(api).list_namespaced_secret(
        namespace, label_selector="istio/multiCluster=true").items)


@pytest.fixture(scope="session")
def cluster():
    """One cluster for the session, with the real Sail Operator and its CRDs (Sail's and Istio's)."""
    # Apart from the ports of a cluster a developer started by hand with harness.py up, and from the modules'
    # own clusters (offsets 1100-2999): one per xdist worker.
    clusters = [harness.Cluster("it-c1" + ("-" + WORKER if WORKER_INDEX else ""), harness.BASE_PORT + 1000 + 3000 * WORKER_INDEX)]
    clusters[0].up(fresh=True, sail=True)
    yield clusters[0]
    for item in clusters:
        item.down()


@pytest.fixture(scope="session")
def kube(cluster):
    return api_client(cluster.kubeconfig)


def api_client(kubeconfig):
    """A kubernetes ApiClient with the admin access of a harness kubeconfig."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return client.ApiClient(configuration)


@contextlib.contextmanager
def fresh_cluster(name, offset, **components):
    """A harness cluster of its own for one test module, at BASE_PORT + offset, stopped when the module is done.
    components: sail=True (the real Sail Operator and its CRDs) and/or istiods=True (a real istiod per istiod
    Deployment)."""
    started = harness.Cluster(name, harness.BASE_PORT + offset)
    started.up(fresh=True, **components)
    try:
        yield started
    finally:
        started.down()


def read_report(report_dir):
    """(report.json as data, {check name: check}) of a verification run."""
    with open(os.path.join(str(report_dir), "report.json")) as handle:
        report = json.load(handle)
    return report, {c["name"]: c for c in report["checks"]}


def wait_for(what, condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for " + what)


def delete_namespace(core, name, timeout=60):
    """Delete a namespace a test made and wait until it is gone: a Terminating namespace still exists, and the next
    test's pre-flight would read its labels."""
    from kubernetes.client.rest import ApiException

    core.delete_namespace(name)

    def gone():
        try:
            core.read_namespace(name)
        except ApiException as error:
            if error.status == 404:
                return True
            raise
        return False
    wait_for("namespace {0} to be deleted".format(name), gone, timeout)


# ------------------------------------------------------------------ canary upgrades (test_revision_based, test_canary_istioctl)

def deploy_web(api, namespace):
    """A two-replica Deployment web, which the mesh's tag injects."""
    from kubernetes import client

    labels = {"app": "web"}
    client.AppsV1Api(api).create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "web"}]}}}})


def injected(api, namespace, selector="app=web"):
    """{pod: the revision its injector recorded (istio.io/rev annotation), '' before injection} of the running pods."""
    from kubernetes import client

    return dict((p.metadata.name, (p.metadata.annotations or {}).get("istio.io/rev", "")) for p in client.CoreV1Api(
        api).list_namespaced_pod(namespace, label_selector=selector).items if not p.metadata.deletion_timestamp)


def upgrade(inventory, *args):
    """upgrade.yml on mesh blue; args are extra variables (name=value) or options (--check)."""
    extra = []
    for arg in args:
        extra += [arg] if arg.startswith("--") else ["-e", arg]
    return play(inventory, "upgrade.yml", "-e", "upgrade_mesh=blue", "-e", "upgrade_poll=1", *extra)
