"""Meshes across clusters: every invalid multicluster inventory names its field; each topology gives each cluster
its part (role, remote secrets, address of the istiod that serves it, gateways, Helm values)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.values import control_plane_values
from ansible_collections.multimesh.istio.plugins.plugin_utils.gateway_objects import injected_gateway
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import ModelError, build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.planned_objects import planned_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_checks import check_roots, mesh_namespaces


def clusters(*specs):
    """Cluster hosts 'host[:name][@network]', each reaching its own kubeconfig context."""
    result = []
    for spec in specs:
        spec, dummy, network = spec.partition("@")
        host, dummy, name = spec.partition(":")
        result.append({"host": host, "name": name or None, "network": network or None, "access": ["", host]})
    return result


EAST_WEST = clusters("east@net-1", "west@net-2")
THREE = clusters("east@net-1", "west@net-2", "central@net-1")


def primary_remote(**changes):
    mesh = {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-1"], "topology": "primary-remote",
            "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"}, {"name": "west", "role": "remote"}]}
    mesh.update(changes)
    return mesh


LOCAL = {"name": "gateways", "namespace": "istio-system", "revision": "gateways",
         "discovery_labels": {"istio-discovery": "gateways"}, "clusters": ["central"]}


def exposed(gateway, address="istiod.example.com", local=None):
    """An external istiod exposed through another mesh's ingress gateway (seed 004), with that mesh (LOCAL unless
    given; False: none)."""
    local = LOCAL if local is None else local
    mesh = external(clusters=[{"name": "central", "role": "external", "address": address, "gateway": gateway},
                              {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}])
    return [mesh] + ([local] if local else [])


def external(**changes):
    mesh = {"name": "mesh-x", "namespace": "external-istiod", "members": ["app-x"], "topology": "external",
            "clusters": [{"name": "central", "role": "external", "address": "istiod.example.com"},
                         {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}]}
    mesh.update(changes)
    return mesh


def model(meshes, inventory=None, here="east", **kwargs):
    return build_model(meshes=copy.deepcopy(meshes), clusters=copy.deepcopy(inventory or EAST_WEST), here=here, **kwargs)


def errors_of(meshes, inventory=None, here="east", **kwargs):
    with pytest.raises(ModelError) as caught:
        model(meshes, inventory, here, **kwargs)
    return caught.value.errors


def placement(**changes):
    return [primary_remote(clusters=[dict({"name": "east", "role": "primary", "address": "192.0.2.10"}, **changes),
                                     {"name": "west", "role": "remote"}])]


# (id, meshes, inventory, the field the single error must name, a fragment of the problem or fix)
INVALID = [
    ("unknown-topology", [primary_remote(topology="hub-spoke")], EAST_WEST, "mesh 'mesh-1'.topology",
     "unknown topology 'hub-spoke'"),
    ("unknown-cluster", [primary_remote(clusters=[{"name": "east", "role": "primary", "address": "192.0.2.10"},
                                                  {"name": "north", "role": "remote"}])], EAST_WEST,
     "mesh 'mesh-1'.clusters[1].name", "'north' is not a cluster of this inventory (known: east, west)"),
    ("remote-without-primary", [primary_remote(clusters=[{"name": "east", "role": "remote"},
                                                         {"name": "west", "role": "remote"}])], EAST_WEST,
     "mesh 'mesh-1'.clusters", "needs 1 cluster with role 'primary', got 0"),
    ("two-primaries-in-primary-remote", [primary_remote(clusters=[
        {"name": "east", "role": "primary", "address": "192.0.2.10"}, {"name": "west", "role": "primary", "address": "192.0.2.11"},
        {"name": "central", "role": "remote"}])], THREE, "mesh 'mesh-1'.clusters",
     "allows 1 cluster with role 'primary', got 2 (east, west)"),
    ("primary-remote-without-remote", [primary_remote(clusters=[{"name": "east", "role": "primary", "address": "192.0.2.10"}])],
     EAST_WEST, "mesh 'mesh-1'.clusters", "needs at least 1 cluster with role 'remote', got 0"),
    ("duplicate-cluster-names", [{"name": "mesh-1", "namespace": "ns-1"}], clusters("east:one@net-1", "west:one@net-2"),
     "host 'west'.multimesh_cluster_name", "cluster name 'one' is already host 'east''s"),
    ("missing-network-where-networks-meet", [primary_remote()], clusters("east@net-1", "west"),
     "mesh 'mesh-1'.clusters", "clusters west have no multimesh_network while others are on net-1"),
    ("conflicting-mesh-ids", [primary_remote(mesh_id="shared"),
                              {"name": "mesh-2", "namespace": "istio-system-2", "mesh_id": "shared",
                               "topology": "multi-primary", "clusters": ["east", "west"]}], EAST_WEST,
     "mesh 'mesh-2'.mesh_id", "'shared' is already the mesh ID of mesh 'mesh-1'"),
    ("cluster-listed-twice", [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary",
                               "clusters": ["east", "east", "west"]}], EAST_WEST,
     "mesh 'mesh-1'.clusters[1]", "cluster 'east' is listed twice"),
    ("role-of-another-topology", [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary",
                                   "clusters": ["east", {"name": "west", "role": "remote"}]}], EAST_WEST,
     "mesh 'mesh-1'.clusters[1].role", "'remote' is not a role of topology 'multi-primary'"),
    ("multi-primary-with-one-primary", [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary",
                                         "clusters": ["east"]}], EAST_WEST,
     "mesh 'mesh-1'.clusters", "needs at least 2 clusters with role 'primary', got 1"),
    ("clusters-missing-for-topology", [primary_remote(clusters=None)], EAST_WEST, "mesh 'mesh-1'.clusters",
     "must be a non-empty list"),
    ("topology-without-clusters", [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary"}], EAST_WEST,
     "mesh 'mesh-1'.clusters", "is required for topology 'multi-primary'"),
    ("primary-without-address", placement(address=None), EAST_WEST, "mesh 'mesh-1'.clusters[0].address",
     "is required: the remote clusters' proxies and webhooks reach this cluster's istiod"),
    ("address-with-scheme", placement(address="https://192.0.2.10:15012"), EAST_WEST,
     "mesh 'mesh-1'.clusters[0].address", "is not an IP address or DNS name"),
    ("address-ipv6", placement(address="2001:db8::10"), EAST_WEST, "mesh 'mesh-1'.clusters[0].address",
     "is not an IP address or DNS name"),
    ("address-on-a-remote", [primary_remote(clusters=[{"name": "east", "role": "primary", "address": "192.0.2.10"},
                                                      {"name": "west", "role": "remote", "address": "192.0.2.11"}])],
     EAST_WEST, "mesh 'mesh-1'.clusters[1].address", "only the cluster whose istiod serves other clusters"),
    ("unknown-placement-key", placement(zone="a"), EAST_WEST, "mesh 'mesh-1'.clusters[0].zone", "unknown key"),
    ("external-without-config", [external(clusters=[{"name": "central", "role": "external", "address": "192.0.2.30"},
                                                    {"name": "west", "role": "remote"}])], THREE,
     "mesh 'mesh-x'.clusters", "needs 1 cluster with role 'config', got 0"),
    ("two-external-clusters", [external(clusters=[
        {"name": "central", "role": "external", "address": "192.0.2.30"},
        {"name": "west", "role": "external", "address": "192.0.2.31"}, {"name": "east", "role": "config"}])], THREE,
     "mesh 'mesh-x'.clusters", "allows 1 cluster with role 'external', got 2 (central, west)"),
    ("single-on-two-clusters", [{"name": "mesh-1", "namespace": "ns-1", "clusters": ["east", "west"]}], EAST_WEST,
     "mesh 'mesh-1'.clusters", "allows 1 cluster with role 'primary', got 2"),
    ("invalid-cluster-name", [{"name": "mesh-1", "namespace": "ns-1"}], clusters("east:East_1@net-1", "west@net-2"),
     "host 'east'.multimesh_cluster_name", "'East_1' is not a DNS-1123 label"),
    ("istio-default-cluster-name", [{"name": "mesh-1", "namespace": "ns-1"}], clusters("east:Kubernetes@net-1", "west@net-2"),
     "host 'east'.multimesh_cluster_name", "'Kubernetes' is not a DNS-1123 label"),
    ("invalid-network", [primary_remote()], clusters("east@net 1", "west@net-2"), "host 'east'.multimesh_network",
     "is not a label value"),
    ("invalid-mesh-id", [primary_remote(mesh_id="Mesh One")], EAST_WEST, "mesh 'mesh-1'.mesh_id", "not a DNS-1123 label"),
    ("two-hosts-one-cluster", [primary_remote()],
     [dict(c, access=["", "same"]) for c in EAST_WEST], "host 'west'", "reaches the same cluster as host 'east'"),
    ("api-server-not-https", [primary_remote()], [dict(EAST_WEST[0], api_server="10.0.0.5:6443"), EAST_WEST[1]],
     "host 'east'.multimesh_api_server", "is not an https:// URL"),
    ("host-without-access", [primary_remote()], [dict(EAST_WEST[0], access=["", ""]), EAST_WEST[1]], "host 'east'",
     "sets neither multimesh_kubeconfig nor multimesh_context"),
    ("gateway-mesh-unknown", exposed({"mesh": "nowhere"}), THREE, "mesh 'mesh-x'.clusters[0].gateway.mesh",
     "'nowhere' is not a mesh of this inventory"),
    ("gateway-mesh-without-istiod-there", exposed({"mesh": "gateways"}, local=dict(LOCAL, clusters=["west"])), THREE,
     "mesh 'mesh-x'.clusters[0].gateway.mesh", "mesh 'gateways' runs no istiod of its own on cluster 'central'"),
    ("gateway-mesh-is-the-external-one", exposed({"mesh": "mesh-x"}), THREE, "mesh 'mesh-x'.clusters[0].gateway.mesh",
     "names this mesh"),
    ("gateway-not-on-external", [primary_remote(clusters=[
        {"name": "east", "role": "primary", "address": "192.0.2.10", "gateway": {"mesh": "mesh-1"}},
        {"name": "west", "role": "remote"}])], EAST_WEST, "mesh 'mesh-1'.clusters[0].gateway",
     "only the external cluster's istiod"),
    ("gateway-not-a-mapping", exposed("gateways"), THREE, "mesh 'mesh-x'.clusters[0].gateway", "must be a mapping"),
    ("gateway-unknown-key", exposed({"mesh": "gateways", "port": 443}), THREE, "mesh 'mesh-x'.clusters[0].gateway.port",
     "unknown key"),
    ("gateway-credential-for-an-ip", exposed({"mesh": "gateways", "credential": "istiod-cert"}, address="192.0.2.30"),
     THREE, "mesh 'mesh-x'.clusters[0].gateway.credential", "address '192.0.2.30' is an IP address"),
    ("gateway-credential-not-a-name", exposed({"mesh": "gateways", "credential": "Istiod Cert"}), THREE,
     "mesh 'mesh-x'.clusters[0].gateway.credential", "is not a secret name"),
    ("mesh-name-on-other-clusters", [{"name": "mesh-1", "namespace": "ns-1", "clusters": ["east"]},
                                     {"name": "mesh-1", "namespace": "ns-2", "revision": "r2",
                                      "discovery_labels": {"istio-discovery": "other"}, "clusters": ["west"]}],
     EAST_WEST, "mesh 'mesh-1'.name", "already the name of mesh 'mesh-1'"),
]


@pytest.mark.parametrize("meshes,inventory,field,fragment", [case[1:] for case in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_multicluster_inventory_names_the_field(meshes, inventory, field, fragment):
    errors = errors_of(meshes, inventory)
    assert len(errors) == 1, errors
    assert errors[0].startswith(field + ": "), errors
    assert fragment in errors[0] and "Fix: " in errors[0], errors


def test_every_host_fails_on_a_mistake_of_another_cluster():
    meshes = [primary_remote(clusters=[{"name": "east", "role": "primary"}, {"name": "west", "role": "remote"}])]
    for here in ("east", "west"):
        assert errors_of(meshes, here=here)[0].startswith("mesh 'mesh-1'.clusters[0].address")


def test_namespaces_may_repeat_on_clusters_that_share_no_mesh():
    meshes = [{"name": "mesh-1", "namespace": "istio-system", "clusters": ["east"]},
              {"name": "mesh-2", "namespace": "istio-system", "clusters": ["west"], "revision": "mesh-2"}]
    assert [m["name"] for m in model(meshes, here="west")["meshes"]] == ["mesh-2"]
    shared = [dict(meshes[0], clusters=["east"]), dict(meshes[1], clusters=["east"])]
    assert any("already the namespace of mesh 'mesh-1'" in e for e in errors_of(shared))


def test_primary_remote_parts():
    east = model([primary_remote()], here="east")
    west = model([primary_remote()], here="west")
    primary, remote = east["meshes"][0], west["meshes"][0]
    assert (primary["role"], remote["role"]) == ("primary", "remote")
    assert primary["readers"] == [{"cluster": "west", "host": "west", "namespace": "istio-system-1", "mesh": "mesh-1",
                                   "type": "remote", "service_account": None}]
    assert remote["readers"] == [] and remote["served_by"] == {"cluster": "east", "address": "192.0.2.10"}
    assert primary["expose_istiod"] and primary["eastwest_gateway"] and remote["eastwest_gateway"]
    assert remote["control_plane_clusters"] == ["east"] and remote["install_profile"] == "remote"
    assert control_plane_values(primary, "sail")["global"] == {
        "meshID": "mesh-1", "multiCluster": {"clusterName": "east"}, "network": "net-1", "externalIstiod": True}
    values = control_plane_values(remote, "istioctl")
    assert values["global"]["remotePilotAddress"] == "192.0.2.10"
    assert values["istiodRemote"] == {"injectionPath": "/inject/cluster/west/net/net-2"}
    # Each host writes into a directory of its own.
    assert build_model(meshes=[primary_remote()], clusters=EAST_WEST, here="west", render_dir="/out",
                       verify_report_dir="/reports")["render_dir"] == "/out/west"
    assert west["verify_report_dir"] == "multimesh-verify/west"


def test_multi_primary_reads_every_other_primary_and_one_network_needs_no_gateway():
    inventory = clusters("a@net", "b@net", "c@net")
    meshes = [{"name": "mesh-1", "namespace": "ns-1", "topology": "multi-primary", "clusters": ["a", "b", "c"]}]
    mesh = model(meshes, inventory, here="b")["meshes"][0]
    assert [r["cluster"] for r in mesh["readers"]] == ["a", "c"]
    assert not mesh["eastwest_gateway"] and not mesh["expose_istiod"] and mesh["install_profile"] is None


def test_external_control_plane_parts():
    parts = {here: model([external()], THREE, here=here)["meshes"][0] for here in ("central", "east", "west")}
    assert [(r["cluster"], r["type"], r["service_account"]) for r in parts["central"]["readers"]] == [
        ("east", "config", "istiod-mesh-x"), ("west", "remote", None)]
    assert parts["central"]["network"] == "net-1"  # its config cluster's (east), whatever central's is
    assert parts["central"]["members"] == [] and parts["central"]["install_profile"] == "empty"
    assert parts["central"]["istiod_cluster"] == "east"  # the external istiod is named after its config cluster
    assert parts["west"]["control_plane_clusters"] == ["east"]
    assert parts["east"]["control_plane_clusters"] == []
    ext = control_plane_values(parts["central"], "sail")
    assert ext["global"]["caAddress"] == "istiod.example.com:15012"
    assert ext["global"]["multiCluster"] == {"clusterName": "east"} and "CLUSTER_ID" not in ext["pilot"]["env"]
    assert ext["meshConfig"]["defaultConfig"]["discoveryAddress"] == "istiod.example.com:15012"
    config = control_plane_values(parts["east"], "istioctl")
    assert config["global"]["configCluster"] is True and config["pilot"] == {"configMap": True}


def test_a_dns_named_istiod_is_called_by_url_on_15017_and_an_ip_by_path_on_its_service():
    """Issue 28 item 2: by DNS name, the charts would make the remote's istiod Service an ExternalName whose webhook
    port is 443, where the istiod's gateway does not listen; seed 004's DNS variant calls the webhooks by URL on
    15017. By IP, the Service gets that endpoint and the webhooks call paths on it (today's form)."""
    def served(meshes, inventory, here):
        return control_plane_values(model(meshes, inventory, here=here)["meshes"][0], "istioctl")
    by_ip = served([primary_remote()], None, "west")
    assert by_ip["istiodRemote"] == {"injectionPath": "/inject/cluster/west/net/net-2"} and "base" not in by_ip
    assert by_ip["global"]["remotePilotAddress"] == "192.0.2.10"
    named = primary_remote(clusters=[{"name": "east", "role": "primary", "address": "istiod.example.com"},
                                     {"name": "west", "role": "remote"}])
    by_name = served([named], None, "west")
    assert by_name["istiodRemote"] == {"injectionURL": "https://istiod.example.com:15017/inject/cluster/west/net/net-2"}
    assert by_name["base"] == {"validationURL": "https://istiod.example.com:15017/validate"}
    # The primary injects the remote's proxies with istiod-<rev>.<ns>.svc:15012: the ExternalName Service serves XDS.
    assert by_name["global"]["remotePilotAddress"] == "istiod.example.com"
    # External control plane by name: the injector (external istiod) sets the discovery address itself.
    for here in ("east", "west"):
        config = served([external()], THREE, here)
        assert config["istiodRemote"] == {"injectionURL": "https://istiod.example.com:15017/inject/cluster/{0}/net/net-{1}".format(
            here, 1 if here == "east" else 2)}, here
        assert config["base"] == {"validationURL": "https://istiod.example.com:15017/validate"}
        assert "remotePilotAddress" not in config["global"]
    ip_external = external(clusters=[{"name": "central", "role": "external", "address": "192.0.2.30"},
                                     {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}])
    config = served([ip_external], THREE, "east")
    assert config["istiodRemote"] == {"injectionPath": "/inject/cluster/east/net/net-1"} and "base" not in config
    assert config["global"]["remotePilotAddress"] == "192.0.2.30"


def test_a_gateway_with_the_users_certificate_makes_proxies_and_webhooks_trust_the_system_roots():
    """Seed 004's DNS variant: the gateway terminates TLS with the user's certificate, so the proxies verify XDS and
    CA against the system's roots, and the external istiod leaves the webhooks' caBundle alone (the API server
    verifies the certificate with its own roots); passthrough keeps istiod's CA and its patching."""
    def external_values(gateway, address):
        mesh = [m for m in model(exposed(gateway, address), THREE, here="central")["meshes"] if m["name"] == "mesh-x"][0]
        return control_plane_values(mesh, "sail")
    tls = external_values({"mesh": "gateways", "credential": "istiod-cert"}, "istiod.example.com")
    assert tls["meshConfig"]["defaultConfig"]["proxyMetadata"] == {
        "XDS_ROOT_CA": "/etc/ssl/certs/ca-certificates.crt", "CA_ROOT_CA": "/etc/ssl/certs/ca-certificates.crt"}
    assert tls["pilot"]["env"]["INJECTION_WEBHOOK_CONFIG_NAME"] == "" == tls["pilot"]["env"]["VALIDATION_WEBHOOK_CONFIG_NAME"]
    passthrough = external_values({"mesh": "gateways"}, "istiod.example.com")
    assert "proxyMetadata" not in passthrough["meshConfig"]["defaultConfig"]
    assert passthrough["pilot"]["env"]["INJECTION_WEBHOOK_CONFIG_NAME"] == "istio-sidecar-injector-mesh-x-external-istiod"
    assert passthrough["pilot"]["env"]["VALIDATION_WEBHOOK_CONFIG_NAME"] == "istio-validator-mesh-x-external-istiod"
    # TLS passes through to istiod, which the remotes call by name: its own certificate must name it.
    assert passthrough["pilot"]["env"]["ISTIOD_CUSTOM_HOST"] == "istiod.example.com"
    assert "ISTIOD_CUSTOM_HOST" not in tls["pilot"]["env"]  # the gateway's certificate names it
    assert "ISTIOD_CUSTOM_HOST" not in external_values({"mesh": "gateways"}, "192.0.2.30")["pilot"]["env"]


def test_a_primary_called_by_name_names_itself_in_its_certificate():
    """Primary-remote by DNS name: the remote's webhooks call https://<name>:15017 through the east-west gateway,
    which passes TLS through, so the primary's istiod adds the name to its certificate; by IP the remote calls the
    Service name, which the certificate already holds."""
    def primary_values(address):
        meshes = [primary_remote(clusters=[{"name": "east", "role": "primary", "address": address},
                                           {"name": "west", "role": "remote"}])]
        return control_plane_values(model(meshes, None, here="east")["meshes"][0], "istioctl")
    assert primary_values("istiod.example.com")["pilot"]["env"]["ISTIOD_CUSTOM_HOST"] == "istiod.example.com"
    assert "ISTIOD_CUSTOM_HOST" not in primary_values("192.0.2.10").get("pilot", {}).get("env", {})


def test_the_istiod_gateway_gets_secrets_only_when_it_terminates_tls():
    """Tenant-hardening point 13: the istiod gateway is an internet-facing LoadBalancer in the gateway mesh's
    control-plane namespace (istio-ca-secret, cacerts, remote-secret tokens). Without a TLS credential (TLS passes
    through to istiod) it needs no Secret: no Role, no RoleBinding. With one, istiod serves the credential by SDS only
    to a gateway that may list the namespace's Secrets (a SubjectAccessReview without a name), so the Role stays."""
    def objects(gateway, address):
        mesh = [m for m in model(exposed(gateway, address), THREE, here="central")["meshes"] if m["name"] == "mesh-x"][0]
        return dict((o["kind"], o) for o in injected_gateway(mesh["istiod_gateway"], {}))
    passthrough = objects({"mesh": "gateways"}, "192.0.2.30")
    assert sorted(passthrough) == ["Deployment", "Service", "ServiceAccount"]
    assert planned_kinds({"mesh": "gateways"}, "192.0.2.30") == {
        "Deployment", "Gateway", "Service", "ServiceAccount", "VirtualService"}
    terminating = objects({"mesh": "gateways", "credential": "istiod-cert"}, "istiod.example.com")
    assert sorted(terminating) == ["Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"]
    assert terminating["RoleBinding"]["subjects"] == [{"kind": "ServiceAccount", "name": "istiod-gateway-mesh-x"}]
    assert "Role" in planned_kinds({"mesh": "gateways", "credential": "istiod-cert"}, "istiod.example.com")


def test_the_istiod_gateways_own_namespace_is_created_owned_and_never_taken_over():
    """Tenant issue, point 13 with TLS: the gateway's Role lists every Secret of its namespace, so the namespace is the
    gateway's alone - rendered first and owned (cleanup deletes it); one that exists without this inventory's labels
    (a tenant's look-alike, holding Secrets of its own) stops pre-flight, and another inventory's too."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.preflight_checks import preflight_problems

    central = model(exposed({"mesh": "gateways", "credential": "istiod-cert"}), THREE, here="central", owner="team-a",
                    backend="istioctl")
    gateway = [m for m in central["meshes"] if m["name"] == "mesh-x"][0]["istiod_gateway"]
    assert set(o["metadata"]["namespace"] for o in injected_gateway(gateway, {})) == {"istiod-gateway-mesh-x"}

    def namespace(labels):
        return {"kind": "Namespace", "metadata": {"name": "istiod-gateway-mesh-x", "labels": labels}}

    ours = {"app.kubernetes.io/managed-by": "multimesh.istio", "multimesh.istio/owner": "team-a"}
    assert preflight_problems(central, [], [], [namespace(ours)]) == []
    assert preflight_problems(central, [], [], [namespace({"team": "payments"})]) == [
        "Namespace istiod-gateway-mesh-x (the istiod gateway of mesh 'mesh-x') exists and is not this inventory's: it "
        "exists without this inventory's labels (app.kubernetes.io/managed-by=multimesh.istio "
        "multimesh.istio/owner=team-a). Fix: delete it if nothing needs it (site.yml creates it; create the gateway's "
        "TLS credential there after that), or, to hand it to this inventory on purpose, label it "
        "app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a (cleanup then deletes it)."]
    theirs = preflight_problems(central, [], [], [namespace(dict(ours, **{"multimesh.istio/owner": "team-b"}))])
    assert theirs == ["Namespace istiod-gateway-mesh-x belongs to the inventory 'team-b' (multimesh.istio/owner=team-b), "
                      "not to this one ('team-a'). Fix: take it out of this inventory, or set multimesh_owner: team-b "
                      "if this is that inventory."]


def planned_kinds(gateway, address):
    """The kinds of the istiod gateway's objects that cleanup.yml looks for (planned_objects)."""
    found = planned_objects(model(exposed(gateway, address), THREE, here="central"))
    return set(o["kind"] for o in found if o["name"] == "istiod-gateway-mesh-x")


def test_external_istiod_behind_another_meshs_ingress_gateway():
    meshes = exposed({"mesh": "gateways", "credential": "istiod-cert"})
    central = dict((m["name"], m) for m in model(meshes, THREE, here="central")["meshes"])
    # Its own namespace: the Role its TLS credential needs (list Secrets) reaches nothing of the gateway mesh's.
    assert central["mesh-x"]["istiod_gateway"] == {"mesh": "gateways", "credential": "istiod-cert", "namespace": "istiod-gateway-mesh-x",
                                                   "revision": "gateways", "name": "istiod-gateway-mesh-x",
                                                   "service_type": "LoadBalancer", "ports": [
                                                       {"name": "status-port", "port": 15021, "target_port": 15021},
                                                       {"name": "tls-xds", "port": 15012, "target_port": 15012},
                                                       {"name": "tls-webhook", "port": 15017, "target_port": 15017}]}
    # The gateway's mesh discovers the external istiod's namespace and the gateway's, and nothing else of it.
    assert control_plane_values(central["gateways"], "sail")["meshConfig"]["discoverySelectors"] == [
        {"matchLabels": {"istio-discovery": "gateways"}}, {"matchLabels": {"kubernetes.io/metadata.name": "external-istiod"}},
        {"matchLabels": {"kubernetes.io/metadata.name": "istiod-gateway-mesh-x"}}]
    assert central["gateways"]["fronted_namespaces"] == ["external-istiod", "istiod-gateway-mesh-x"]
    assert mesh_namespaces(central["gateways"]) == {"istio-system", "external-istiod", "istiod-gateway-mesh-x"}
    # The other clusters are unchanged; the mesh without the option keeps its Service.
    assert [m["istiod_gateway"] for m in model(meshes, THREE, here="east")["meshes"]] == [None]
    assert model([external()], THREE, here="central")["meshes"][0]["istiod_gateway"] is None


def test_the_external_istiods_namespace_is_judged_by_the_root_of_the_mesh_that_discovers_it():
    """The gateway mesh's istiod discovers external-istiod by design and writes its own root there: that is not the
    external mesh sharing its root (the external istiod writes its root on the config cluster, checked there)."""
    central = model(exposed({"mesh": "gateways"}), THREE, here="central")

    def root(ns, pem):
        return {"metadata": {"name": "istio-ca-root-cert", "namespace": ns}, "data": {"root-cert.pem": pem}}
    found = [root("istio-system", "GW"), root("external-istiod", "GW"), root("istiod-gateway-mesh-x", "GW")]
    checks = dict((c["name"], c) for c in check_roots(central, found))
    assert dict((n, c["status"]) for n, c in checks.items()) == {
        "root of trust external-istiod": "pass", "root of trust istiod-gateway-mesh-x": "pass"}, checks
    assert checks["root of trust external-istiod"]["expected"] == "root of gateways (it discovers external-istiod by design)"
    # A root there that is not the discovering mesh's still fails.
    found[1] = root("external-istiod", "OTHER")
    assert check_roots(central, found)[0]["status"] == "fail"
    # On the config cluster the external mesh's root is its own, and its members are judged by it.
    east = model(exposed({"mesh": "gateways"}), THREE, here="east")
    assert set(c["status"] for c in check_roots(east, [root("external-istiod", "X"), root("app-x", "X")])) == {"pass"}
    assert [c["observed"] for c in check_roots(east, [root("external-istiod", "X"), root("app-x", "GW")])] == [
        "root of an unknown CA"]


def test_single_cluster_inventories_are_unchanged():
    single = build_model(meshes=[{"name": "mesh-1", "namespace": "ns-1"}])
    assert single["render_dir"] is None and single["verify_report_dir"] == "multimesh-verify"
    assert control_plane_values(single["meshes"][0], "sail") == {
        "meshConfig": {"discoverySelectors": [{"matchLabels": {"istio-discovery": "mesh-1"}}]}}


def test_verification_of_remote_secrets_and_remote_injectors():
    from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_checks as judges
    from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_report as reporting

    east = model([primary_remote()], here="east")
    reader = {"namespace": "istio-system-1", "cluster": "west", "type": "remote", "secret": "istio-remote-secret-west",
              "exists": True, "server": "https://west", "can_read": True, "writes_allowed": [], "error": None}
    assert [c["status"] for c in judges.check_remote_access(east, [reader])] == [reporting.PASS]
    assert judges.check_remote_access(east, [dict(reader, writes_allowed=["create secrets"])])[0]["status"] == reporting.FAIL
    assert judges.check_remote_access(east, [dict(reader, can_read=False, error="403")])[0]["reason"] == "403"
    assert judges.check_remote_access(east, [])[0]["observed"] == "not observed"
    loopback = judges.check_remote_access(east, [dict(reader, server="https://127.0.0.1:6443")])[0]
    assert loopback["status"] == reporting.FAIL and "multimesh_api_server" in loopback["reason"]
    west = model([primary_remote()], here="west")
    hook = {"metadata": {"name": "istio-sidecar-injector-mesh-1-istio-system-1", "labels": {"istio.io/rev": "mesh-1"}},
            "webhooks": [{"clientConfig": {"service": {"name": "istiod-mesh-1", "path": "/inject/cluster/west/net/net-2"}}}]}
    checks = {c["name"]: c["status"] for c in judges.check_control_planes(west, [], [hook], [])}
    # No istiod and no validator is expected on a remote; its injector must call istiod for this cluster.
    assert checks == {"injector mesh-1": reporting.PASS, "injector target mesh-1": reporting.PASS, "default webhooks": reporting.PASS}
    hook["webhooks"][0]["clientConfig"]["service"]["path"] = "/inject/cluster/west/net/net-20"
    assert {c["name"]: c["status"] for c in judges.check_control_planes(west, [], [hook], [])}["injector target mesh-1"] == reporting.FAIL


def two_exposed(first, second, front="gateways"):
    """Two external istiods on central, each behind mesh front's ingress gateway."""
    meshes = []
    for index, name in enumerate((first, second)):
        meshes.append(external(name=name, namespace="external-{0}".format(index), members=["app-{0}".format(index)],
                               revision="ext-{0}".format(index), clusters=[
                                   {"name": "central", "role": "external", "address": "istiod-{0}.example.com".format(index),
                                    "gateway": {"mesh": front}},
                                   {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}]))
    return meshes + [LOCAL]


def test_two_external_istiods_whose_gateway_names_are_cut_alike_are_refused():
    """Tenant issue, point 14: istiod-gateway-<mesh> is cut to 63 characters, so meshes alike in their first 48 would
    share one gateway (Deployment, Service, Gateway) in one namespace named as it."""
    alike = "a" * 48
    with pytest.raises(ModelError) as caught:
        model(two_exposed(alike + "-east", alike + "-west"), THREE, here="central")
    assert caught.value.errors == [
        "mesh '{0}-west'.clusters[0].gateway: its gateway and the gateway's namespace would be named istiod-gateway-{0} "
        "(istiod-gateway-<mesh name>, cut to 63 characters) on cluster 'central', as mesh '{0}-east''s are, so one "
        "mesh's gateway would replace the other's. Fix: rename mesh '{0}-east' or mesh '{0}-west' so that their gateway "
        "names differ (mesh names of at most 48 characters are never cut).".format(alike)]
    # Behind the gateways of two meshes too: each gateway has its namespace, named as it.
    meshes = two_exposed(alike + "-east", alike + "-west")
    meshes[1]["clusters"][0]["gateway"]["mesh"] = "gateways-2"
    meshes.append(dict(LOCAL, name="gateways-2", namespace="istio-system-2", revision="gateways-2",
                       discovery_labels={"istio-discovery": "gateways-2"}))
    with pytest.raises(ModelError):
        model(meshes, THREE, here="central")
    # Every cluster host validates the whole inventory: east, which runs neither gateway, refuses it too.
    with pytest.raises(ModelError):
        model(two_exposed(alike + "-east", alike + "-west"), THREE, here="east")


def test_two_external_istiods_with_gateway_names_of_their_own_pass():
    names = [m["istiod_gateway"]["name"] for m in model(two_exposed("mesh-x", "mesh-y"), THREE, here="central")["meshes"]
             if m.get("istiod_gateway")]
    assert names == ["istiod-gateway-mesh-x", "istiod-gateway-mesh-y"]
    long = "b" * 46  # 48 characters: not cut
    names = [m["istiod_gateway"]["name"] for m in model(two_exposed(long + "-x", long + "-y"), THREE, here="central")["meshes"]
             if m.get("istiod_gateway")]
    assert names == ["istiod-gateway-" + long + "-x", "istiod-gateway-" + long + "-y"] and all(len(n) == 63 for n in names)
