"""playbooks/site.yml and cleanup.yml on three real API servers with real istioctl: primary-remote across two
networks (seed 003), multi-primary, and an external control plane with a config and a second remote cluster (seed
004), all from one inventory. Converge, the remote secrets' read-only access, the remote webhooks, one root per
mesh, a real istiod reading its remote cluster, zero writes on a second run and in check mode, and cleanup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json
import os
import ssl
import time
import urllib.request

import pytest
import yaml

from conftest import (api_client, fresh_cluster, harness, play, read_report, remote_secrets, wait_for, write_inventory,
                      write_marks, writes_since)

CLUSTERS = (("east", 1700, "network-1"), ("west", 1800, "network-2"), ("central", 1900, "network-1"))
# The DNS name the remote cluster reaches the primary's istiod at, through the east-west gateway, which passes TLS
# through (test_the_remote_calls_the_primary_by_name). The IP forms run in test_multicluster_sail.py.
PRIMARY_NAME = "istiod.mesh-pr.test"
# Seed 004's DNS variant: the remote and config clusters call the external istiod by name, at its gateway, which
# terminates TLS with the user's certificate for that name (test_the_external_istiod_is_called_by_name).
EXTERNAL_NAME, EXTERNAL_CREDENTIAL = "istiod.mesh-ext.test", "istiod-mesh-ext-test"
MESHES = [
    {"name": "mesh-pr", "namespace": "istio-system-pr", "members": [{"name": "app-pr", "owned": True}],
     "topology": "primary-remote",
     "clusters": [{"name": "east", "role": "primary", "address": PRIMARY_NAME}, {"name": "west", "role": "remote"}]},
    # helloworld and a client on both clusters: the verification asks helloworld across clusters from each.
    {"name": "mesh-mp", "namespace": "istio-system-mp", "members": [{"name": "app-mp", "owned": True}],
     "topology": "multi-primary", "clusters": ["east", "central"], "samples": ["helloworld", "curl"]},
    # Seed 004 as written: a mesh of its own on central, whose ingress gateway exposes the external istiod.
    {"name": "mesh-gw", "namespace": "istio-system-gw", "clusters": ["central"]},
    {"name": "mesh-ext", "namespace": "external-istiod", "members": [{"name": "app-ext", "owned": True}],
     "topology": "external",
     "clusters": [{"name": "central", "role": "external", "address": EXTERNAL_NAME,
                   "gateway": {"mesh": "mesh-gw", "credential": EXTERNAL_CREDENTIAL}},
                  {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}]},
]


@pytest.fixture(scope="module")
def clusters():
    """east and central run real istiods (one per istiod Deployment): mesh-pr's istiod really reads west, and mesh-gw's
    really configures the gateway in front of the external istiod."""
    with contextlib.ExitStack() as stack:
        yield dict((name, stack.enter_context(fresh_cluster("it-mc-" + name, offset, istiods=name != "west")))
                   for name, offset, dummy in CLUSTERS)


@pytest.fixture(scope="module")
def apis(clusters):
    return dict((name, api_client(cluster.kubeconfig)) for name, cluster in clusters.items())


@pytest.fixture(scope="module")
def inventory(clusters, tmp_path_factory):
    work = tmp_path_factory.mktemp("multicluster")
    hosts = dict((name, {"multimesh_kubeconfig": clusters[name].ansible_kubeconfig, "multimesh_network": network})
                 for name, dummy, network in CLUSTERS)
    return write_inventory(work / "multicluster.yml", hosts, {
        "multimesh_backend": "istioctl", "multimesh_cni": {"enabled": False}, "multimesh_meshes": MESHES,
        "multimesh_ca_dir": str(work / "ca"), "multimesh_verify": False,
        "multimesh_istioctl_path": os.path.join(harness.build(), "istioctl")})


@pytest.fixture(scope="module")
def checked_fresh(inventory, clusters):
    """--check on the empty clusters first: every step, remote secrets of a config cluster whose istiod account does
    not exist yet included, must run to the end and write nothing."""
    before = write_marks(clusters)
    run = play(inventory, "site.yml", "--check")
    assert run.rc == 0, run.out
    assert writes_since(clusters, before) == {"east": [], "west": [], "central": []}
    return run


@pytest.fixture(scope="module")
def converged(inventory, clusters, checked_fresh):
    run = play(inventory, "site.yml")
    assert run.rc == 0, run.out
    return run


def test_each_istiod_holds_a_secret_for_each_cluster_it_serves(converged, apis):
    assert sorted(remote_secrets(apis["east"], "istio-system-pr")) == ["istio-remote-secret-west"]
    assert sorted(remote_secrets(apis["west"], "istio-system-pr")) == []
    assert sorted(remote_secrets(apis["east"], "istio-system-mp")) == ["istio-remote-secret-central"]
    assert sorted(remote_secrets(apis["central"], "istio-system-mp")) == ["istio-remote-secret-east"]
    # The external istiod reads its configuration from the config cluster and endpoints from the second remote.
    assert sorted(remote_secrets(apis["central"], "external-istiod")) == ["istio-kubeconfig", "istio-remote-secret-west"]
    # Each carries this inventory's identity: cleanup (and a second inventory) tell it from anyone else's.
    owners = set(s.metadata.labels.get("multimesh.istio/owner") for name, ns in (
        ("east", "istio-system-pr"), ("east", "istio-system-mp"), ("central", "istio-system-mp"), ("central", "external-istiod"))
        for s in remote_secrets(apis[name], ns).values())
    assert len(owners) == 1 and None not in owners, owners


def _access_of(secret):
    """An ApiClient with the credentials a remote secret holds."""
    from kubernetes import client, config

    kubeconfig = yaml.safe_load(base64.b64decode(list(secret.data.values())[0]))
    configuration = client.Configuration()
    loader = config.kube_config.KubeConfigLoader(config_dict=kubeconfig)
    loader.load_and_set(configuration)
    return client.ApiClient(configuration)


def test_remote_secrets_can_read_and_only_read_the_remote_cluster(converged, apis):
    from kubernetes import client

    reader = _access_of(remote_secrets(apis["east"], "istio-system-pr")["istio-remote-secret-west"])
    names = [n.metadata.name for n in client.CoreV1Api(reader).list_namespace().items]
    assert "app-pr" in names
    review = client.AuthorizationV1Api(reader).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "namespaces"}}})
    assert review.status.allowed is False
    review = client.AuthorizationV1Api(reader).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "services"}}})
    assert review.status.allowed is True


def test_remote_and_config_clusters_are_served_by_their_istiod(converged, apis):
    from kubernetes import client

    core = {name: client.CoreV1Api(api) for name, api in apis.items()}
    annotations = core["west"].read_namespace("istio-system-pr").metadata.annotations
    assert annotations["topology.istio.io/controlPlaneClusters"] == "east"
    assert core["west"].read_namespace("external-istiod").metadata.annotations[
        "topology.istio.io/controlPlaneClusters"] == "east"  # the config cluster's name, the external istiod's ID
    webhooks = {w.metadata.name: w for w in client.AdmissionregistrationV1Api(
        apis["west"]).list_mutating_webhook_configuration().items}
    injector = webhooks["istio-sidecar-injector-mesh-pr-istio-system-pr"].webhooks[0].client_config
    assert injector.url == "https://{0}:15017/inject/cluster/west/net/network-2".format(PRIMARY_NAME), injector
    # The remote's istiod Service names the primary's east-west gateway (XDS of the proxies the primary injects).
    service = core["west"].read_namespaced_service("istiod-mesh-pr", "istio-system-pr")
    assert (service.spec.type, service.spec.external_name) == ("ExternalName", PRIMARY_NAME), service.spec
    assert not client.AppsV1Api(apis["west"]).list_namespaced_deployment(
        "istio-system-pr", label_selector="app=istiod").items
    external = client.AppsV1Api(apis["central"]).read_namespaced_deployment("istiod-mesh-ext", "external-istiod")
    env = {e.name: e.value for e in external.spec.template.spec.containers[0].env}
    assert env["EXTERNAL_ISTIOD"] == "true" and env["CLUSTER_ID"] == "east"


def test_one_root_per_mesh_and_an_intermediate_per_cluster(converged, apis):
    from kubernetes import client

    def material(cluster, namespace):
        data = client.CoreV1Api(apis[cluster]).read_namespaced_secret("cacerts", namespace).data
        return base64.b64decode(data["root-cert.pem"]), base64.b64decode(data["ca-cert.pem"])

    east, central = material("east", "istio-system-mp"), material("central", "istio-system-mp")
    assert east[0] == central[0] and east[1] != central[1]
    assert material("east", "istio-system-pr")[0] != east[0]
    # No istiod runs on a remote cluster: the primary's signs its workloads, so it gets no intermediate.
    assert [s.metadata.name for s in client.CoreV1Api(apis["west"]).list_namespaced_secret(
        "istio-system-pr").items if s.metadata.name == "cacerts"] == []


def test_the_primary_istiod_reads_the_remote_cluster(converged, clusters, apis):
    """A real pilot-discovery (harness --istiods) runs for each istiod Deployment on east: through the remote secret,
    mesh-pr's lists a service that exists only in west, and mesh-mp's (which does not read west) does not."""
    from kubernetes import client

    client.CoreV1Api(apis["west"]).create_namespaced_service("app-pr", {
        "metadata": {"name": "only-in-west"}, "spec": {"ports": [{"name": "http", "port": 80}]}})

    def registries():
        return dict((home, hosts) for home, hosts, dummy in istiods(clusters["east"], ("istio-system-pr", "istio-system-mp")))

    wait_for("mesh-pr's istiod on east to list west's service only-in-west",
             lambda: "only-in-west.app-pr.svc.cluster.local" in registries().get("istio-system-pr", []), timeout=120)
    assert "only-in-west.app-pr.svc.cluster.local" not in registries().get("istio-system-mp", [])


def istiods(cluster, homes):
    """(home namespace, [service hostnames], monitoring URL) of each real istiod the harness runs on a cluster, told
    apart by the first of `homes` its registry (/debug/registryz) holds."""
    first, found = cluster.port("istiods"), []
    for slot in range(10):
        url = "http://127.0.0.1:{0}".format(first + 8 * slot + 4)
        try:
            with urllib.request.urlopen(url + "/debug/registryz", timeout=2) as response:
                services = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError):
            continue
        namespaces = set(s.get("Attributes", {}).get("Namespace") for s in services)
        home = [h for h in homes if h in namespaces]
        if home:
            found.append((home[0], [s.get("hostname") for s in services], url))
    return found


def test_the_gateway_mesh_configures_the_ingress_gateway_of_the_external_istiod(converged, clusters, apis):
    """Seed 004: mesh-gw's real istiod on central holds the Gateway and VirtualService beside the external istiod and
    knows its Service and its gateway's (two more discoverySelectors); mesh-mp's istiod on the same cluster sees none
    of it. The gateway runs in a namespace of its own (tenant issue, point 13), whose Secrets only its Role reads: it
    terminates TLS with the user's credential there (DNS variant), and a DestinationRule re-encrypts to istiod."""
    from kubernetes import client

    core = client.CoreV1Api(apis["central"])
    gateway_ns = core.read_namespace("istiod-gateway-mesh-ext")
    assert gateway_ns.metadata.labels.get("app.kubernetes.io/managed-by") == "multimesh.istio", gateway_ns.metadata.labels
    assert gateway_ns.metadata.labels.get("multimesh.istio/owner"), gateway_ns.metadata.labels
    service = core.read_namespaced_service("istiod-gateway-mesh-ext", "istiod-gateway-mesh-ext")
    assert service.spec.type == "LoadBalancer" and [p.port for p in service.spec.ports] == [15021, 15012, 15017]
    rbac = client.RbacAuthorizationV1Api(apis["central"])
    roles = rbac.list_namespaced_role("istiod-gateway-mesh-ext").items
    assert [(r.metadata.name, [rule.resources for rule in r.rules]) for r in roles] == [
        ("istiod-gateway-mesh-ext", [["secrets"]])]
    assert not [r.metadata.name for r in rbac.list_namespaced_role("istio-system-gw").items if "istiod-gateway" in r.metadata.name]
    assert not [s.metadata.name for s in core.list_namespaced_service("istio-system-gw").items if "istiod-gateway" in s.metadata.name]
    assert [s.metadata.name for s in client.CoreV1Api(apis["central"]).list_namespaced_service("external-istiod").items
            if s.metadata.name.endswith("-external")] == []  # no Service of its own: the gateway exposes istiod

    def configs(url):
        with urllib.request.urlopen(url + "/debug/configz", timeout=5) as response:
            return set((c.get("kind"), c["metadata"]["namespace"], c["metadata"]["name"])
                       for c in json.loads(response.read().decode("utf-8")))

    def seen():
        return dict((home, (hosts, configs(url))) for home, hosts, url in istiods(
            clusters["central"], ("istio-system-gw", "istio-system-mp")))

    wanted = {("Gateway", "external-istiod", "istiod-gateway-mesh-ext"),
              ("VirtualService", "external-istiod", "istiod-gateway-mesh-ext"),
              ("DestinationRule", "external-istiod", "istiod-gateway-mesh-ext")}
    wait_for("mesh-gw's istiod on central to hold the Gateway, VirtualService and DestinationRule of the external istiod",
             lambda: wanted <= seen().get("istio-system-gw", ((), set()))[1], timeout=120)
    wait_for("mesh-gw's istiod on central to know the gateway's Service in its own namespace",
             lambda: "istiod-gateway-mesh-ext.istiod-gateway-mesh-ext.svc.cluster.local" in seen()["istio-system-gw"][0],
             timeout=120)
    views = seen()
    assert "istiod-mesh-ext.external-istiod.svc.cluster.local" in views["istio-system-gw"][0]
    assert not [c for c in views["istio-system-mp"][1] if c[1] in ("external-istiod", "istiod-gateway-mesh-ext")]
    assert not [h for h in views["istio-system-mp"][0]
                if h.endswith((".external-istiod.svc.cluster.local", ".istiod-gateway-mesh-ext.svc.cluster.local"))]


