"""A real istiod (pilot-discovery, built from istio.io/istio) per installed mesh, for the test harness.

kwok fakes the pods of an istiod Deployment; no container runs. This runner starts, for each Deployment labelled
app=istiod (not scaled to zero), the real pilot-discovery as a local process against the harness API server, configured from what the
cluster holds - the way the Deployment would run it:
  - POD_NAMESPACE = the Deployment's namespace, REVISION = its istio.io/rev label and the plain `value` env entries
    of its container (the chart's settings); no mesh config file, so istiod reads and watches the mesh ConfigMap
    (istio-<revision>) itself, as in the chart - the runner only waits until that ConfigMap exists;
  - the plug-in CA from the namespace's `cacerts` Secret, where there is one, in ./etc/cacerts as the chart mounts it;
  - every listen address on its own loopback port;
  - an external istiod (its namespace holds the Secret istio-kubeconfig, which the chart mounts where KUBECONFIG
    points): that kubeconfig is its cluster, and the ConfigMap volumes it mounts from its own cluster (mesh config,
    injection template) are written where the chart mounts them, under its working directory. It also watches its
    own cluster's remote secrets in-cluster, as a pod: a token of its service account and the cluster's CA in
    /run/secrets/kubernetes.io/serviceaccount - a link to its own directory in a mount namespace of its own (unshare,
    which needs root, as on the CI machine) - and KUBERNETES_SERVICE_HOST/PORT.
The injector and validator are istiod's own: it reads istio-sidecar-injector-<revision> from the cluster and patches
the caBundle of its revision's webhook configurations. The API server reaches them through egress_proxy.py: this
runner writes the routes file that maps the istiod Service's ClusterIP and the istiod pod's IP to the local ports.
When the Deployment goes, its istiod is stopped.

Usage: python istiod_runner.py KUBECONFIG CLUSTER_DIR PILOT_DISCOVERY BASE_PORT ROUTES_FILE   (runs until killed)
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

# Per istiod: ports base + SLOT_SIZE * slot + offset; ten slots fit in a harness cluster's port range.
SLOTS, SLOT_SIZE = 10, 8
OFFSETS = {"http": 0, "grpc": 1, "secure-grpc": 2, "https": 3, "monitoring": 4, "ctrlz": 5}
# Container port of istiod -> which local listener serves it.
POD_PORTS = {8080: "http", 15010: "grpc", 15012: "secure-grpc", 15017: "https", 15014: "monitoring"}
SERVICE_PORTS = {443: "https", 15010: "grpc", 15012: "secure-grpc", 15017: "https", 15014: "monitoring"}
# Where rest.InClusterConfig looks (fixed paths): a tmpfs /run of istiod's own, linking to its service account dir.
AS_A_POD = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io && '
            'ln -s "$0" /run/secrets/kubernetes.io/serviceaccount && exec "$@"']
# Set by the runner itself, whatever the Deployment says.
OWN_ENV = ("POD_NAME", "POD_NAMESPACE", "REVISION", "KUBECONFIG", "SERVICE_ACCOUNT")


def log(message):
    sys.stderr.write("istiod-runner: {0}\n".format(message))
    sys.stderr.flush()


def write_if_changed(path, content, mode=0o644):
    try:
        with open(path) as handle:
            if handle.read() == content:
                return False
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        handle.write(content)
    os.replace(tmp, path)
    return True


class Istiod(object):
    def __init__(self, runner, namespace, revision, slot):
        self.runner, self.namespace, self.revision, self.slot = runner, namespace, revision, slot
        self.dir = os.path.join(runner.cluster_dir, "istiods", "{0}-{1}".format(namespace, revision))
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)

    def port(self, name):
        return self.runner.base_port + SLOT_SIZE * self.slot + OFFSETS[name]

    def address(self, name):
        return "127.0.0.1:{0}".format(self.port(name))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, deployment, pod_name, kubeconfig):
        """kubeconfig: the cluster's, or an external istiod's config cluster (see Runner._files)."""
        container = deployment.spec.template.spec.containers[0]
        env = dict(os.environ)
        # A value "" comes back as None (omitempty); a pod gets it set, empty (e.g. INJECTION_WEBHOOK_CONFIG_NAME).
        env.update({e.name: e.value or "" for e in container.env or [] if e.value_from is None and e.name not in OWN_ENV})
        env.update(POD_NAME=pod_name, POD_NAMESPACE=self.namespace, REVISION=self.revision,
                   KUBECONFIG=kubeconfig, SERVICE_ACCOUNT=deployment.spec.template.spec.service_account_name or "istiod")
        mesh_file = os.path.join(self.dir, "etc", "istio", "config", "mesh")
        # Without a mesh file (--meshConfig names one that does not exist) istiod reads the mesh ConfigMap.
        args = [self.runner.pilot, "discovery", "--kubeconfig", kubeconfig, "--namespace", self.namespace,
                "--meshConfig", mesh_file if os.path.exists(mesh_file) else os.path.join(self.dir, "no-mesh-file"),
                "--networksConfig", os.path.join(self.dir, "no-networks-file"),
                "--clusterID", env.get("CLUSTER_ID") or "Kubernetes",
                "--keepaliveMaxServerConnectionAge", "30m", "--shutdownDuration", "1s",
                "--httpAddr", self.address("http"), "--grpcAddr", self.address("grpc"),
                "--secureGRPCAddr", self.address("secure-grpc"), "--httpsAddr", self.address("https"),
                "--monitoringAddr", self.address("monitoring"), "--ctrlz_address", "127.0.0.1",
                "--ctrlz_port", str(self.port("ctrlz")), "--domain", "cluster.local", "--log_output_level", "default:info"]
        if kubeconfig != self.runner.kubeconfig:  # an external istiod: its own cluster in-cluster, as a pod
            env.update(self.runner.service_account(self, env["SERVICE_ACCOUNT"]))
            args = AS_A_POD + [os.path.join(self.dir, "serviceaccount")] + args
        logfile = open(os.path.join(self.dir, "istiod.log"), "ab")
        # The working directory holds ./etc/cacerts and istiod's own ./var/run/secrets; without an injection template
        # file (./var/lib/istio/inject, an external istiod's) istiod reads the injector ConfigMap of its revision.
        self.proc = subprocess.Popen(args, cwd=self.dir, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        with open(os.path.join(self.dir, "pid"), "w") as handle:
            handle.write(str(self.proc.pid))
        log("started istiod {0}/{1} (pid {2}, ports {3}-{4})".format(
            self.namespace, self.revision, self.proc.pid, self.port("http"), self.port("ctrlz")))

    def stop(self, wait=True):
        if self.running():
            os.killpg(self.proc.pid, signal.SIGTERM)
            if wait:
                self.wait_stopped()

    def wait_stopped(self):
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            log("stopped istiod {0}/{1}".format(self.namespace, self.revision))
            try:
                os.remove(os.path.join(self.dir, "pid"))
            except OSError:
                pass
        self.proc = None


class Runner(object):
    def __init__(self, kubeconfig, cluster_dir, pilot, base_port, routes_file):
        self.kubeconfig, self.cluster_dir, self.pilot = kubeconfig, cluster_dir, pilot
        self.base_port, self.routes_file = int(base_port), routes_file
        config.load_kube_config(config_file=kubeconfig)
        self.core, self.apps, self.custom = client.CoreV1Api(), client.AppsV1Api(), client.CustomObjectsApi()
        self.istiods = {}

    def service_account(self, istiod, name):
        """A pod's service account files for istiod (token, CA, namespace) in <its dir>/serviceaccount, and the
        environment that names the API server."""
        target = os.path.join(istiod.dir, "serviceaccount")
        os.makedirs(target, exist_ok=True)
        token = self.core.create_namespaced_service_account_token(
            name, istiod.namespace, {"spec": {"expirationSeconds": 43200}}).status.token
        write_if_changed(os.path.join(target, "token"), token, 0o600)
        server = client.Configuration.get_default_copy()
        with open(server.ssl_ca_cert) as handle:
            write_if_changed(os.path.join(target, "ca.crt"), handle.read())
        write_if_changed(os.path.join(target, "namespace"), istiod.namespace)
        host, port = server.host.split("//", 1)[1].rsplit(":", 1)
        return {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}

    def _slot(self):
        used = set(i.slot for i in self.istiods.values())
        free = [slot for slot in range(SLOTS) if slot not in used]
        if not free:
            raise RuntimeError("more than {0} istiods in one harness cluster".format(SLOTS))
        return free[0]

    def _read(self, what, *args):
        try:
            return what(*args)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _files(self, istiod, deployment):
        """The kubeconfig istiod uses, after writing the plug-in CA files (and an external istiod's mounted
        ConfigMaps) from the cluster; None while the mesh ConfigMap is not there yet."""
        name = "istio" if istiod.revision == "default" else "istio-" + istiod.revision
        mesh = self._read(self.core.read_namespaced_config_map, name, istiod.namespace)
        if mesh is None or "mesh" not in (mesh.data or {}):
            return None
        kubeconfig = self.kubeconfig
        remote = self._read(self.core.read_namespaced_secret, "istio-kubeconfig", istiod.namespace)
        if remote is not None and "config" in (remote.data or {}):
            kubeconfig = os.path.join(istiod.dir, "remote-kubeconfig")
            write_if_changed(kubeconfig, base64.b64decode(remote.data["config"]).decode(), 0o600)
            self._config_map_mounts(istiod, deployment)
        cacerts = self._read(self.core.read_namespaced_secret, "cacerts", istiod.namespace)
        if cacerts is not None:
            certdir = os.path.join(istiod.dir, "etc", "cacerts")
            os.makedirs(certdir, exist_ok=True)
            for key, value in (cacerts.data or {}).items():
                write_if_changed(os.path.join(certdir, key), base64.b64decode(value).decode(), 0o600)
        return kubeconfig

    def _config_map_mounts(self, istiod, deployment):
        """The ConfigMap volumes of istiod's container, from this cluster, at their mount paths under its directory."""
        spec = deployment.spec.template.spec
        config_maps = dict((v.name, v.config_map.name) for v in spec.volumes or [] if v.config_map is not None)
        for mount in spec.containers[0].volume_mounts or []:
            if mount.name in config_maps:
                found = self._read(self.core.read_namespaced_config_map, config_maps[mount.name], istiod.namespace)
                target = os.path.join(istiod.dir, mount.mount_path.lstrip("/"))
                os.makedirs(target, exist_ok=True)
                for key, value in ((found.data or {}) if found is not None else {}).items():
                    write_if_changed(os.path.join(target, key), value)

    def _routes(self, istiod, pods):
        routes = {}
        service = self._read(self.core.read_namespaced_service,
                             "istiod" if istiod.revision == "default" else "istiod-" + istiod.revision, istiod.namespace)
        if service is not None and service.spec.cluster_ip not in (None, "None"):
            for port in service.spec.ports or []:
                if port.port in SERVICE_PORTS:
                    routes["{0}:{1}".format(service.spec.cluster_ip, port.port)] = istiod.address(SERVICE_PORTS[port.port])
        for pod in pods:
            if pod.status.pod_ip:
                for port, name in POD_PORTS.items():
                    routes["{0}:{1}".format(pod.status.pod_ip, port)] = istiod.address(name)
        return routes

    def _port_forward(self, istiod, pod):
        """kwok's PortForward for the istiod pod: `kubectl port-forward` to it reaches the local istiod, from
        localhost as in a real pod (istiod's debug endpoints answer localhost without credentials)."""
        body = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
                "metadata": {"name": pod.metadata.name, "namespace": istiod.namespace, "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name, "uid": pod.metadata.uid}]},
                "spec": {"forwards": [{"ports": [port], "target": {"address": "127.0.0.1", "port": istiod.port(name)}}
                                      for port, name in sorted(POD_PORTS.items())]}}
        current = self._read(self.custom.get_namespaced_custom_object, "kwok.x-k8s.io", "v1alpha1", istiod.namespace,
                             "portforwards", pod.metadata.name)
        if current is None:
            self.custom.create_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", istiod.namespace, "portforwards", body)
        elif current.get("spec") != body["spec"]:
            self.custom.patch_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", istiod.namespace, "portforwards",
                                                       pod.metadata.name, {"spec": body["spec"]})

    def reconcile(self):
        routes, seen = {}, set()
        for deployment in self.apps.list_deployment_for_all_namespaces(label_selector="app=istiod").items:
            if deployment.metadata.deletion_timestamp or deployment.spec.replicas == 0:
                continue  # going, or scaled to zero: no pod would run it
            namespace = deployment.metadata.namespace
            revision = (deployment.metadata.labels or {}).get("istio.io/rev") or "default"
            key = (namespace, revision)
            seen.add(key)
            istiod = self.istiods.get(key)
            if istiod is None:
                istiod = self.istiods[key] = Istiod(self, namespace, revision, self._slot())
            kubeconfig = self._files(istiod, deployment)
            if kubeconfig is None:
                continue
            pods = [p for p in self.core.list_namespaced_pod(
                namespace, label_selector="app=istiod,istio.io/rev={0}".format(revision)).items
                if not p.metadata.deletion_timestamp]
            if not istiod.running():
                name = pods[0].metadata.name if pods else deployment.metadata.name + "-local"
                istiod.start(deployment, name, kubeconfig)
            routes.update(self._routes(istiod, pods))
            for pod in pods:
                self._port_forward(istiod, pod)
        for key in [k for k in self.istiods if k not in seen]:
            self.istiods.pop(key).stop()
        write_if_changed(self.routes_file, json.dumps(routes, indent=2, sort_keys=True))

    def stop_all(self, *args):
        # All at once: the harness gives the whole cluster 5 seconds to stop.
        for istiod in self.istiods.values():
            istiod.stop(wait=False)
        for istiod in self.istiods.values():
            istiod.wait_stopped()
        sys.exit(0)


def main(argv):
    runner = Runner(*argv)
    signal.signal(signal.SIGTERM, runner.stop_all)
    while True:
        try:
            runner.reconcile()
        except ApiException as exc:
            log("{0} {1}".format(exc.status, exc.reason))
        except OSError as exc:
            log(str(exc))
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1:])
