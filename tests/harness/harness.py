"""Real Kubernetes control planes on loopback for the integration tests, built from upstream Go modules.

  python tests/harness/harness.py build                 build (or reuse) the binaries
  python tests/harness/harness.py up [--name c1 ...]    start a cluster; idempotent; prints its kubeconfig path
  python tests/harness/harness.py down [--name c1 ...]  stop it by the PIDs it recorded
  python tests/harness/harness.py env                   print the versions and paths

Each cluster is etcd + kube-apiserver + kube-controller-manager + kube-scheduler (one binary, tests/harness/kube)
and kwok (sigs.k8s.io/kwok), which fakes one node and the status of the pods on it so that Deployments become
Available and DaemonSets ready without containers. Nothing here fakes the Kubernetes API itself.
With --sail it also runs the real Sail Operator, built from its source (sail_operator_source(): the project's
../shared/sail-operator snapshot, MULTIMESH_SAIL_OPERATOR_SRC, or what scripts/fetch-sail-operator.sh downloads), with
the CRDs of that source; with --istiods a real istiod per istiod Deployment (istiod_runner.py).
Versions are pinned in tests/harness/versions.json; Go caches and binaries live under MULTIMESH_HARNESS_CACHE
(default ~/.cache/multimesh-harness) so a warm start takes seconds.
"""

import argparse
import base64
import datetime
import glob
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
with open(os.path.join(HERE, "versions.json")) as _handle:
    VERSIONS = json.load(_handle)
CACHE = os.environ.get("MULTIMESH_HARNESS_CACHE", os.path.expanduser("~/.cache/multimesh-harness"))
STATE = os.environ.get("MULTIMESH_HARNESS_DIR", os.path.join(REPO, "build", "harness"))
# Offsets from a cluster's base port (its API server's port).
# istiods: the first of the local istiods' ports (8 per istiod, up to 10 istiods per cluster).
PORTS = {"kube-apiserver": 0, "etcd-client": 1, "etcd-peer": 2, "kube-controller-manager": 3, "kube-scheduler": 4, "kwok": 5,
         "sail-operator-metrics": 6, "sail-operator-health": 7, "istiods": 10}
COMPONENTS = ("egress", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
# Optional: the real Sail Operator and one real istiod per istiod Deployment (istiod_runner.py), as local processes.
OPTIONAL = ("sail-operator", "istiods")
PYTHON_COMPONENTS = {"egress": "egress_proxy.py", "istiods": "istiod_runner.py"}
# Where the Sail Operator keeps the Helm release of its base chart (the chart's POD_NAMESPACE).
SAIL_NAMESPACE = "sail-operator"
# The Sail Operator's source: its go.mod pins modules the proxy refuses; these are served (../shared/sail-operator's
# SNAPSHOT.md), hence also GONOSUMDB.
SAIL_SOURCE_ENV = "MULTIMESH_SAIL_OPERATOR_SRC"
SAIL_GONOSUMDB = "istio.io/api,istio.io/client-go,istio.io/istio,github.com/envoyproxy/go-control-plane,github.com/agentgateway"
SERVICE_CIDR = "10.96.0.0/16"
# Below the kernel's ephemeral range (usually 32768-60999), where outgoing connections could hold our ports.
BASE_PORT = int(os.environ.get("MULTIMESH_HARNESS_PORT", "16443"))
NODE_NAME = "kwok-node-0"
# kwok's own resources that the harness serves from the API server (their CRDs come with the kwok module).
KWOK_CRDS = ("PortForward",)
# Packages of istio.io/istio built into the harness; `go install` names each binary after its package.
ISTIO_PACKAGES = ("istioctl/cmd/istioctl", "pilot/cmd/pilot-discovery")
ISTIO_BINARIES = tuple(package.rsplit("/", 1)[-1] for package in ISTIO_PACKAGES)


def log(message):
    sys.stderr.write("harness: {0}\n".format(message))
    sys.stderr.flush()


def _record_event(event, **fields):
    """One line for the test-time table (tests/conftest.py), when a timed test session asks for it."""
    path = os.environ.get("MULTIMESH_TEST_EVENTS")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(dict(fields, event=event)) + "\n")


# ---------------------------------------------------------------- build