def _istiod_webhook_address(cluster, api, name, namespace):
    """Where an istiod Service's webhook port (443) leads on the harness: the local istiod its ClusterIP is routed
    to ("127.0.0.1:port"), or None while the runner has not routed it."""
    from kubernetes import client

    service = client.CoreV1Api(api).read_namespaced_service(name, namespace)
    with open(cluster.egress_routes) as handle:
        return json.load(handle).get("{0}:443".format(service.spec.cluster_ip))


def _pause_pod(namespace):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "by-name", "namespace": namespace},
            "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}}


def _injected(pod):
    """(the pod's container names, the environment of its istio-proxy container)."""
    containers = dict((c.name, c) for c in pod.spec.containers)
    proxy = containers.get("istio-proxy")
    return sorted(containers), dict((e.name, e.value) for e in (proxy.env if proxy else []))


def _external_istiod_upstream(cluster, api):
    """What the gateway's VirtualService routes webhook calls to: the external istiod's Service, port 443."""
    def upstream():
        target = _istiod_webhook_address(cluster, api, "istiod-mesh-ext", "external-istiod")
        return None if target is None else (target.rsplit(":", 1)[0], int(target.rsplit(":", 1)[1]))
    return upstream


def _create_once_served(core, namespace, body, timeout=90):
    """Create the pod once the webhook answers: the istiod behind it may still be starting (connection closed, EOF);
    any other refusal, or the last one, is raised."""
    from kubernetes.client.rest import ApiException

    deadline = time.time() + timeout
    while True:
        try:
            return core.create_namespaced_pod(namespace, body)
        except ApiException as exc:
            if time.time() > deadline or not any(s in (exc.body or "") for s in (
                    '": EOF', "connection refused", "503", "context deadline exceeded")):
                raise
        time.sleep(2)


