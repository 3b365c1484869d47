"""The mesh model: every invalid inventory names its field; valid ones expand to the documented model."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import (
    REFUSED_VALUES,
    SPEC_PATH,
    ModelError,
    build_model,
    inventory_spec,
    unknown_variables,
)


def two_meshes():
    return [
        {"name": "mesh-1", "namespace": "istio-system-1", "members": ["app-ns-1"]},
        {"name": "mesh-2", "namespace": "istio-system-2", "members": ["app-ns-2", "app-ns-3"]},
    ]


def with_change(index, **changes):
    meshes = two_meshes()
    meshes[index].update(changes)
    return meshes


def errors_of(**kwargs):
    kwargs.setdefault("meshes", two_meshes())
    with pytest.raises(ModelError) as caught:
        build_model(**kwargs)
    return caught.value.errors


# (id, build_model arguments, the field the single error must name, a fragment of the problem or fix)
INVALID = [
    ("default-mesh-unknown", dict(meshes=two_meshes(), default_mesh="mesh-3"),
     "multimesh_default_mesh", "'mesh-3' is not a mesh of this inventory"),
    ("default-mesh-not-a-string", dict(meshes=two_meshes(), default_mesh=["mesh-1"]), "multimesh_default_mesh", "Fix: "),
    # Chart names join revision and namespace with '-': a-b + c and a + b-c name the same ClusterRoles.
    ("cluster-object-names-collide", dict(meshes=[{"name": "m1", "namespace": "c", "revision": "a-b"},
                                                  {"name": "m2", "namespace": "b-c", "revision": "a"}]),
     "mesh 'm2'.revision", "its install would create ClusterRole istiod-clusterrole-a-b-c and 7 more object(s), as would mesh 'm1' "
     "(revision a-b, namespace c)"),
    ("istioctl-revision-cni", dict(backend="istioctl", meshes=with_change(1, revision="cni")),
     "mesh 'mesh-2'.revision", "'cni' is the revision of the shared CNI's IstioOperator"),
    ("duplicate-name", dict(meshes=with_change(1, name="mesh-1", revision="rev-2", discovery_labels={"istio-discovery": "m2"})),
     "mesh 'mesh-1'.name", "already the name of mesh 'mesh-1'"),
    ("duplicate-namespace", dict(meshes=with_change(1, namespace="istio-system-1")),
     "mesh 'mesh-2'.namespace", "already the namespace of mesh 'mesh-1'"),
    ("duplicate-revision", dict(meshes=with_change(1, revision="mesh-1")),
     "mesh 'mesh-2'.revision", "already the revision of mesh 'mesh-1'"),
    ("default-revision-twice", dict(meshes=[
        {"name": "mesh-1", "namespace": "ns-1", "revision": "default"},
        {"name": "mesh-2", "namespace": "ns-2", "revision": "default"}]),
     "mesh 'mesh-2'.revision", "only one mesh can be the default"),
    ("member-of-two-meshes", dict(meshes=with_change(1, members=["app-ns-2", "app-ns-1"])),
     "mesh 'mesh-2'.members[1]", "already a member of mesh 'mesh-1'"),
    ("member-is-other-control-plane", dict(meshes=with_change(1, members=["istio-system-1"])),
     "mesh 'mesh-2'.members[0]", "control-plane namespace of mesh 'mesh-1'"),
    ("member-is-own-control-plane", dict(meshes=with_change(0, members=["istio-system-1"])),
     "mesh 'mesh-1'.members[0]", "labelled automatically"),
    ("selector-subset-overlap", dict(meshes=[
        {"name": "mesh-1", "namespace": "ns-1", "discovery_labels": {"team": "a"}},
        {"name": "mesh-2", "namespace": "ns-2", "discovery_labels": {"team": "a", "env": "prod"}}]),
     "mesh 'mesh-1'.discovery_labels", "also selects the namespaces of mesh 'mesh-2'"),
    ("identical-selectors", dict(meshes=[
        {"name": "mesh-1", "namespace": "ns-1", "discovery_labels": {"istio-discovery": "shared"}},
        {"name": "mesh-2", "namespace": "ns-2", "discovery_labels": {"istio-discovery": "shared"}}]),
     "mesh 'mesh-1'.discovery_labels", "also selects the namespaces of mesh 'mesh-2'"),
    ("name-uppercase", dict(meshes=with_change(0, name="Mesh-1", discovery_labels={"istio-discovery": "m1"})),
     "mesh 'Mesh-1'.name", "not a valid DNS-1123 label"),
    ("namespace-underscore", dict(meshes=with_change(0, namespace="istio_system_1")),
     "mesh 'mesh-1'.namespace", "not a valid DNS-1123 label"),
    ("revision-too-long", dict(meshes=with_change(0, revision="r" * 64)),
     "mesh 'mesh-1'.revision", "not a valid DNS-1123 label"),
    ("member-name-invalid", dict(meshes=with_change(0, members=["App.NS"])),
     "mesh 'mesh-1'.members[0].name", "not a valid DNS-1123 label"),
    ("label-key-invalid", dict(meshes=with_change(0, discovery_labels={"bad key!": "x"})),
     "mesh 'mesh-1'.discovery_labels.bad key!", "label key name"),
    ("label-key-prefix-invalid", dict(meshes=with_change(0, discovery_labels={"Example.COM/team": "x"})),
     "mesh 'mesh-1'.discovery_labels.Example.COM/team", "not a DNS-1123 subdomain"),
    ("label-value-invalid", dict(meshes=with_change(0, discovery_labels={"istio-discovery": "-mesh"})),
     "mesh 'mesh-1'.discovery_labels.istio-discovery", "not valid label syntax"),
    ("label-value-not-string", dict(meshes=with_change(0, discovery_labels={"istio-discovery": 1})),
     "mesh 'mesh-1'.discovery_labels.istio-discovery", "must be a string"),
    ("label-is-revision-label", dict(meshes=with_change(0, discovery_labels={"istio.io/rev": "mesh-1"})),
     "mesh 'mesh-1'.discovery_labels.istio.io/rev", "set the mesh's 'revision'"),
    ("empty-discovery-labels", dict(meshes=with_change(0, discovery_labels={})),
     "mesh 'mesh-1'.discovery_labels", "select every namespace"),
    ("unknown-mesh-key", dict(meshes=with_change(0, memebers=["x"])),
     "mesh 'mesh-1'.memebers", "did you mean 'members'"),
    ("unknown-cni-key", dict(cni={"enabled": True, "namspace": "istio-cni"}),
     "multimesh_cni.namspace", "did you mean 'namespace'"),
    ("unknown-member-key", dict(meshes=with_change(0, members=[{"name": "app-ns-1", "own": True}])),
     "mesh 'mesh-1'.members[0].own", "did you mean 'owned'"),
    ("members-not-list", dict(meshes=with_change(0, members="app-ns-1")),
     "mesh 'mesh-1'.members", "must be a list, got a string"),
    ("labels-not-mapping", dict(meshes=with_change(0, discovery_labels=["istio-discovery=mesh-1"])),
     "mesh 'mesh-1'.discovery_labels", "must be a mapping, got a list"),
    ("values-not-mapping", dict(meshes=with_change(0, values=["pilot"])),
     "mesh 'mesh-1'.values", "must be a mapping, got a list"),
    ("cni-enabled-not-bool", dict(cni={"enabled": "yes"}),
     "multimesh_cni.enabled", "must be a boolean, got a string"),
    ("member-owned-not-bool", dict(meshes=with_change(0, members=[{"name": "app-ns-1", "owned": "true"}])),
     "mesh 'mesh-1'.members[0].owned", "must be a boolean"),
    ("mesh-not-mapping", dict(meshes=["mesh-1"]),
     "multimesh_meshes[0]", "must be a mapping, got a string"),
    ("meshes-not-list", dict(meshes={"name": "mesh-1"}),
     "multimesh_meshes", "must be a list, got a mapping"),
    ("meshes-empty", dict(meshes=[]),
     "multimesh_meshes", "is empty"),
    ("unsupported-backend", dict(backend="helm"),
     "multimesh_backend", "unsupported backend 'helm'"),
    ("unsupported-mtls", dict(meshes=with_change(1, mtls_mode="DISABLE")),
     "mesh 'mesh-2'.mtls_mode", "unsupported mode 'DISABLE'"),
    ("missing-name", dict(meshes=[{"namespace": "ns-1"}]),
     "multimesh_meshes[0].name", "is required"),
    ("missing-namespace", dict(meshes=[{"name": "mesh-1"}]),
     "mesh 'mesh-1'.namespace", "is required"),
    ("bad-mesh-version", dict(meshes=with_change(0, version="latest")),
     "mesh 'mesh-1'.version", "not an Istio version"),
    ("bad-default-version", dict(istio_version="1.x"),
     "multimesh_istio_version", "not an Istio version"),
    ("version-not-string", dict(meshes=with_change(0, version=1.3)),
     "mesh 'mesh-1'.version", "must be a string"),
    ("unknown-sample", dict(samples=["sleep", "bookinfo"]),
     "multimesh_samples[1]", "unknown sample 'bookinfo'"),
    ("unknown-mesh-sample", dict(meshes=with_change(0, samples=["httpbn"])),
     "mesh 'mesh-1'.samples[0]", "unknown sample 'httpbn'"),
    ("reserved-member", dict(meshes=with_change(0, members=["kube-system"])),
     "mesh 'mesh-1'.members[0].name", "namespace Kubernetes owns"),
    ("reserved-control-plane", dict(meshes=with_change(0, namespace="default")),
     "mesh 'mesh-1'.namespace", "namespace Kubernetes owns"),
    ("values-discovery-selectors", dict(meshes=with_change(0, values={"meshConfig": {"discoverySelectors": []}})),
     "mesh 'mesh-1'.values.meshConfig.discoverySelectors", "built from discovery_labels"),
    ("values-istio-namespace", dict(meshes=with_change(0, values={"global": {"istioNamespace": "other"}})),
     "mesh 'mesh-1'.values.global.istioNamespace", "differs from the mesh namespace"),
    ("values-global-revision", dict(meshes=with_change(0, values={"global": {"revision": "x"}})),
     "mesh 'mesh-1'.values.global.revision", "set by the collection"),
    ("values-revision", dict(meshes=with_change(0, values={"revision": "x"})),
     "mesh 'mesh-1'.values.revision", "set from the mesh's 'revision'"),
    ("cni-namespace-is-control-plane", dict(cni={"namespace": "istio-system-1"}),
     "multimesh_cni.namespace", "control-plane namespace of mesh 'mesh-1'"),
    ("member-is-cni-namespace", dict(meshes=with_change(0, members=["istio-cni"])),
     "mesh 'mesh-1'.members[0]", "IstioCNI namespace"),
    ("member-listed-twice", dict(meshes=with_change(0, members=["app-ns-1", "app-ns-1"])),
     "mesh 'mesh-1'.members[1]", "listed twice"),
    ("render-dir-not-string", dict(render_dir=["out"]),
     "multimesh_render_dir", "must be a string"),
    # Inputs that pass the syntax checks but would break isolation (issue 13, points 9-11).
    ("discovery-by-namespace-name", dict(meshes=with_change(1, discovery_labels={"kubernetes.io/metadata.name": "istio-system-1"})),
     "mesh 'mesh-2'.discovery_labels.kubernetes.io/metadata.name", "a label Kubernetes sets"),
    ("discovery-by-managed-by", dict(meshes=with_change(1, discovery_labels={"app.kubernetes.io/managed-by": "multimesh.istio"})),
     "mesh 'mesh-2'.discovery_labels.app.kubernetes.io/managed-by", "every control-plane and CNI namespace"),
    ("discovery-by-istio-injection", dict(meshes=with_change(1, discovery_labels={"istio-injection": "enabled"})),
     "mesh 'mesh-2'.discovery_labels.istio-injection", "overrides istio.io/rev"),
    ("values-root-namespace", dict(meshes=with_change(0, values={"meshConfig": {"rootNamespace": "istio-system"}})),
     "mesh 'mesh-1'.values.meshConfig.rootNamespace", "stops being mesh-wide"),
    ("values-ca-address", dict(meshes=with_change(0, values={"global": {"caAddress": "istiod.istio-system-2.svc:15012"}})),
     "mesh 'mesh-1'.values.global.caAddress", "another CA"),
    ("values-discovery-address", dict(meshes=with_change(0, values={"meshConfig": {"defaultConfig": {
        "discoveryAddress": "istiod-mesh-2.istio-system-2.svc:15012"}}})),
     "mesh 'mesh-1'.values.meshConfig.defaultConfig.discoveryAddress", "another control plane"),
    # Values that reach other meshes' pods (tenant issue, point 10): the collection makes the revision tags itself.
    ("values-revision-tag-of-another-mesh", dict(meshes=with_change(0, values={"revisionTags": ["mesh-2"]})),
     "mesh 'mesh-1'.values.revisionTags", "another mesh's too when the tag is its revision"),
    ("values-revision-tag-of-its-own", dict(meshes=with_change(0, values={"revisionTags": ["canary"]},
                                                               update_strategy={"type": "RevisionBased"})),
     "mesh 'mesh-1'.values.revisionTags", "the collection makes the tags itself"),
    ("values-default-revision", dict(meshes=with_change(0, values={"defaultRevision": "mesh-2"})),
     "mesh 'mesh-1'.values.defaultRevision", "set multimesh_default_mesh"),
    ("values-inject-every-namespace", dict(meshes=with_change(0, values={
        "sidecarInjectorWebhook": {"enableNamespacesByDefault": True}})),
     "mesh 'mesh-1'.values.sidecarInjectorWebhook.enableNamespacesByDefault", "other meshes'"),
    ("values-shared-trust-domain", dict(meshes=[dict(m, values={"meshConfig": {"trustDomain": "corp.example"}})
                                                for m in two_meshes()]),
     "mesh 'mesh-2'.values.meshConfig.trustDomain", "already the trust domain of mesh 'mesh-1'"),
    ("namespace-with-trailing-newline", dict(meshes=with_change(1, namespace="istio-system-2\n")),
     "mesh 'mesh-2'.namespace", "not a valid DNS-1123 label"),
    ("label-value-with-trailing-newline", dict(meshes=with_change(1, discovery_labels={"istio-discovery": "mesh-2\n"})),
     "mesh 'mesh-2'.discovery_labels.istio-discovery", "not valid label syntax"),
    ("version-without-patch", dict(istio_version="1.30"),
     "multimesh_istio_version", "'1.30' is not an Istio version"),
]


@pytest.mark.parametrize("kwargs,field,fragment", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_inventory_names_the_field(kwargs, field, fragment):
    errors = errors_of(**copy.deepcopy(kwargs))
    assert len(errors) == 1, errors
    assert errors[0].startswith(field + ": "), errors[0]
    assert fragment in errors[0]
    assert "Fix: " in errors[0]


def test_at_least_25_invalid_inventories():
    assert len(INVALID) >= 25


def test_every_problem_is_reported_at_once():
    meshes = with_change(0, mtls_mode="STRIKT")
    meshes[1]["colour"] = "blue"
    errors = errors_of(backend="helm", meshes=meshes)
    fields = [e.split(": ", 1)[0] for e in errors]
    assert fields == ["multimesh_backend", "mesh 'mesh-1'.mtls_mode", "mesh 'mesh-2'.colour"]


def test_error_message_lists_problems():
    with pytest.raises(ModelError) as caught:
        build_model(meshes=with_change(1, namespace="istio-system-1"))
    assert str(caught.value).startswith("Invalid multimesh inventory (1 problem):\n- mesh 'mesh-2'.namespace")


def test_defaults_are_expanded():
    model = build_model(meshes=two_meshes(), samples=["sleep", "httpbin"])
    assert model["backend"] == "sail"
    assert model["istio_version"] == "1.30.3"
    assert model["cni"] == {"enabled": True, "namespace": "istio-cni", "version": "1.30.3", "values": {}}
    assert model["render"] is False and model["render_dir"] is None
    assert model["meshes"][1] == {
        "name": "mesh-2",
        "namespace": "istio-system-2",
        "revision": "mesh-2",
        "control_plane_revision": "mesh-2",
        "update_strategy": {"type": "InPlace", "inactive_revision_deletion_grace_period_seconds": 30},
        "version": "1.30.3",
        "discovery_labels": {"istio-discovery": "mesh-2"},
        "mtls_mode": "STRICT",
        "members": [{"name": "app-ns-2", "owned": False}, {"name": "app-ns-3", "owned": False}],
        "member_names": ["app-ns-2", "app-ns-3"],
        # No ingress gateway unless asked; the namespaces the members stage labels are the members then.
        "ingress_gateway": None, "ingress_gateway_name": "ingressgateway-mesh-2",
        "labelled_namespaces": [{"name": "app-ns-2", "owned": False}, {"name": "app-ns-3", "owned": False}],
        "holds_config": True,
        "samples": ["sleep", "httpbin"],
        "values": {},
        # The Helm values the templates write out (plugin_utils/values.py): the shared CNI's use and the selectors.
        "control_plane_values": {"meshConfig": {"discoverySelectors": [{"matchLabels": {"istio-discovery": "mesh-2"}}]},
                                 "pilot": {"cni": {"enabled": True}}},
        "discovery_selectors": [{"matchLabels": {"istio-discovery": "mesh-2"}}],
        "member_labels": {"istio-discovery": "mesh-2", "istio.io/rev": "mesh-2"},
        # A Sidecar 'default' per member namespace: its proxies see only the mesh's own namespaces.
        "sidecar_egress_hosts": ["app-ns-2/*", "app-ns-3/*", "istio-system-2/*"],
        "default": False,
        # One cluster, the mesh on its own there.
        "topology": "single", "mesh_id": "mesh-2", "placements": [], "role": "primary", "cluster": "cluster",
        "network": "", "multicluster": False, "readers": [], "served_by": None, "multi_network": False,
        "eastwest_gateway": False, "istiod_gateway": None, "expose_istiod": False, "istiod_cluster": "cluster", "control_plane_clusters": [],
        "expose_address": None, "gateways": False, "install_profile": None, "istiod_service": "istiod-mesh-2",
        # No external istiod behind its ingress gateway.
        "fronted_namespaces": [],
        # What its install creates outside any namespace (the pre-flight looks for collisions).
        "cluster_objects": [
            {"kind": kind, "name": name + "-mesh-2-istio-system-2"}
            for name in ("istiod-clusterrole", "istiod-gateway-controller", "istio-reader-clusterrole")
            for kind in ("ClusterRole", "ClusterRoleBinding")] + [
            {"kind": "MutatingWebhookConfiguration", "name": "istio-sidecar-injector-mesh-2-istio-system-2"},
            {"kind": "ValidatingWebhookConfiguration", "name": "istio-validator-mesh-2-istio-system-2"}],
    }
    assert model["default_mesh"] is None
    assert model["cluster"] == {"host": "cluster", "name": "cluster", "network": ""}


def test_default_mesh_is_marked():
    model = build_model(meshes=two_meshes(), default_mesh="mesh-2")
    assert model["default_mesh"] == "mesh-2"
    assert [m["default"] for m in model["meshes"]] == [False, True]


def test_explicit_values_win_and_versions_are_normalized():
    meshes = [{
        "name": "blue", "namespace": "blue-system", "revision": "blue-1-30", "version": "v1.29.2",
        "discovery_labels": {"example.com/mesh": "blue", "tier": "prod"}, "mtls_mode": "PERMISSIVE",
        "members": [{"name": "shop", "owned": True}, "payments"], "samples": ["helloworld"],
        "values": {"pilot": {"resources": {"requests": {"cpu": "100m"}}}},
    }]
    model = build_model(backend="istioctl", istio_version="v1.30-latest", meshes=meshes,
                        cni={"enabled": False, "version": "1.29.2"}, render_dir="/tmp/out")
    mesh = model["meshes"][0]
    assert model["backend"] == "istioctl"
    assert model["istio_version"] == "1.30-latest"
    assert model["cni"]["enabled"] is False and model["cni"]["version"] == "1.29.2"
    assert model["render"] is True and model["render_dir"] == "/tmp/out"
    assert mesh["version"] == "1.29.2" and mesh["revision"] == "blue-1-30"
    assert mesh["members"] == [{"name": "shop", "owned": True}, {"name": "payments", "owned": False}]
    assert mesh["samples"] == ["helloworld"]
    assert mesh["member_labels"] == {"example.com/mesh": "blue", "tier": "prod", "istio.io/rev": "blue-1-30"}
    assert mesh["values"] == meshes[0]["values"] and mesh["values"] is not meshes[0]["values"]


def test_same_key_different_values_do_not_overlap():
    meshes = [{"name": "a", "namespace": "a-system", "discovery_labels": {"team": "a"}},
              {"name": "b", "namespace": "b-system", "discovery_labels": {"team": "b"}}]
    assert [m["name"] for m in build_model(meshes=meshes)["meshes"]] == ["a", "b"]


def test_one_default_revision_is_allowed():
    model = build_model(meshes=with_change(0, revision="default"))
    assert model["meshes"][0]["member_labels"]["istio.io/rev"] == "default"


def test_input_is_not_modified():
    meshes = two_meshes()
    before = copy.deepcopy(meshes)
    build_model(meshes=meshes)
    assert meshes == before


def test_unknown_variables_suggest_the_right_name():
    errors = unknown_variables(["multimesh_mesh", "multimesh_meshes", "unrelated", "multimesh_backend", "multimesh_model"],
                               inventory_spec())
    assert errors == ["variable multimesh_mesh: is not a multimesh.istio variable. "
                      "Fix: did you mean 'multimesh_meshes'? Allowed keys: " + errors[0].split("Allowed keys: ")[1]]


def test_the_job_artifacts_of_an_earlier_workflow_job_are_not_typos():
    """An AWX workflow passes a job's set_stats artifacts to the next job as extra variables: a verify or render job
    before site.yml hands it multimesh_verify_result or multimesh_render_result."""
    assert unknown_variables(["multimesh_verify_result", "multimesh_render_result", "multimesh_verify"], inventory_spec()) == []


SAIL_OPERATOR_INVALID = [
    (dict(sail_operator={"install": "yes"}), "multimesh_sail_operator.install", "must be a boolean"),
    (dict(sail_operator={"instal": True}), "multimesh_sail_operator.instal", "did you mean 'install'"),
    (dict(sail_operator={"chart_repo_url": "http://mirror"}), "multimesh_sail_operator.chart_repo_url", "neither https"),
    (dict(backend="istioctl", sail_operator={"install": True}), "multimesh_sail_operator.install", "only used by"),
    (dict(sail_operator={"version": "latest"}), "multimesh_sail_operator.version", "not an Istio version"),
]


@pytest.mark.parametrize("kwargs,field,fragment", SAIL_OPERATOR_INVALID)
def test_invalid_sail_operator_names_the_field(kwargs, field, fragment):
    errors = errors_of(**kwargs)
    assert len(errors) == 1 and errors[0].startswith(field + ": ") and fragment in errors[0]


def test_sail_operator_defaults_and_overrides():
    assert build_model(meshes=two_meshes())["sail_operator"] == {
        "install": False, "version": "1.30.3", "namespace": "sail-operator",
        "chart_repo_url": "https://istio-ecosystem.github.io/sail-operator", "chart_ref": "sail-operator", "values": {}}
    custom = build_model(meshes=two_meshes(), sail_operator={"install": True, "namespace": "ops",
                                                             "chart_repo_url": "oci://mirror/charts", "values": {"a": 1}})
    assert custom["sail_operator"]["install"] is True and custom["sail_operator"]["chart_repo_url"] == "oci://mirror/charts"
    # kubernetes.core.helm takes an OCI registry only as chart_ref.
    assert custom["sail_operator"]["chart_ref"] == "oci://mirror/charts/sail-operator"


def test_sidecar_scope_adds_listed_namespaces_or_opts_out():
    meshes = two_meshes()
    meshes[0]["sidecar_scope"] = {"namespaces": ["istio-system", "shared-services"]}
    meshes[1]["sidecar_scope"] = {"enabled": False}
    model = build_model(meshes=meshes)
    assert model["meshes"][0]["sidecar_egress_hosts"] == [
        "app-ns-1/*", "istio-system-1/*", "istio-system/*", "shared-services/*"]
    assert model["meshes"][1]["sidecar_egress_hosts"] == []


@pytest.mark.parametrize("scope, field, fragment", [
    ("all", "mesh 'mesh-1'.sidecar_scope", "give a mapping"),
    ({"enabled": "yes"}, "mesh 'mesh-1'.sidecar_scope.enabled", "use true or false"),
    ({"namespaces": "istio-system"}, "mesh 'mesh-1'.sidecar_scope.namespaces", "give a list of namespace names"),
    ({"namespaces": ["Istio System"]}, "mesh 'mesh-1'.sidecar_scope.namespaces[0]", "namespace name"),
    ({"egress": []}, "mesh 'mesh-1'.sidecar_scope.egress", "unknown key"),
])
def test_invalid_sidecar_scope_names_the_field(scope, field, fragment):
    meshes = two_meshes()
    meshes[0]["sidecar_scope"] = scope
    with pytest.raises(ModelError) as caught:
        build_model(meshes=meshes)
    assert len(caught.value.errors) == 1 and caught.value.errors[0].startswith(field + ": "), caught.value.errors
    assert fragment in caught.value.errors[0]


def test_the_platform_is_kubernetes_or_openshift():
    assert build_model(meshes=[{"name": "a", "namespace": "b"}])["platform"] == "kubernetes"
    assert build_model(meshes=[{"name": "a", "namespace": "b"}], platform="openshift")["platform"] == "openshift"
    found = _platform_errors(meshes=[{"name": "a", "namespace": "b"}], platform="okd")
    assert found == ["multimesh_platform: unsupported platform 'okd'. Fix: use 'kubernetes', or 'openshift' (istioctl "
                     "then installs with values.global.platform: openshift)."]


def _platform_errors(**kwargs):
    with pytest.raises(ModelError) as caught:
        build_model(**kwargs)
    return caught.value.errors


def test_values_refused_only_when_they_do_harm_pass():
    """The refused keys with the value the collection would set anyway (or Helm's default) are no problem."""
    values = {"revisionTags": [], "defaultRevision": "", "global": {"istioNamespace": "istio-system-1"},
              "sidecarInjectorWebhook": {"enableNamespacesByDefault": False}}
    mesh = build_model(meshes=with_change(0, values=values))["meshes"][0]
    assert mesh["values"] == values


def test_every_refused_value_is_documented():
    """REFUSED_VALUES is the one list; the argument spec (README's tables) and README's values paragraph name each."""
    import os

    import yaml

    with open(SPEC_PATH) as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["inventory"]["options"]
    described = " ".join(spec["multimesh_meshes"]["options"]["values"]["description"])
    with open(os.path.join(os.path.dirname(SPEC_PATH), "..", "..", "..", "README.md")) as handle:
        readme = handle.read()
    rejects = readme[readme.index("It rejects:"):].split("\n\n")[0]
    for path in REFUSED_VALUES:
        key = ".".join(path)
        assert "C({0})".format(key) in described, key
        assert "`{0}".format(key) in rejects, key