def _build_inputs_digest():
    digest = hashlib.sha256(json.dumps(VERSIONS, sort_keys=True).encode())
    for name in ("go.mod", "go.sum", "main.go"):
        with open(os.path.join(HERE, "kube", name), "rb") as handle:
            digest.update(handle.read())
    digest.update(subprocess.run(["go", "version"], stdout=subprocess.PIPE, check=True).stdout)
    return digest.hexdigest()[:16]


def go_env():
    env = dict(os.environ, GOCACHE=os.path.join(CACHE, "go-build"), GOMODCACHE=os.path.join(CACHE, "gomod"),
               GOFLAGS="-mod=readonly", CGO_ENABLED="0", GOTOOLCHAIN="local")
    return env


def build():
    """Return the directory holding kube and kwok, building them when their inputs changed."""
    bindir = os.path.join(CACHE, "bin", _build_inputs_digest())
    wanted = [os.path.join(bindir, name) for name in ("kube", "kwok") + ISTIO_BINARIES]
    if all(os.access(path, os.X_OK) for path in wanted):
        return bindir
    os.makedirs(bindir, exist_ok=True)
    started = time.time()
    log("building kube (etcd {etcd}, Kubernetes {kubernetes}) into {0}; a cold build takes minutes".format(bindir, **VERSIONS))
    subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", os.path.join(bindir, "kube.tmp"), "."],
                   cwd=os.path.join(HERE, "kube"), env=go_env(), check=True)
    os.rename(os.path.join(bindir, "kube.tmp"), os.path.join(bindir, "kube"))
    log("building kwok {kwok}".format(**VERSIONS))
    env = dict(go_env(), GOBIN=bindir, GOFLAGS="")
    subprocess.run(["go", "install", "-trimpath", "-ldflags=-s -w", "sigs.k8s.io/kwok/cmd/kwok@" + VERSIONS["kwok"]],
                   cwd=HERE, env=env, check=True)
    build_istio(bindir)
    log("built in {0:.0f}s".format(time.time() - started))
    return bindir


def build_istio(bindir):
    """istioctl and pilot-discovery (istiod) from one istio.io/istio pseudo-version, in one `go install` so they
    share the compilation of their common packages. The reachable proxy has no Istio release tags (they are not Go
    semver); it mirrors some master pseudo-versions. sum.golang.org has no entry for some of their pre-release
    dependencies, hence GONOSUMDB for them."""
    version = VERSIONS["istio"]
    revision = version.rsplit("-", 1)[-1]
    log("building istioctl and pilot-discovery from istio.io/istio@{0}; a cold build takes about 10 minutes".format(version))
    env = dict(go_env(), GOBIN=bindir, GOFLAGS="",
               GONOSUMDB="istio.io/api,istio.io/client-go,github.com/envoyproxy/go-control-plane,github.com/agentgateway")
    ldflags = "-s -w -X istio.io/istio/pkg/version.buildVersion={0}.{1} " \
              "-X istio.io/istio/pkg/version.buildGitRevision={1} -X istio.io/istio/pkg/version.buildStatus=Clean".format(
                  VERSIONS["istio_reported_version"], revision)
    packages = ["istio.io/istio/{0}@{1}".format(path, version) for path in ISTIO_PACKAGES]
    subprocess.run(["go", "install", "-trimpath", "-ldflags=" + ldflags] + packages, cwd=HERE, env=env, check=True)


def sail_operator_source():
    """The directory of the Sail Operator's source: MULTIMESH_SAIL_OPERATOR_SRC, the project's shared/sail-operator
    beside this clone, or build/sail-operator (scripts/fetch-sail-operator.sh, where GitHub is reachable)."""
    candidates = [("MULTIMESH_SAIL_OPERATOR_SRC", os.environ.get(SAIL_SOURCE_ENV, "")),
                  ("../shared/sail-operator", os.path.join(os.path.dirname(REPO), "shared", "sail-operator")),
                  ("build/sail-operator", os.path.join(REPO, "build", "sail-operator"))]
    for dummy, path in candidates:
        if path and os.path.isfile(os.path.join(path, "go.mod")) and os.path.isdir(os.path.join(path, "chart", "crds")):
            return path
    raise SystemExit("harness: no Sail Operator source (looked in: {0}). Fix: set {1} to a checkout of it with the "
                     "go.mod of ../shared/sail-operator/SNAPSHOT.md, or run scripts/fetch-sail-operator.sh where GitHub is "
                     "reachable.".format("; ".join("{0} ({1})".format(label, path or "unset") for label, path in candidates),
                                         SAIL_SOURCE_ENV))