def test_the_remote_calls_the_primary_by_name(converged, clusters, apis):
    """Primary-remote by DNS name, TLS passed through by the east-west gateway: the primary's real istiod patches
    the remote's webhooks with its CA, and the remote's API server calls https://<name>:15017, verifying istiod's own
    certificate against that name - which istiod adds to it (ISTIOD_CUSTOM_HOST). The harness's DNS takes the name
    straight to the primary's istiod: a passthrough gateway, byte for byte."""
    from cryptography import x509
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    body = _pause_pod("app-pr")
    core = client.CoreV1Api(apis["west"])
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod("app-pr", body, dry_run="All")
    assert "https://{0}:15017/inject/cluster/west/net/network-2".format(PRIMARY_NAME) in refused.value.body, refused.value.body
    admission = client.AdmissionregistrationV1Api(apis["west"])
    wait_for("the primary's istiod to write its CA into the remote's injector", lambda: admission.read_mutating_webhook_configuration(
        "istio-sidecar-injector-mesh-pr-istio-system-pr").webhooks[0].client_config.ca_bundle, timeout=120)
    istiod = _istiod_webhook_address(clusters["east"], apis["east"], "istiod-mesh-pr", "istio-system-pr")
    assert istiod, "no route to istiod-mesh-pr's webhook port on east"
    host, port = istiod.rsplit(":", 1)
    served = x509.load_pem_x509_certificate(ssl.get_server_certificate((host, int(port))).encode())
    assert PRIMARY_NAME in served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    harness.publish_name(PRIMARY_NAME + ":15017", istiod)
    try:
        created = _create_once_served(core, "app-pr", body)
        try:
            containers, env = _injected(created)
            assert containers == ["app", "istio-proxy"], containers
            assert env["ISTIO_META_CLUSTER_ID"] == "west" and env["ISTIO_META_NETWORK"] == "network-2", env
            assert json.loads(env["PROXY_CONFIG"])["discoveryAddress"] == "istiod-mesh-pr.istio-system-pr.svc:15012", env
        finally:
            core.delete_namespaced_pod("by-name", "app-pr", grace_period_seconds=0)
    finally:
        harness.publish_name(PRIMARY_NAME + ":15017", None)


