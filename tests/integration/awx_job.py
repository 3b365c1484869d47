"""A job as AWX runs it, through ansible-runner (AWX's engine), in AWX's layout: a private data dir with the project
checkout (project/), the collections its project sync installed from collections/requirements.yml
(requirements_collections/), the inventory AWX writes (an executable inventory/hosts), AWX's extra variables
(env/extravars) and the Kubernetes bearer-token credential as AWX injects it (K8S_AUTH_* in env/envvars)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import shutil
import subprocess
import sys

import yaml

from conftest import REPO

BIN = os.path.dirname(sys.executable)
DEPENDENCIES = os.path.join(REPO, "build", "collections", "ansible_collections", "kubernetes")


def _run(command, **kwargs):
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def _clean_env():
    """The job's process environment before AWX adds to it: none of this clone's Ansible or cluster settings."""
    return dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "MULTIMESH_")))


def project_sync(root):
    """What a project sync leaves: the collection as `ansible-galaxy collection install` puts it (from the tarball of
    this tree: its git repository is not reachable here) and, as a stock EE has it, kubernetes.core. Returns the
    collections path of the job."""
    built = os.path.join(root, "built")
    os.makedirs(built)
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", REPO, "--output-path", built], cwd=built,
         env=dict(_clean_env(), ANSIBLE_HOME=os.path.join(root, "home")))
    tarball = glob.glob(os.path.join(built, "multimesh-istio-*.tar.gz"))[0]
    installed = os.path.join(root, "requirements_collections")
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", installed, tarball],
         cwd=built, env=dict(_clean_env(), ANSIBLE_HOME=os.path.join(root, "home")))
    ee = os.path.join(root, "ee-collections", "ansible_collections")
    os.makedirs(ee)
    os.symlink(DEPENDENCIES, os.path.join(ee, "kubernetes"))
    return os.pathsep.join((installed, os.path.dirname(ee)))


def bearer_token(api, name):
    """A service account bound to cluster-admin (README: a first install creates CRDs and webhooks) and a token of it,
    as an AWX 'OpenShift or Kubernetes API Bearer Token' credential would hold."""
    from kubernetes import client

    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_service_account(name, {"metadata": {"name": name}})
    rbac.create_cluster_role_binding({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": name}]})
    return core.create_namespaced_service_account_token(name, name, {"spec": {"expirationSeconds": 3600}}).status.token


class Job(object):
    """A finished job: its status and rc as AWX records them, its stdout and events."""

    def __init__(self, directory):
        with open(os.path.join(directory, "status")) as handle:
            self.status = handle.read().strip()
        with open(os.path.join(directory, "rc")) as handle:
            self.rc = int(handle.read().strip())
        with open(os.path.join(directory, "stdout")) as handle:
            self.out = handle.read()
        self.events = []
        for path in sorted(glob.glob(os.path.join(directory, "job_events", "*.json"))):
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.raw_events = "\n".join(json.dumps(event) for event in self.events)

    def stats(self):
        """The playbook_on_stats event's data: what AWX stores as the job's artifacts and host summaries."""
        found = [e["event_data"] for e in self.events if e.get("event") == "playbook_on_stats"]
        assert len(found) == 1, [e.get("event") for e in self.events][-5:]
        return found[0]


def run_job(root, ident, playbook, collections_path, hosts, group_vars, extravars, credential, ca_file):
    """Run one job in AWX's layout under root (its private data dir) and return it.

    hosts: {host: hostvars} of group multimesh_clusters, written as AWX writes an inventory: an executable script at
    inventory/hosts. credential: (host, token) of the bearer-token credential; ca_file: its CA, copied as AWX writes
    a credential's file into the job's directory."""
    project = os.path.join(root, "project")
    if not os.path.isdir(project):
        # The project checkout: the repository's playbooks and ansible.cfg (its cwd during the job).
        # What runs from the clone leave there (another test module's, even while this copies) is not the project's.
        shutil.copytree(os.path.join(REPO, "playbooks"), os.path.join(project, "playbooks"),
                        ignore=shutil.ignore_patterns("multimesh-ca", "multimesh-verify", "*-artifact-*.json"))
        shutil.copy(os.path.join(REPO, "ansible.cfg"), project)
    for directory in ("inventory", "env"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    inventory = {"all": {"children": ["multimesh_clusters"]}, "_meta": {"hostvars": hosts},
                 "multimesh_clusters": {"hosts": sorted(hosts), "vars": group_vars}}
    script = os.path.join(root, "inventory", "hosts")
    with open(script, "w") as handle:
        handle.write("#! {0}\nimport json\nprint(json.dumps({1!r}))\n".format(sys.executable, inventory))
    os.chmod(script, 0o700)
    ca = os.path.join(root, "k8s-ca.crt")
    shutil.copy(ca_file, ca)
    envvars = {"ANSIBLE_COLLECTIONS_PATH": collections_path, "ANSIBLE_HOME": os.path.join(root, "home"),
               "ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_NOCOLOR": "1",
               "K8S_AUTH_HOST": credential[0], "K8S_AUTH_API_KEY": credential[1], "K8S_AUTH_VERIFY_SSL": "True",
               "K8S_AUTH_SSL_CA_CERT": ca}
    with open(os.path.join(root, "env", "envvars"), "w") as handle:
        yaml.safe_dump(envvars, handle)
    os.chmod(os.path.join(root, "env", "envvars"), 0o600)
    awx = {"awx_job_id": 42, "awx_job_template_name": ident, "awx_inventory_id": 7, "awx_inventory_name": "meshes",
           "awx_user_name": "admin", "awx_project_revision": "0" * 40}
    with open(os.path.join(root, "env", "extravars"), "w") as handle:
        yaml.safe_dump(dict(awx, **extravars), handle)
    runner = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", root, "-p", playbook, "--ident", ident],
                            env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            timeout=900, check=False)
    artifacts = os.path.join(root, "artifacts", ident)
    assert os.path.isfile(os.path.join(artifacts, "status")), "ansible-runner ran no job:\n" + runner.stdout
    return Job(artifacts)