def _tree_digest(root):
    """sha256 of every file's path and content under root: the operator's binary is cached by what it is built from."""
    digest = hashlib.sha256()
    for directory, dirnames, filenames in sorted(os.walk(root)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            path = os.path.join(directory, filename)
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest


def build_sail_operator():
    """The path of the Sail Operator binary built from sail_operator_source() (every chart embedded), built when
    its source or Go changed. It shares the harness's Go caches: most of its dependencies are istio.io/istio's."""
    source = sail_operator_source()
    digest = _tree_digest(source)
    digest.update(subprocess.run(["go", "version"], stdout=subprocess.PIPE, check=True).stdout)
    binary = os.path.join(CACHE, "bin", "sail-operator-" + digest.hexdigest()[:16], "sail-operator")
    if os.access(binary, os.X_OK):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    started = time.time()
    log("building the Sail Operator from {0}; a cold build takes about 10 minutes".format(source))
    env = dict(go_env(), GONOSUMDB=SAIL_GONOSUMDB)
    subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", binary + ".tmp", "./cmd/"], cwd=source, env=env, check=True)
    os.rename(binary + ".tmp", binary)
    log("built the Sail Operator in {0:.0f}s".format(time.time() - started))
    return binary


def sail_operator_crds():
    """The CRDs of the operator's source (chart/crds: Sail's and Istio's), the ones the operator serves."""
    import yaml

    crds = []
    for path in sorted(glob.glob(os.path.join(sail_operator_source(), "chart", "crds", "*.yaml"))):
        with open(path) as handle:
            crds.extend(doc for doc in yaml.safe_load_all(handle) if doc and doc.get("kind") == "CustomResourceDefinition")
    return crds


def sail_operator_config(path):
    """The operator's --config-file: the image annotations of its chart's values.yaml as properties (the chart mounts
    the Deployment's annotations there through the downward API)."""
    import yaml

    with open(os.path.join(sail_operator_source(), "chart", "values.yaml")) as handle:
        annotations = yaml.safe_load(handle)["deployment"]["annotations"]
    with open(path, "w") as handle:
        handle.writelines('{0}="{1}"\n'.format(key, value) for key, value in sorted(annotations.items()))


# ---------------------------------------------------------------- certificates

def _write(path, data, mode=0o600):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(subject_cn, key, issuer_cert, issuer_key, orgs=(), sans=(), ca=False, days=30):
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
                        + [x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if sans else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if sans:
        names = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_pki(pki):
    """CA, serving and client certificates and the service-account key; reused when present."""
    if os.path.exists(os.path.join(pki, "done")) and os.path.exists(os.path.join(pki, "ansible.crt")):
        return
    os.makedirs(pki, exist_ok=True)
    ca_key = _key()
    ca = _cert("multimesh-harness-ca", ca_key, None, None, ca=True, days=365)
    _write(os.path.join(pki, "ca.key"), _pem_key(ca_key))
    _write(os.path.join(pki, "ca.crt"), ca.public_bytes(serialization.Encoding.PEM), 0o644)
    service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    sans = ("127.0.0.1", service_ip, "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local")
    specs = {"apiserver": ("kube-apiserver", (), sans),
             "admin": ("multimesh-admin", ("system:masters",), ()),
             # The identity of the playbooks under test: the audit log records its writes (see AUDITED_USER).
             "ansible": (AUDITED_USER, ("system:masters",), ()),
             "kube-controller-manager": ("system:kube-controller-manager", (), ()),
             "kube-scheduler": ("system:kube-scheduler", (), ())}
    for name, (cn, orgs, names) in specs.items():
        key = _key()
        _write(os.path.join(pki, name + ".key"), _pem_key(key))
        _write(os.path.join(pki, name + ".crt"), _cert(cn, key, ca, ca_key, orgs, names).public_bytes(serialization.Encoding.PEM), 0o644)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(os.path.join(pki, "sa.key"), _pem_key(sa_key))
    _write(os.path.join(pki, "sa.pub"), sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    _write(os.path.join(pki, "done"), b"")


# What every harness cluster shares of the world outside it: a CA its API servers trust as their system roots
# (SSL_CERT_FILE), as a real one trusts the public CAs, and the host names their egress resolves (names.json).
PUBLIC = os.path.join(STATE, "public")


def public_ca():
    """The path of the harness's public CA certificate; made once (atomically: xdist workers share STATE)."""
    if not os.path.exists(os.path.join(PUBLIC, "ca.crt")):
        staging = "{0}.{1}".format(PUBLIC, os.getpid())
        os.makedirs(staging, exist_ok=True)
        key = _key()
        _write(os.path.join(staging, "ca.key"), _pem_key(key))
        _write(os.path.join(staging, "ca.crt"), _cert("multimesh-harness-public-ca", key, None, None, ca=True,
                                                      days=365).public_bytes(serialization.Encoding.PEM), 0o644)
        try:
            os.rename(staging, PUBLIC)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another worker made it first
    return os.path.join(PUBLIC, "ca.crt")


def public_certificate(host):
    """(certificate PEM, key PEM) for a DNS name, signed by the public CA: what a user's certificate from a public
    CA would be to the harness's API servers."""
    with open(public_ca(), "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(PUBLIC, "ca.key"), "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    key = _key()
    return _cert(host, key, ca, ca_key, sans=(host,)).public_bytes(serialization.Encoding.PEM), _pem_key(key)


def names_file():
    return os.path.join(PUBLIC, "names.json")


def publish_name(host_port, target):
    """Make every harness API server's egress reach host_port ("name:port") at target ("127.0.0.1:port"); target
    None takes the name back."""
    public_ca()
    try:
        with open(names_file()) as handle:
            names = json.load(handle)
    except (OSError, ValueError):
        names = {}
    if target is None:
        names.pop(host_port, None)
    else:
        names[host_port] = target
    tmp = "{0}.{1}".format(names_file(), os.getpid())
    with open(tmp, "w") as handle:
        json.dump(names, handle, indent=2, sort_keys=True)
    os.replace(tmp, names_file())


def write_kubeconfig(path, name, server, pki, user):
    def b64(filename):
        with open(os.path.join(pki, filename), "rb") as handle:
            return base64.b64encode(handle.read()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": name, "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(user + ".crt"), "client-key-data": b64(user + ".key")}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
    }
    _write(path, json.dumps(config, indent=2).encode())


# ---------------------------------------------------------------- processes

def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


AUDITED_USER = "multimesh-ansible"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


class Cluster:
    def __init__(self, name, base_port):
        self.name = name
        self.base_port = base_port
        self.dir = os.path.join(STATE, name)
        self.pki = os.path.join(self.dir, "pki")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        # Admin access as AUDITED_USER, whose write requests the audit log records (write_requests()).
        self.ansible_kubeconfig = os.path.join(self.dir, "ansible.kubeconfig")
        self.audit_log = os.path.join(self.dir, "logs", "audit.log")
        self.server = "https://127.0.0.1:{0}".format(base_port)

    def port(self, what):
        return self.base_port + PORTS[what]

    def _audit_events(self, since=0):
        """(line count, [event]) of the audit log's completed requests that stored something (no dry runs) after its
        first `since` lines; the policy records only AUDITED_USER's writes."""
        try:
            with open(self.audit_log) as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            return 0, []
        events = [json.loads(line) for line in lines[since:]]
        return len(lines), [e for e in events if e.get("stage") == "ResponseComplete"
                            and "dryRun=All" not in e.get("requestURI", "")]

    def write_requests(self, since=0):
        """(line count, [(verb, requestURI)]) of AUDITED_USER's write requests that stored something (no dry
        runs) after the first `since` lines of the audit log."""
        count, events = self._audit_events(since)
        return count, [(event["verb"], event["requestURI"]) for event in events]

    def written_objects(self, since=0):
        """[objectRef] of the objects AUDITED_USER created, updated or patched (no dry runs, no subresources such as
        a TokenRequest) after the first `since` lines of the audit log, each once - except istioctl's, which makes its
        objects its own way (identified by its user agent)."""
        found = {}
        for event in self._audit_events(since)[1]:
            ref = event.get("objectRef") or {}
            if (event.get("verb") not in ("create", "update", "patch") or ref.get("subresource")
                    or event.get("userAgent", "").startswith("istioctl/")
                    or not 200 <= (event.get("responseStatus") or {}).get("code", 0) < 300):
                continue
            found[(ref.get("apiGroup", ""), ref.get("resource"), ref.get("namespace"), ref.get("name"))] = ref
        return list(found.values())

    def _pidfile(self, component):
        return os.path.join(self.dir, "pids", component + ".pid")

    def pid(self, component):
        try:
            with open(self._pidfile(component)) as handle:
                pid = int(handle.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _args(self, component):
        pki = self.pki
        etcd_client = "http://127.0.0.1:{0}".format(self.port("etcd-client"))
        etcd_peer = "http://127.0.0.1:{0}".format(self.port("etcd-peer"))
        own_kubeconfig = os.path.join(self.dir, component + ".kubeconfig")
        if component == "etcd":
            return ["etcd", "--name=harness", "--data-dir=" + os.path.join(self.dir, "etcd"),
                    "--listen-client-urls=" + etcd_client, "--advertise-client-urls=" + etcd_client,
                    "--listen-peer-urls=" + etcd_peer, "--initial-advertise-peer-urls=" + etcd_peer,
                    "--initial-cluster=harness=" + etcd_peer, "--log-level=warn",
                    "--unsafe-no-fsync"]  # test data only: durability is not needed
        if component == "kube-apiserver":
            issuer = "https://kubernetes.default.svc.cluster.local"
            return ["kube-apiserver", "--etcd-servers=" + etcd_client, "--bind-address=127.0.0.1",
                    "--secure-port={0}".format(self.base_port), "--advertise-address=127.0.0.1",
                    "--cert-dir=" + os.path.join(self.dir, "apiserver"),
                    "--tls-cert-file=" + os.path.join(pki, "apiserver.crt"),
                    "--tls-private-key-file=" + os.path.join(pki, "apiserver.key"),
                    "--client-ca-file=" + os.path.join(pki, "ca.crt"),
                    "--service-account-issuer=" + issuer, "--api-audiences=" + issuer,
                    "--service-account-key-file=" + os.path.join(pki, "sa.pub"),
                    "--service-account-signing-key-file=" + os.path.join(pki, "sa.key"),
                    "--service-cluster-ip-range=" + SERVICE_CIDR, "--authorization-mode=Node,RBAC",
                    "--allow-privileged=true", "--endpoint-reconciler-type=none", "--profiling=false",
                    # Webhooks, exec and proxy go through egress_proxy.py: loopback and local istiods only.
                    "--egress-selector-config-file=" + os.path.join(self.dir, "egress-selector.yaml"),
                    "--kubelet-preferred-address-types=InternalIP",
                    # Every write request of AUDITED_USER (dry runs included, marked in requestURI), as JSON lines.
                    "--audit-policy-file=" + os.path.join(self.dir, "audit-policy.yaml"),
                    "--audit-log-path=" + self.audit_log, "--audit-log-format=json", "--audit-log-mode=blocking",
                    "--audit-log-maxsize=0"]
        if component == "sail-operator":
            return ["--leader-elect=false", "--config-file=" + os.path.join(self.dir, "sail-operator.properties"),
                    "--metrics-bind-address=127.0.0.1:{0}".format(self.port("sail-operator-metrics")),
                    "--health-probe-bind-address=127.0.0.1:{0}".format(self.port("sail-operator-health"))]
        common = ["--kubeconfig=" + own_kubeconfig, "--authentication-kubeconfig=" + own_kubeconfig,
                  "--authorization-kubeconfig=" + own_kubeconfig, "--bind-address=127.0.0.1",
                  "--secure-port={0}".format(self.port(component)), "--leader-elect=false"]
        if component == "kube-controller-manager":
            return ["kube-controller-manager"] + common + [
                "--service-account-private-key-file=" + os.path.join(pki, "sa.key"),
                "--root-ca-file=" + os.path.join(pki, "ca.crt"), "--use-service-account-credentials=true",
                "--cluster-signing-cert-file=" + os.path.join(pki, "ca.crt"),
                "--cluster-signing-key-file=" + os.path.join(pki, "ca.key"),
                "--service-cluster-ip-range=" + SERVICE_CIDR]
        if component == "kube-scheduler":
            return ["kube-scheduler"] + common
        if component == "kwok":
            return ["--kubeconfig=" + self.kubeconfig, "--manage-all-nodes=false",
                    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                    "--manage-nodes-with-label-selector=",
                    "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
                    "--disregard-status-with-label-selector=", "--cidr=10.244.0.1/24",
                    # The node's address is loopback, so the API server reaches kwok's kubelet API (exec) there.
                    "--node-ip=127.0.0.1", "--node-port={0}".format(self.port("kwok")),
                    "--config=" + os.path.join(self.dir, "kwok.yaml"),
                    # PortForward objects (istiod_runner.py makes one per istiod pod) map a pod's port to a local one.
                    "--enable-crds=" + ",".join(KWOK_CRDS),
                    # Renew the node lease, or the node-lifecycle controller marks the node and its pods NotReady.
                    "--node-lease-duration-seconds=40",
                    "--server-address=127.0.0.1:{0}".format(self.port("kwok"))]
        raise ValueError(component)

    @property
    def egress_socket(self):
        # A Unix socket path must stay under 108 bytes; a deep checkout gets one in the temporary directory.
        path = os.path.join(self.dir, "egress.sock")
        return path if len(path) < 100 else os.path.join("/tmp", "multimesh-egress-{0}.sock".format(self.base_port))

    @property
    def egress_routes(self):
        return os.path.join(self.dir, "egress-routes.json")

    def _python_args(self, component, bindir):
        if component == "egress":
            return [self.egress_socket, self.egress_routes, names_file()]
        if component == "istiods":
            return [self.kubeconfig, self.dir, os.path.join(bindir, "pilot-discovery"), str(self.port("istiods")),
                    self.egress_routes]
        return [self.kubeconfig]

    def _write_configs(self):
        """The API server's egress selector (cluster and controlplane egress through egress_proxy.py) and kwok's exec rule: an exec
        into any pod on the fake node runs the command on this host, in the cluster's exec directory."""
        with open(os.path.join(self.dir, "egress-selector.yaml"), "w") as handle:
            # cluster: webhooks by Service, exec, proxy; controlplane: webhooks by URL (seed 004's DNS variant).
            through_proxy = {"proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": self.egress_socket}}}
            json.dump({"apiVersion": "apiserver.k8s.io/v1beta1", "kind": "EgressSelectorConfiguration",
                       "egressSelections": [{"name": name, "connection": through_proxy}
                                            for name in ("cluster", "controlplane")]},
                      handle, indent=2)
        with open(os.path.join(self.dir, "audit-policy.yaml"), "w") as handle:
            json.dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
                       "rules": [{"level": "Metadata", "users": [AUDITED_USER], "verbs": list(WRITE_VERBS)},
                                 {"level": "None"}]}, handle, indent=2)
        workdir = os.path.join(self.dir, "exec")
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(self.dir, "kwok.yaml"), "w") as handle:
            json.dump({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec", "metadata": {"name": "run-on-host"},
                       "spec": {"execs": [{"local": {"workDir": workdir}}]}}, handle, indent=2)

    def _start(self, bindir, component):
        env = None
        if component in PYTHON_COMPONENTS:
            command = [sys.executable, os.path.join(HERE, PYTHON_COMPONENTS[component])] + self._python_args(component, bindir)
        elif component == "sail-operator":
            command = [build_sail_operator()] + self._args(component)
            # The operator exits without POD_NAMESPACE; KUBECONFIG in place of its in-cluster service account.
            env = dict(os.environ, KUBECONFIG=self.kubeconfig, POD_NAMESPACE=SAIL_NAMESPACE)
        else:
            command = [os.path.join(bindir, "kwok" if component == "kwok" else "kube")] + self._args(component)
            if component == "kube-apiserver":
                # Its system roots: webhooks by URL without a caBundle are verified as against the public CAs.
                env = dict(os.environ, SSL_CERT_FILE=public_ca())
        logfile = open(os.path.join(self.dir, "logs", component + ".log"), "ab")
        proc = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.dir)
        with open(self._pidfile(component), "w") as handle:
            handle.write(str(proc.pid))
        return proc

    # -------------------------------------------------------------- API access

    def _ssl(self):
        context = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        context.load_cert_chain(os.path.join(self.pki, "admin.crt"), os.path.join(self.pki, "admin.key"))
        return context

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ssl(), timeout=10) as response:
            payload = response.read()
        return json.loads(payload) if payload[:1] in (b"{", b"[") else payload.decode()

    def ready(self):
        try:
            return self.request("GET", "/readyz") == "ok"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def _wait(self, what, check, timeout, component):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check():
                return
            if component and not self.pid(component):
                break
            time.sleep(0.5)
        tail = ""
        if component:
            with open(os.path.join(self.dir, "logs", component + ".log"), "rb") as handle:
                tail = handle.read()[-3000:].decode(errors="replace")
        raise RuntimeError("cluster {0}: timed out after {1}s waiting for {2}\n{3}".format(self.name, timeout, what, tail))

    def _install_kwok_crds(self):
        import yaml

        bases = os.path.join(CACHE, "gomod", "sigs.k8s.io", "kwok@" + VERSIONS["kwok"], "kustomize", "crd", "bases")
        crds = []
        for kind in KWOK_CRDS:
            with open(os.path.join(bases, "kwok.x-k8s.io_{0}s.yaml".format(kind.lower()))) as handle:
                crds.append(yaml.safe_load(handle))
        self._create_crds(crds, "kwok's CRDs", 30)

    def _create_crds(self, crds, what, timeout):
        """Create CRDs (those that exist are kept) and wait until every version they serve is served."""
        served = set()
        for crd in crds:
            served.update("/apis/{0}/{1}".format(crd["spec"]["group"], v["name"]) for v in crd["spec"]["versions"] if v.get("served"))
            try:
                self.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
            except urllib.error.HTTPError as exc:
                if exc.code != 409:
                    raise
        self._wait(what + " to be served", lambda: all(self._served(path) for path in served), timeout, "kube-apiserver")

    def _start_sail_operator(self, bindir):
        """What installing the operator's chart gives: its CRDs (Sail's and Istio's, from its source) and its
        namespace; then the operator itself, ready when its health endpoint answers."""
        crds = sail_operator_crds()
        self._create_crds(crds, "the Sail Operator's {0} CRDs".format(len(crds)), 60)
        try:
            self.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": SAIL_NAMESPACE}})
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise
        sail_operator_config(os.path.join(self.dir, "sail-operator.properties"))
        self._start(bindir, "sail-operator")
        self._wait("the Sail Operator's /readyz", self._sail_operator_ready, 60, "sail-operator")

    def _sail_operator_ready(self):
        url = "http://127.0.0.1:{0}/readyz".format(self.port("sail-operator-health"))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _served(self, path):
        try:
            self.request("GET", path)
            return True
        except (OSError, urllib.error.URLError):
            return False

    def _ensure_node(self):
        try:
            self.request("GET", "/api/v1/nodes/" + NODE_NAME)
            return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        labels = {"kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "type": "kwok"}
        self.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": NODE_NAME, "labels": labels,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}}})

    def _node_ready(self):
        try:
            node = self.request("GET", "/api/v1/nodes/" + NODE_NAME)
        except (OSError, urllib.error.URLError):
            return False
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

    def _default_service_account(self):
        return self._served("/api/v1/namespaces/default/serviceaccounts/default")

    # -------------------------------------------------------------- up / down

    def up(self, fresh=False, sail=False, istiods=False):
        """Start the cluster (a no-op when it runs); fresh=True starts from empty storage. sail=True runs the real Sail
        Operator (with its CRDs), istiods=True a real istiod per istiod Deployment (istiod_runner.py)."""
        wanted = COMPONENTS + (("sail-operator",) if sail else ()) + (("istiods",) if istiods else ())
        if not fresh and all(self.pid(c) for c in wanted) and self.ready() and self._node_ready():
            log("cluster {0} already running at {1}".format(self.name, self.server))
            return self.kubeconfig
        self.down(quiet=True)
        if fresh:
            shutil.rmtree(os.path.join(self.dir, "etcd"), ignore_errors=True)
        # The local istiods' ports too: an istiod left from an earlier run would make the new ones fail to start.
        ports = [self.base_port + offset for offset in PORTS.values()]
        ports += range(self.port("istiods"), self.port("istiods") + 80) if istiods else []
        busy = [str(port) for port in ports if not _port_free(port)]
        if busy:
            raise RuntimeError("cluster {0}: port(s) {1} on 127.0.0.1 are in use; stop what uses them or set "
                               "MULTIMESH_HARNESS_PORT".format(self.name, ", ".join(busy)))
        try:
            return self._start_all(sail, istiods)
        except BaseException:
            self.down(quiet=True)  # nothing half-started is left running
            raise

    def _start_all(self, sail, istiods):
        bindir = build()
        if sail:
            build_sail_operator()  # before the clock starts: a build is not a start
        for sub in ("pids", "logs", "apiserver"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        make_pki(self.pki)
        write_kubeconfig(self.kubeconfig, "harness-" + self.name, self.server, self.pki, "admin")
        write_kubeconfig(self.ansible_kubeconfig, "harness-" + self.name, self.server, self.pki, "ansible")
        for user in ("kube-controller-manager", "kube-scheduler"):
            write_kubeconfig(os.path.join(self.dir, user + ".kubeconfig"), "harness-" + self.name, self.server, self.pki, user)
        self._write_configs()
        started = time.time()
        self._start(bindir, "egress")
        self._wait("the egress proxy's socket", lambda: os.path.exists(self.egress_socket), 20, "egress")
        self._start(bindir, "etcd")
        self._start(bindir, "kube-apiserver")
        self._wait("kube-apiserver /readyz", self.ready, 120, "kube-apiserver")
        self._install_kwok_crds()
        for component in ("kube-controller-manager", "kube-scheduler", "kwok"):
            self._start(bindir, component)
        self._ensure_node()
        self._wait("node {0} Ready (kwok)".format(NODE_NAME), self._node_ready, 60, "kwok")
        self._wait("the default service account (kube-controller-manager)", self._default_service_account, 60,
                   "kube-controller-manager")
        if sail:
            self._start_sail_operator(bindir)
        if istiods:
            self._start(bindir, "istiods")
        log("cluster {0} up at {1} in {2:.1f}s; kubeconfig {3}".format(self.name, self.server, time.time() - started, self.kubeconfig))
        _record_event("harness-up", cluster=self.name, seconds=round(time.time() - started, 2))
        return self.kubeconfig

    def _stop_orphaned_istiods(self):
        """istiods whose runner could not stop them (it was killed): each left its pid in istiods/<ns>-<rev>/pid."""
        for pidfile in glob.glob(os.path.join(self.dir, "istiods", "*", "pid")):
            try:
                with open(pidfile) as handle:
                    os.killpg(int(handle.read().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            os.remove(pidfile)

    def down(self, quiet=False):
        stopped = []
        for component in OPTIONAL + tuple(reversed(COMPONENTS)):
            pid = self.pid(component)
            if pid:
                os.killpg(pid, signal.SIGTERM)
                stopped.append((component, pid))
        # Test clusters hold nothing worth a long graceful stop; what is still running after 5 seconds is killed.
        deadline = time.time() + 5
        for component, pid in stopped:
            while time.time() < deadline and self.pid(component):
                time.sleep(0.1)
            if self.pid(component):
                os.killpg(pid, signal.SIGKILL)
        for component in COMPONENTS + OPTIONAL:
            try:
                os.remove(self._pidfile(component))
            except OSError:
                pass
        self._stop_orphaned_istiods()
        if stopped and not quiet:
            log("cluster {0} stopped ({1})".format(self.name, ", ".join(c for c, dummy in stopped)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("build", "up", "down", "env"))
    parser.add_argument("--name", action="append", help="cluster name (repeat for several); default c1")
    parser.add_argument("--fresh", action="store_true", help="start from empty storage (deletes the cluster's etcd data)")
    parser.add_argument("--sail", action="store_true",
                        help="also run the real Sail Operator, built from its source, with its CRDs")
    parser.add_argument("--istiods", action="store_true",
                        help="also run a real istiod (pilot-discovery) per installed mesh as a local process (istiod_runner.py)")
    parser.add_argument("--base-port", type=int, default=BASE_PORT,
                        help="API server port of the first cluster (default 16443, or MULTIMESH_HARNESS_PORT); each further cluster adds 100")
    args = parser.parse_args(argv)
    names = args.name or ["c1"]
    clusters = [Cluster(name, args.base_port + 100 * index) for index, name in enumerate(names)]
    if args.action == "build":
        print(build())
        if args.sail:
            print(build_sail_operator())
    elif args.action == "env":
        print(json.dumps(dict(VERSIONS, cache=CACHE, state=STATE), indent=2))
    elif args.action == "up":
        for cluster in clusters:
            print(cluster.up(fresh=args.fresh, sail=args.sail, istiods=args.istiods))
    else:
        for cluster in clusters:
            cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