def test_the_external_istiod_is_called_by_name(converged, clusters, apis):
    """Issue 28, seed 004's DNS variant: the remote (west) and config (east) clusters' API servers call the external
    istiod's injector by its name, on 15017, and verify the certificate of its gateway against their system roots.
    The user's part after site.yml: a certificate for the name from a public CA (here the harness's, which its API
    servers trust as such) and DNS for the name (the harness's egress names). Until the name resolves, the API server
    refuses the pod naming that URL; then the real external istiod on central injects it, for the cluster and network
    in the URL's path, with the proxy settings of the DNS variant."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from tls_gateway import TlsGateway

    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(apis["west"]).create_namespaced_pod("app-ext", _pause_pod("app-ext"), dry_run="All")
    assert "https://{0}:15017/inject/cluster/west/net/network-2".format(EXTERNAL_NAME) in refused.value.body, refused.value.body
    cert, key = harness.public_certificate(EXTERNAL_NAME)
    gateway = TlsGateway(cert, key, _external_istiod_upstream(clusters["central"], apis["central"])).start()
    harness.publish_name(EXTERNAL_NAME + ":15017", "127.0.0.1:{0}".format(gateway.port))
    try:
        for cluster, network in (("west", "network-2"), ("east", "network-1")):
            core = client.CoreV1Api(apis[cluster])
            try:
                created = _create_once_served(core, "app-ext", _pause_pod("app-ext"))
            except ApiException:
                raise AssertionError("{0}: the gateway saw {1}, errors {2}".format(cluster, gateway.events, gateway.errors))
            try:
                containers, env = _injected(created)
                assert containers == ["app", "istio-proxy"], (cluster, containers, gateway.errors)
                assert env["ISTIO_META_CLUSTER_ID"] == cluster and env["ISTIO_META_NETWORK"] == network, env
                proxy_config = json.loads(env["PROXY_CONFIG"])
                assert proxy_config["discoveryAddress"] == EXTERNAL_NAME + ":15012", proxy_config
                assert proxy_config["proxyMetadata"]["XDS_ROOT_CA"] == "/etc/ssl/certs/ca-certificates.crt", proxy_config
                assert env["CA_ADDR"] == EXTERNAL_NAME + ":15012", env
            finally:
                core.delete_namespaced_pod("by-name", "app-ext", grace_period_seconds=0)
        assert gateway.connections >= 2 and gateway.errors == [], gateway.errors
    finally:
        harness.publish_name(EXTERNAL_NAME + ":15017", None)
        gateway.close()


def test_every_object_the_collection_writes_carries_this_inventorys_marks(converged, inventory, clusters, apis):
    """Whatever wrote it - a stage, remote_secret, plugin_ca, a kubernetes.core task - each object the playbooks
    created or changed on any cluster (the API servers' audit logs; istioctl's own installs aside) carries the
    collection's mark and this inventory's owner: what cleanup and pre-flight go by. Namespaces this inventory only
    labels would need just the owner; every namespace here is owned."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = {"namespaces": "read_namespace", "secrets": "read_namespaced_secret", "configmaps": "read_namespaced_config_map",
            "serviceaccounts": "read_namespaced_service_account", "services": "read_namespaced_service"}

    def labels_of(api, ref):
        """The labels of the object an audit event names, or None when it is gone since (a rotated token secret)."""
        try:
            if not ref.get("apiGroup"):  # a core kind the playbooks write (a new one fails here, named)
                read = getattr(client.CoreV1Api(api), core[ref["resource"]])
                args = (ref["name"],) if ref["resource"] == "namespaces" else (ref["name"], ref["namespace"])
                return read(*args).metadata.labels or {}
            custom = client.CustomObjectsApi(api)
            found = custom.get_namespaced_custom_object(ref["apiGroup"], ref["apiVersion"], ref["namespace"], ref["resource"],
                                                        ref["name"]) if ref.get("namespace") else \
                custom.get_cluster_custom_object(ref["apiGroup"], ref["apiVersion"], ref["resource"], ref["name"])
            return found["metadata"].get("labels") or {}
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    owner = os.path.splitext(os.path.basename(inventory))[0]  # the default owner: the inventory's name
    wanted = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": owner}
    kinds, unmarked = set(), []
    for name, cluster in clusters.items():
        for ref in cluster.written_objects():
            labels = labels_of(apis[name], ref)
            if labels is None:
                continue
            kinds.add(ref["resource"])
            if any(labels.get(key) != value for key, value in wanted.items()):
                unmarked.append((name, ref["resource"], ref.get("namespace"), ref["name"], labels))
    # What a multicluster converge writes itself, so that this cannot pass on an empty log.
    assert {"namespaces", "secrets", "serviceaccounts", "clusterroles", "clusterrolebindings", "peerauthentications",
            "deployments", "services", "gateways", "virtualservices", "sidecars"} <= kinds, kinds
    assert unmarked == [], unmarked


def test_second_run_writes_nothing_on_any_cluster(converged, inventory, clusters):
    before = write_marks(clusters)
    again = play(inventory, "site.yml")
    assert again.rc == 0, again.out
    assert all(r["changed"] == 0 for r in again.recaps().values()), again.out
    assert writes_since(clusters, before) == {"east": [], "west": [], "central": []}


def test_check_mode_writes_nothing_anywhere(converged, inventory, clusters):
    before = write_marks(clusters)
    check = play(inventory, "site.yml", "--check", "--diff", "-e", "multimesh_owner=multicluster")
    assert check.rc == 0, check.out
    assert writes_since(clusters, before) == {"east": [], "west": [], "central": []}


def test_a_lost_ca_dir_stops_before_any_change(converged, inventory, clusters, tmp_path):
    """An AWX job keeps no files: a later run with an empty multimesh_ca_dir would mint a second root for any cluster
    that holds none yet. Pre-flight reads the root of each cluster's cacerts and stops every cluster, writing nothing
    (not even the new directory)."""
    lost = tmp_path / "lost-ca"
    before = write_marks(clusters)
    run = play(inventory, "site.yml", "-e", "multimesh_ca_dir=" + str(lost))
    assert run.rc != 0, run.out
    assert "Pre-flight found 3 root CA problem(s); nothing was changed" in run.out, run.out
    for mesh, cluster, namespace in (("mesh-ext", "central", "external-istiod"), ("mesh-mp", "central", "istio-system-mp"),
                                     ("mesh-pr", "east", "istio-system-pr")):
        assert "mesh {0}: cluster {1} (secret {2}/cacerts) holds root ".format(mesh, cluster, namespace) in run.out
        assert "but {0} has no root CA".format(lost / mesh) in run.out
    assert "Fix: point multimesh_ca_dir at the directory that holds that root" in run.out
    assert not lost.exists()
    assert writes_since(clusters, before) == {"east": [], "west": [], "central": []}


def test_a_cluster_joining_under_limit_with_a_lost_ca_dir_mints_no_second_root(converged, inventory, clusters, tmp_path):
    """Tenant issue, point 11: west joins the multi-primary mesh-mp (no cacerts there yet) in a run limited to west,
    after the CA directory was lost. Pre-flight sees no root on west and none in the directory, but east and central,
    which hold mesh-mp's root, are outside the limit: it stops (a new root would split the mesh's trust) and writes
    nothing anywhere, not even the directory."""
    lost = tmp_path / "lost-ca"
    joined = [dict(m, clusters=["east", "central", "west"]) if m["name"] == "mesh-mp" else m for m in MESHES]
    before = write_marks(clusters)
    run = play(inventory, "site.yml", "--limit", "west", "-e", json.dumps({
        "multimesh_meshes": joined, "multimesh_ca_dir": str(lost)}))
    assert run.rc != 0, run.out
    assert "Pre-flight found 1 root CA problem(s); nothing was changed" in run.out, run.out
    assert ("mesh mesh-mp: {0} has no root CA, so this run would make a new one, but cluster(s) central, east of the "
            "mesh are not in this run (--limit".format(lost / "mesh-mp")) in run.out, run.out
    assert "Fix: run without --limit so that pre-flight reads every cluster of the mesh" in run.out
    assert not lost.exists()
    assert writes_since(clusters, before) == {"east": [], "west": [], "central": []}


def test_verify_reports_per_cluster_on_remote_secrets_and_remote_injectors(converged, inventory, tmp_path):
    """verify.yml on every cluster, each report in <dir>/<cluster>/: each remote secret's credentials read (and a
    reader's only read) the cluster they name, each remote's injector calls istiod under its own cluster name, and a
    remote is not expected to run an istiod. The harness's API servers listen on loopback, which istiod in a real
    other cluster could not reach, so the remote-secret checks fail with that reason - observed, not assumed. (Other
    checks fail here by design: no proxies run on the harness.)"""
    run = play(inventory, "verify.yml", "-e", "multimesh_verify_report_dir=" + str(tmp_path))
    assert run.rc != 0, run.out
    checks = dict((name, read_report(tmp_path / name)[1]) for name in ("east", "west", "central"))
    secrets_checked = [("east", "mesh-pr", "west", "remote"), ("east", "mesh-mp", "central", "remote"),
                       ("central", "mesh-mp", "east", "remote"), ("central", "mesh-ext", "east", "config"),
                       ("central", "mesh-ext", "west", "remote")]
    for cluster, mesh, other, kind in secrets_checked:
        item = checks[cluster]["remote secret {0} -> {1}".format(mesh, other)]
        assert item["evidence"]["can_read"] is True, item
        assert kind == "config" or item["evidence"]["writes_allowed"] == [], item
        assert item["status"] == "fail" and "Fix: set multimesh_api_server for " + other in item["reason"], item
    status = dict((cluster, dict((name, c["status"]) for name, c in found.items())) for cluster, found in checks.items())
    assert status["west"]["injector target mesh-pr"] == "pass" and status["west"]["injector target mesh-ext"] == "pass"
    assert status["east"]["injector target mesh-ext"] == "pass"  # the config cluster
    assert "istiod mesh-pr" not in status["west"] and status["east"]["istiod mesh-pr"] == "pass"
    assert status["central"]["istiod mesh-ext"] == "pass" and "injector mesh-ext" not in status["central"]
    # The gateway mesh's istiod discovers the external istiod's namespace and its gateway's by design, and nothing
    # else of mesh-ext.
    scope = checks["central"]["discovery scope mesh-gw"]
    assert scope["status"] == "pass" and scope["evidence"]["seen"] == [
        "external-istiod", "istio-system-gw", "istiod-gateway-mesh-ext"], scope
    # Issue 28 item 4: each cluster of mesh-mp asks helloworld through the mesh and judges the answers by the pods the
    # other cluster's host read in the same run. Real curl ran in the client pod (kwok's exec) and, with no pod
    # network, nothing answered: inconclusive, never passed.
    for here, other in (("east", "central"), ("central", "east")):
        across = checks[here]["cross-cluster app-mp: {0} -> {1}".format(here, other)]
        assert across["status"] == "fail" and across["reason"].startswith("inconclusive: "), across
        assert across["evidence"]["requests"] == 10 and across["evidence"]["answered_by"] == [], across
        assert sorted(p.rsplit("-", 2)[0] for p in across["evidence"]["their_pods"]) == ["helloworld-v1", "helloworld-v2"], across
        assert "across clusters:" in run.out
    assert not [name for name in checks["west"] if name.startswith("cross-cluster")]  # no client of a mesh there
    # mesh-pr's istiod reads west, where app-pr's Services are: its own namespace, not a foreign one.
    assert status["east"]["discovery scope mesh-pr"] == "pass", checks["east"]["discovery scope mesh-pr"]
    # The external istiod is asked too, and answers: the harness runs it as the chart would, reading its config
    # cluster (east). It discovers its own namespace there (the Service of the istiod account's cluster) and nothing
    # foreign, and serves no proxy (mesh-ext has no samples; the pods of test_the_external_istiod_is_called_by_name
    # are gone).
    scope = checks["central"]["discovery scope mesh-ext"]
    assert scope["status"] == "pass" and scope["evidence"]["foreign"] == [] and scope["evidence"]["seen"], scope
    assert set(scope["evidence"]["seen"]) <= {"app-ext", "external-istiod"}, scope
    # proxy-status, though, is refused: istioctl asks with a token of central, where the istiod pod runs, and the
    # external istiod authenticates it against its config cluster. Not observed: failed, never passed.
    mapping = checks["central"]["control-plane mapping mesh-ext"]
    assert mapping["status"] == "fail" and "authentication failure" in mapping["evidence"]["msg"], mapping


def test_cleanup_removes_every_topology_and_keeps_foreign_objects(converged, inventory, clusters, apis):
    from kubernetes import client

    core = {name: client.CoreV1Api(api) for name, api in apis.items()}
    core["east"].create_namespaced_secret("istio-system-pr", {
        "metadata": {"name": "istio-remote-secret-elsewhere", "labels": {"istio/multiCluster": "true"}},
        "stringData": {"elsewhere": "not ours"}})
    run = play(inventory, "cleanup.yml")
    assert run.rc == 0, run.out
    assert sorted(remote_secrets(apis["east"], "istio-system-pr")) == ["istio-remote-secret-elsewhere"]
    assert remote_secrets(apis["central"], "external-istiod") == {}
    for name in ("east", "west", "central"):
        deployments = client.AppsV1Api(apis[name]).list_deployment_for_all_namespaces(label_selector="app=istiod").items
        assert deployments == [], name
        webhooks = client.AdmissionregistrationV1Api(apis[name]).list_mutating_webhook_configuration().items
        assert [w.metadata.name for w in webhooks if "mesh-" in w.metadata.name] == [], name
    # The istiod gateway's own namespace goes with it (deleted, or being deleted by the namespace controller).
    gateway_ns = [n for n in core["central"].list_namespace().items if n.metadata.name == "istiod-gateway-mesh-ext"]
    assert not gateway_ns or gateway_ns[0].metadata.deletion_timestamp, gateway_ns
    again = play(inventory, "cleanup.yml")
    assert again.rc == 0, again.out
    assert all(r["changed"] == 0 for r in again.recaps().values()), again.out
