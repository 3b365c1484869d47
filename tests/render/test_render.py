"""playbooks/site.yml in render mode: the real roles write every object; each is checked against real schemas."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from schema_validation import REPO, load_crd_schemas, load_operator_crd_schemas, validate_object

INVENTORIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inventories")
PLAYBOOK = os.path.join(REPO, "playbooks", "site.yml")


@pytest.fixture(scope="module")
def crd_schemas():
    return load_crd_schemas()


@pytest.fixture(scope="module")
def operator_crd_schemas():
    return load_operator_crd_schemas()


def run_site(inventory, *extra, **env_extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACK_RESULT_FORMAT="json", **env_extra)
    bindir = os.path.dirname(sys.executable)
    command = [os.path.join(bindir, "ansible-playbook"), PLAYBOOK, "-i", inventory] + list(extra)
    proc = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    return proc.returncode, proc.stdout


def render(inventory_name, out_dir, *extra):
    rc, out = run_site(os.path.join(INVENTORIES, inventory_name), "-e", "multimesh_render_dir=" + str(out_dir), *extra)
    assert rc == 0, out
    return out


def recap(out):
    match = re.search(r"cluster-1\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out)
    assert match, out
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def load_render(out_dir):
    """{relative path: [objects]} of every rendered file."""
    files = {}
    for path in sorted(glob.glob(os.path.join(str(out_dir), "**", "*.yaml"), recursive=True)):
        with open(path) as handle:
            files[os.path.relpath(path, str(out_dir))] = list(yaml.safe_load_all(handle))
    return files


OPERATOR_SCHEMAS = []


def assert_all_valid(files, crd_schemas):
    """Valid against the 1.30.3 release CRDs and against those the real operator on the harness serves."""
    if not OPERATOR_SCHEMAS:
        OPERATOR_SCHEMAS.append(load_operator_crd_schemas())
    for schemas in (crd_schemas, OPERATOR_SCHEMAS[0]):
        problems = [p for objs in files.values() for obj in objs for p in validate_object(obj, schemas)]
        assert problems == []
    assert sum(len(objs) for objs in files.values()) > 0


def by_kind_all(files, kind):
    return [obj for objs in files.values() for obj in objs if obj["kind"] == kind]


def by_kind(files, kind):
    return {obj["metadata"]["name"]: obj for objs in files.values() for obj in objs if obj["kind"] == kind}


def cni_in_use(files):
    """{path: values.pilot.cni.enabled} of every control plane rendered: an Istio's values, an IstioOperator's
    unvalidatedValues (where istioctl's translation cannot overwrite it)."""
    found = {}
    for path, objs in files.items():
        for obj in objs:
            if obj["kind"] in ("Istio", "IstioOperator") and "cni" not in (obj["spec"].get("components") or {}):
                values = obj["spec"].get("unvalidatedValues" if obj["kind"] == "IstioOperator" else "values") or {}
                found[path] = ((values.get("pilot") or {}).get("cni") or {}).get("enabled")
    return found


def test_two_meshes_render_valid_objects(tmp_path, crd_schemas):
    render("two-mesh.yml", tmp_path)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    assert {path: [o["kind"] for o in objs] for path, objs in files.items()} == {
        "10-cni-cluster.yaml": ["Namespace", "IstioCNI"],
        "20-control-plane-mesh-1.yaml": ["Namespace", "PeerAuthentication", "Istio"],
        "20-control-plane-mesh-2.yaml": ["Namespace", "PeerAuthentication", "Istio"],
        "30-members-mesh-1.yaml": ["Namespace", "Sidecar"],
        "30-members-mesh-2.yaml": ["Namespace", "Sidecar", "Namespace", "Sidecar"],
        "40-samples-mesh-1.yaml": ["ServiceAccount", "Service", "Deployment"] * 2,
        "40-samples-mesh-2.yaml": ["ServiceAccount", "Service", "Deployment"] * 4,
    }
    istios = by_kind(files, "Istio")
    assert istios["mesh-2"]["spec"] == {
        "namespace": "istio-system-2", "version": "v1.30.3", "updateStrategy": {"type": "InPlace"},
        "values": {"meshConfig": {"discoverySelectors": [{"matchLabels": {"istio-discovery": "mesh-2"}}]},
                   # The shared CNI the inventory enables is the one each mesh uses (no privileged istio-init).
                   "pilot": {"cni": {"enabled": True}}}}
    namespaces = by_kind(files, "Namespace")
    # The inventory's identity (multimesh_owner) defaults to its file's name.
    assert namespaces["app-ns-3"]["metadata"]["labels"] == {"istio-discovery": "mesh-2", "istio.io/rev": "mesh-2",
                                                            "multimesh.istio/owner": "two-mesh"}
    assert namespaces["istio-system-1"]["metadata"]["labels"]["multimesh.istio/owner"] == "two-mesh"
    assert namespaces["istio-system-1"]["metadata"]["labels"]["istio-discovery"] == "mesh-1"
    assert "istio.io/rev" not in namespaces["istio-system-1"]["metadata"]["labels"]
    assert {n: p["spec"]["mtls"]["mode"] for n, p in by_kind(files, "PeerAuthentication").items()} == {"default": "STRICT"}
    # Each member namespace's proxies receive only their own mesh's namespaces (issue 15, config scoping).
    scopes = {o["metadata"]["namespace"]: o["spec"]["egress"][0]["hosts"] for objs in files.values() for o in objs
              if o["kind"] == "Sidecar"}
    assert scopes == {"app-ns-1": ["app-ns-1/*", "istio-system-1/*"],
                      "app-ns-2": ["app-ns-2/*", "app-ns-3/*", "istio-system-2/*"],
                      "app-ns-3": ["app-ns-2/*", "app-ns-3/*", "istio-system-2/*"]}


def test_samples_follow_upstream_and_take_a_mirror(tmp_path, crd_schemas):
    render("two-mesh.yml", tmp_path, "-e", '{"samples_registry": "registry.example.com/mirror/", '
           '"samples_images": {"httpbin": "quay.example.com/httpbin:pinned"}}')
    samples = [obj for objs in load_render(tmp_path).values() for obj in objs
               if obj["kind"] == "Deployment" and obj["metadata"]["namespace"] == "app-ns-3"]
    images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"] for d in samples}
    assert images == {"sleep": "registry.example.com/mirror/curlimages/curl:8.16.0", "httpbin": "quay.example.com/httpbin:pinned"}
    services = {o["metadata"]["name"]: o["spec"]["ports"] for objs in load_render(tmp_path).values() for o in objs
                if o["kind"] == "Service" and o["metadata"]["namespace"] == "app-ns-3"}
    # Upstream's samples/httpbin/httpbin.yaml: port 8000 to the container's 8080.
    assert services["httpbin"] == [{"name": "http", "port": 8000, "targetPort": 8080}]


def test_three_meshes_render_valid_objects(tmp_path, crd_schemas):
    render("three-mesh.yml", tmp_path)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    istios = by_kind(files, "Istio")
    assert sorted(istios) == ["canary", "ug1-1-30", "usergroup-2"]
    assert istios["usergroup-2"]["spec"]["version"] == "v1.29.6"
    assert istios["ug1-1-30"]["spec"]["values"] == {
        "pilot": {"resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}, "cni": {"enabled": True}},
        "meshConfig": {"accessLogFile": "/dev/stdout",
                       "discoverySelectors": [{"matchLabels": {"usergroup": "usergroup-1"}}]}}
    cni = by_kind(files, "IstioCNI")["default"]["spec"]
    assert cni == {"namespace": "kube-cni", "version": "v1.30.2", "values": {"cni": {"logging": {"level": "info"}}}}
    members = files["30-members-canary.yaml"]
    assert members[0]["metadata"]["labels"] == {"example.com/mesh": "canary", "tier": "test", "istio.io/rev": "canary",
                                                "multimesh.istio/owner": "three-mesh"}
    modes = sorted(obj["spec"]["mtls"]["mode"] for path, objs in files.items() for obj in objs if obj["kind"] == "PeerAuthentication")
    assert modes == ["PERMISSIVE", "STRICT", "STRICT"]
    # A RevisionBased mesh: the operator names revisions by version, a tag named like the mesh's revision follows them.
    assert istios["canary"]["spec"]["updateStrategy"] == {"type": "RevisionBased", "inactiveRevisionDeletionGracePeriodSeconds": 60}
    assert istios["ug1-1-30"]["spec"]["updateStrategy"] == {"type": "InPlace"}
    assert by_kind(files, "IstioRevisionTag") == {"canary": {
        "apiVersion": "sailoperator.io/v1", "kind": "IstioRevisionTag",
        "metadata": {"name": "canary", "labels": {"app.kubernetes.io/managed-by": "multimesh.istio",
                                                  "multimesh.istio/owner": "three-mesh"}},
        "spec": {"targetRef": {"kind": "Istio", "name": "canary"}}}}


def test_istioctl_backend_renders_istiooperator_inputs(tmp_path, crd_schemas):
    render("three-mesh-istioctl.yml", tmp_path)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    inputs = {path: objs for path, objs in files.items() if path.startswith("istioctl/")}
    assert sorted(inputs) == ["istioctl/10-cni-cluster.yaml", "istioctl/20-control-plane-canary.yaml",
                              "istioctl/20-control-plane-usergroup-1.yaml", "istioctl/20-control-plane-usergroup-2.yaml"]
    iop = inputs["istioctl/20-control-plane-usergroup-1.yaml"][0]
    assert iop["kind"] == "IstioOperator"
    assert iop["spec"]["revision"] == "ug1-1-30" and iop["spec"]["profile"] == "minimal"
    assert iop["spec"]["values"]["global"]["istioNamespace"] == "usergroup-1"
    assert iop["spec"]["meshConfig"]["discoverySelectors"] == [{"matchLabels": {"usergroup": "usergroup-1"}}]
    cni = inputs["istioctl/10-cni-cluster.yaml"][0]["spec"]
    assert cni["components"]["cni"] == {"enabled": True, "namespace": "kube-cni"}
    # Every mesh uses the shared CNI (no privileged istio-init), told where istioctl's translation cannot overwrite
    # it; no mesh installs a CNI of its own.
    for path in ("istioctl/20-control-plane-canary.yaml", "istioctl/20-control-plane-usergroup-1.yaml",
                 "istioctl/20-control-plane-usergroup-2.yaml"):
        spec = inputs[path][0]["spec"]
        assert spec["unvalidatedValues"] == {"pilot": {"cni": {"enabled": True}}}, path
        assert "cni" not in spec["values"].get("pilot", {}) and "cni" not in spec.get("components", {}), path
    assert not [p for p, objs in inputs.items() if "platform" in objs[0]["spec"]["values"].get("global", {})]
    # Cluster objects beside the inputs are plain Kubernetes/Istio objects, no IstioOperator among them.
    assert all(o["kind"] != "IstioOperator" for p, objs in files.items() if not p.startswith("istioctl/") for o in objs)
    # An ingress gateway per mesh (issue 15 item 3), each injected by its own revision and reached by its own Gateway.
    members = {path: [(o["kind"], o["metadata"].get("namespace")) for o in objs] for path, objs in files.items()
               if path.startswith("30-members-usergroup")}
    assert members["30-members-usergroup-2.yaml"] == [
        ("Namespace", None), ("Sidecar", "inventory"), ("Namespace", None), ("Sidecar", "usergroup-2-edge")] + [
        (kind, "usergroup-2-edge") for kind in ("ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Gateway")]
    deployments = dict(((o["metadata"]["namespace"], o["metadata"]["name"]), o) for o in by_kind_all(files, "Deployment"))
    for mesh, revision, ns in (("usergroup-1", "ug1-1-30", "usergroup-1-ingress"), ("usergroup-2", "usergroup-2", "usergroup-2-edge")):
        gateway = [o for o in by_kind_all(files, "Gateway") if o["metadata"]["namespace"] == ns][0]
        reached = [k for k, d in deployments.items()
                   if all(d["spec"]["template"]["metadata"]["labels"].get(a) == b for a, b in gateway["spec"]["selector"].items())]
        assert reached == [(ns, "ingressgateway-" + mesh)]
        assert deployments[reached[0]]["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] == revision
    services = dict((o["metadata"]["namespace"], o["spec"]) for o in by_kind_all(files, "Service")
                    if o["metadata"]["name"].startswith("ingressgateway-"))
    assert services["usergroup-1-ingress"]["type"] == "NodePort"
    assert services["usergroup-1-ingress"]["ports"][1] == {"name": "http2", "port": 80, "targetPort": 8080, "nodePort": 30081}
    assert services["usergroup-2-edge"]["type"] == "LoadBalancer"
    # The samples route usergroup-1's gateway to its first member's httpbin.
    route = by_kind(files, "VirtualService")["ingressgateway-usergroup-1-httpbin"]["spec"]
    assert route["gateways"] == ["ingressgateway-usergroup-1"]
    assert route["http"][0]["route"][0]["destination"]["host"] == "httpbin.shop.svc.cluster.local"


def test_istioctl_on_openshift_sets_the_platform_of_every_install(tmp_path, crd_schemas):
    """Issue 16 item 8: Istio's charts need global.platform=openshift there (CNI directories, SCCs)."""
    render("three-mesh-istioctl.yml", tmp_path, "-e", "multimesh_platform=openshift")
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    inputs = dict((path, objs[0]) for path, objs in files.items() if path.startswith("istioctl/"))
    assert len(inputs) == 4
    assert dict((path, iop["spec"]["values"]["global"]["platform"]) for path, iop in inputs.items()) == dict(
        (path, "openshift") for path in inputs)


def test_second_render_changes_nothing(tmp_path):
    first = recap(render("two-mesh.yml", tmp_path))
    before = {p: os.stat(p).st_mtime_ns for p in glob.glob(str(tmp_path / "*.yaml"))}
    second = recap(render("two-mesh.yml", tmp_path))
    assert first["changed"] > 0
    assert second["changed"] == 0
    assert {p: os.stat(p).st_mtime_ns for p in glob.glob(str(tmp_path / "*.yaml"))} == before


def test_check_mode_writes_nothing(tmp_path):
    out = render("two-mesh.yml", tmp_path / "out", "--check")
    assert recap(out)["failed"] == 0
    assert not (tmp_path / "out").exists()


def test_example_inventory_renders(tmp_path, crd_schemas):
    rc, out = run_site(os.path.join(REPO, "inventories", "example", "hosts.yml"), "-e", "multimesh_render_dir=" + str(tmp_path))
    assert rc == 0, out
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    # hosts.yml names nothing: the identity is the inventory directory's name.
    assert by_kind(files, "Istio")["mesh-1"]["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "multimesh.istio",
                                                                       "multimesh.istio/owner": "example"}


def test_schema_violation_is_detected(crd_schemas, operator_crd_schemas):
    """The validator itself must fail on what the API server would reject, with either set of CRDs."""
    istio = {"apiVersion": "sailoperator.io/v1", "kind": "Istio", "metadata": {"name": "m", "namespace": "x"},
             "spec": {"namespace": "n", "version": "v9.9.9", "valuez": {}}}
    for schemas in (crd_schemas, operator_crd_schemas):
        problems = validate_object(istio, schemas)
        assert any("spec/version" in p for p in problems)
        assert any("'valuez' was unexpected" in p for p in problems)
        assert any("must not have metadata.namespace" in p for p in problems)
    bad_ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labelz": {}}}
    assert validate_object(bad_ns, crd_schemas)
    unknown = {"apiVersion": "sailoperator.io/v9", "kind": "Istio", "metadata": {"name": "m"}}
    assert validate_object(unknown, crd_schemas) == ["Istio m: no upstream CRD serves sailoperator.io/v9 Istio"]
    iop = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "m"},
           "spec": {"revison": "x", "components": {"pilots": {}}, "values": []}}
    assert validate_object(iop, crd_schemas) == [
        "IstioOperator m: unknown field spec.revison", "IstioOperator m: unknown field spec.components.pilots",
        "IstioOperator m: spec.values must be a mapping"]


def test_invalid_inventory_fails_before_any_cluster_call(tmp_path):
    # No render dir and an unusable kubeconfig: any cluster call would fail differently.
    rc, out = run_site(os.path.join(INVENTORIES, "invalid.yml"), K8S_AUTH_KUBECONFIG=str(tmp_path / "missing"))
    assert rc != 0
    assert "Validate the mesh inventory" in out
    assert "mesh 'mesh-2'.mtls_mode: unsupported mode 'STRIKT'" in out
    assert "mesh 'mesh-2'.members[0]: namespace 'app-ns-1' is already a member of mesh 'mesh-1'" in out
    # Validation fails before any stage or pre-flight task runs.
    assert "multimesh.istio.stage" not in out and "Check the cluster before any change" not in out
    assert "kubernetes.core" not in out


@pytest.mark.parametrize("playbook", ["site.yml", "verify.yml", "cleanup.yml", "upgrade.yml"])
def test_an_inventory_without_the_cluster_group_fails_instead_of_matching_no_host(tmp_path, playbook):
    """Issue 29 point 6: another group name was "no hosts matched" and rc 0 - a green job that did nothing."""
    inventory = tmp_path / "clusters.yml"
    inventory.write_text("clusters:\n  hosts:\n    cluster-1:\n      ansible_connection: local\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                           os.path.join(REPO, "playbooks", playbook), "-i", str(inventory)], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    assert proc.returncode != 0, proc.stdout
    assert "The inventory has no host in 'multimesh_clusters' (groups: clusters). Fix:" in " ".join(proc.stdout.split()), proc.stdout
    assert "cluster-1" not in proc.stdout.split("PLAY RECAP")[-1]  # nothing ran on the cluster


def test_the_summary_names_a_bearer_token_credential_and_never_the_token(tmp_path):
    """Issue 29 point 8: with AWX's bearer-token credential (K8S_AUTH_HOST, K8S_AUTH_API_KEY) the summary said
    "Applied to the current kubeconfig context"."""
    playbook = tmp_path / "summary.yml"
    playbook.write_text(
        "- hosts: multimesh_clusters\n  gather_facts: false\n  roles: [multimesh.istio.model]\n  tasks:\n"
        "    - ansible.builtin.debug:\n        msg: \"{{{{ lookup('ansible.builtin.template', '{0}') }}}}\"\n".format(
            os.path.join(REPO, "playbooks", "templates", "summary.j2")))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               K8S_AUTH_HOST="https://api.example.com:6443", K8S_AUTH_API_KEY="sha256~not-for-logs")
    env.pop("K8S_AUTH_KUBECONFIG", None)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook), "-i",
                           os.path.join(INVENTORIES, "two-mesh.yml")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    assert "Applied to API server https://api.example.com:6443 (token from K8S_AUTH_API_KEY); backend sail" in proc.stdout
    assert "not-for-logs" not in proc.stdout


def test_mistyped_variable_is_rejected(tmp_path):
    rc, out = run_site(os.path.join(INVENTORIES, "two-mesh.yml"), "-e", "multimesh_render_dir=" + str(tmp_path),
                       "-e", '{"multimesh_sample": ["sleep"]}')
    assert rc != 0
    assert "variable multimesh_sample: is not a multimesh.istio variable. Fix: did you mean 'multimesh_samples'?" in out
    assert not list(tmp_path.iterdir())


def test_one_mesh_renders_valid_objects(tmp_path, crd_schemas):
    render("one-mesh.yml", tmp_path)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    assert sorted(files) == ["10-cni-cluster.yaml", "20-control-plane-solo.yaml", "30-members-solo.yaml"]
    assert by_kind(files, "Istio")["solo"]["spec"]["namespace"] == "istio-system"


def test_five_meshes_with_fifty_namespaces_render_valid_objects(tmp_path, crd_schemas):
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    from inventory_gen import inventory

    path = tmp_path / "five.yml"
    path.write_text(yaml.safe_dump(inventory(5, 10)))
    rc, out = run_site(str(path), "-e", "multimesh_render_dir=" + str(tmp_path / "out"))
    assert rc == 0, out
    files = load_render(tmp_path / "out")
    assert_all_valid(files, crd_schemas)
    # CNI, 5 control planes, 5 member files, 5 sample files (sleep and httpbin in each of the 50 namespaces).
    assert len(files) == 16
    assert len([o for p, objs in files.items() if p.startswith("40-samples-") for o in objs if o["kind"] == "Deployment"]) == 100
    assert sorted(by_kind(files, "Istio")) == ["mesh-1", "mesh-2", "mesh-3", "mesh-4", "mesh-5"]
    members = [o for p, objs in files.items() if p.startswith("30-members-") for o in objs if o["kind"] == "Namespace"]
    assert len(members) == 50
    assert {o["metadata"]["labels"]["istio.io/rev"] for o in members} == {"mesh-1", "mesh-2", "mesh-3", "mesh-4", "mesh-5"}


def test_multicluster_renders_each_cluster_into_its_own_directory(tmp_path, crd_schemas):
    """Seed 003 (primary-remote across networks), multi-primary and seed 004 (external control plane) on three
    clusters: each host writes into <render_dir>/<cluster>/, nothing is overwritten, every object is valid."""
    out = render("multicluster.yml", tmp_path)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    # Stages in the order they run: own istiods, remote and config clusters, (secrets), external istiods, gateways.
    assert sorted(p for p in files if p.startswith("west/") and "istioctl" not in p) == [
        "west/10-cni-cluster.yaml", "west/21-remote-control-plane-mesh-ext.yaml",
        "west/21-remote-control-plane-mesh-pr.yaml", "west/23-gateways-mesh-ext.yaml", "west/23-gateways-mesh-pr.yaml",
        "west/30-members-mesh-ext.yaml", "west/30-members-mesh-pr.yaml", "west/40-samples-mesh-ext.yaml",
        "west/40-samples-mesh-pr.yaml"]
    # Namespace sameness: the member namespace exists on every data-plane cluster of its mesh, not on the external one.
    assert [p for p, objs in files.items() if any(o["metadata"]["name"] == "app-ext" for o in objs
                                                  if o["kind"] == "Namespace")] == \
        ["east/30-members-mesh-ext.yaml", "west/30-members-mesh-ext.yaml"]
    # Scoping Sidecars only where the mesh's configuration lives: the primary, the config cluster.
    assert [o["kind"] for o in files["east/30-members-mesh-pr.yaml"]] == ["Namespace", "Sidecar"]
    assert [o["kind"] for o in files["east/30-members-mesh-ext.yaml"]] == ["Namespace", "Sidecar"]
    assert [o["kind"] for o in files["west/30-members-mesh-pr.yaml"]] == ["Namespace"]
    assert [o["kind"] for o in files["west/30-members-mesh-ext.yaml"]] == ["Namespace"]
    remote = files["west/istioctl/21-remote-control-plane-mesh-pr.yaml"][0]["spec"]
    assert remote["profile"] == "remote"
    assert remote["values"]["global"]["remotePilotAddress"] == "192.0.2.10"
    assert remote["values"]["istiodRemote"]["injectionPath"] == "/inject/cluster/west/net/network-2"
    remote_ns = files["west/21-remote-control-plane-mesh-pr.yaml"][0]
    assert remote_ns["metadata"]["annotations"] == {"topology.istio.io/controlPlaneClusters": "east"}
    assert remote_ns["metadata"]["labels"]["topology.istio.io/network"] == "network-2"
    # The remote holds no configuration: policy, expose-istiod and expose-services live on the primary.
    assert [o["kind"] for o in files["west/21-remote-control-plane-mesh-pr.yaml"]] == ["Namespace"]
    assert [o["kind"] for o in files["west/23-gateways-mesh-pr.yaml"]] == ["ServiceAccount", "Deployment", "Service"]
    assert [o["kind"] for o in files["east/20-control-plane-mesh-pr.yaml"]] == ["Namespace", "PeerAuthentication"]
    assert [(o["kind"], o["metadata"]["name"]) for o in files["east/23-gateways-mesh-pr.yaml"]][-4:] == [
        ("Service", "istio-eastwestgateway"), ("Gateway", "cross-network-gateway"), ("Gateway", "istiod-gateway"),
        ("VirtualService", "istiod-vs")]
    primary = files["east/istioctl/20-control-plane-mesh-pr.yaml"][0]["spec"]["values"]["global"]
    assert primary["externalIstiod"] is True and primary["multiCluster"] == {"clusterName": "east"}
    # Multi-primary on one network: no gateway, mesh values on each primary.
    assert [o["kind"] for o in files["central/20-control-plane-mesh-mp.yaml"]] == ["Namespace", "PeerAuthentication"]
    assert not [p for p in files if p.endswith("23-gateways-mesh-mp.yaml")]
    # External control plane: istiod on central after the secrets, named after its config cluster.
    external = files["central/istioctl/22-external-control-plane-mesh-ext.yaml"][0]["spec"]
    assert external["profile"] == "empty" and external["components"] == {"pilot": {"enabled": True}}
    assert external["values"]["global"]["multiCluster"]["clusterName"] == "east"
    assert [o["metadata"]["name"] for o in files["central/23-gateways-mesh-ext.yaml"]] == ["istiod-mesh-ext-external"]
    config = files["east/istioctl/21-remote-control-plane-mesh-ext.yaml"][0]["spec"]["values"]
    assert config["global"]["configCluster"] is True and config["global"]["remotePilotAddress"] == "192.0.2.30"
    assert "PeerAuthentication" in [o["kind"] for o in files["east/21-remote-control-plane-mesh-ext.yaml"]]
    for host in ("east", "west", "central"):
        assert re.search(host + r"\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", out)
    # The shared CNI (on by default) is the one every control plane's injector uses, on every cluster and role.
    uses = cni_in_use(files)
    assert len(uses) == 7 and set(uses.values()) == {True}, uses


def test_multicluster_sail_resources_are_valid(tmp_path, crd_schemas):
    render("multicluster.yml", tmp_path, "-e", "multimesh_backend=sail")
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    istios = {path.split("/")[0]: obj for path, objs in files.items() for obj in objs if obj["kind"] == "Istio"
              and obj["metadata"]["name"] == "mesh-ext"}
    profiles = {c: i["spec"].get("profile") for c, i in istios.items()}
    assert profiles == {"central": "empty", "east": "remote", "west": "remote"}
    assert istios["central"]["spec"]["values"]["pilot"]["volumes"][0] == {"name": "config-volume",
                                                                          "configMap": {"name": "istio-mesh-ext"}}
    uses = cni_in_use(files)
    assert len(uses) == 7 and set(uses.values()) == {True}, uses


def test_without_the_shared_cni_no_mesh_uses_one(tmp_path, crd_schemas):
    """multimesh_cni.enabled false: no CNI rendered, and the injectors add istio-init as Istio's default does."""
    render("two-mesh.yml", tmp_path, "-e", '{"multimesh_cni": {"enabled": false}}')
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    assert not [p for p in files if "cni" in p] and set(cni_in_use(files).values()) == {None}
    assert len(cni_in_use(files)) == 2


@pytest.mark.parametrize("backend", ["istioctl", "sail"])
def test_external_istiod_behind_an_ingress_gateway(tmp_path, crd_schemas, backend):
    """Seed 004 as written: another mesh's ingress gateway on the external cluster, Gateway, VirtualService and
    DestinationRule beside the external istiod, TLS terminated with the given certificate."""
    render("multicluster-gateway.yml", tmp_path, "-e", "multimesh_backend=" + backend)
    files = load_render(tmp_path)
    assert_all_valid(files, crd_schemas)
    listed = files["central/23-gateways-mesh-ext.yaml"]
    objects = dict(((o["kind"], o["metadata"].get("namespace")), o) for o in listed)
    own = "istiod-gateway-mesh-ext"  # the gateway's own namespace (tenant issue, point 13), first: the rest goes in it
    assert (listed[0]["kind"], listed[0]["metadata"]["name"]) == ("Namespace", own)
    assert listed[0]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "multimesh.istio"
    assert sorted(objects) == [
        ("Deployment", own), ("DestinationRule", "external-istiod"), ("Gateway", "external-istiod"), ("Namespace", None),
        # The Role lets istiod serve the gateway its TLS credential (credentialName): istiod checks that the gateway may
        # list the Secrets of its namespace (without a name) - its own namespace, which holds nothing of the gateway
        # mesh's. Without a credential there is none (test_topology).
        ("Role", own), ("RoleBinding", own), ("Service", own), ("ServiceAccount", own), ("VirtualService", "external-istiod")]
    pod = objects[("Deployment", own)]["spec"]["template"]["metadata"]
    assert pod["labels"]["istio.io/rev"] == "gateways"  # injected by the gateway mesh's istiod
    assert pod["annotations"] == {"inject.istio.io/templates": "gateway"}
    assert [p["port"] for p in objects[("Service", own)]["spec"]["ports"]] == [15021, 15012, 15017]
    gateway = objects[("Gateway", "external-istiod")]["spec"]
    assert gateway["selector"] == {"istio": "istiod-gateway-mesh-ext"}
    assert [(s["port"]["number"], s["tls"], s["hosts"]) for s in gateway["servers"]] == [
        (port, {"mode": "SIMPLE", "credentialName": "istiod-example-com"}, ["istiod.example.com"]) for port in (15012, 15017)]
    routes = objects[("VirtualService", "external-istiod")]["spec"]["http"]
    assert [(r["match"][0]["port"], r["route"][0]["destination"]) for r in routes] == [
        (15012, {"host": "istiod-mesh-ext.external-istiod.svc.cluster.local", "port": {"number": 15012}}),
        (15017, {"host": "istiod-mesh-ext.external-istiod.svc.cluster.local", "port": {"number": 443}})]
    assert objects[("DestinationRule", "external-istiod")]["spec"]["host"] == "istiod-mesh-ext.external-istiod.svc.cluster.local"
    # No Service istiod-<rev>-external; the gateway mesh sees the external istiod's namespace.
    assert not [o for objs in files.values() for o in objs if o["metadata"]["name"].endswith("-external")]
    install = [o for p, objs in files.items() for o in objs if p.startswith("central/") and "20-control-plane-gateways" in p
               and o["kind"] in ("Istio", "IstioOperator")][0]
    selectors = install["spec"]["values"]["meshConfig"]["discoverySelectors"] if backend == "sail" else \
        install["spec"]["meshConfig"]["discoverySelectors"]
    assert selectors[-2:] == [{"matchLabels": {"kubernetes.io/metadata.name": "external-istiod"}},
                              {"matchLabels": {"kubernetes.io/metadata.name": own}}]
    # By DNS name with the user's certificate (seed 004's DNS variant): the remote and config clusters call the
    # webhooks by URL on 15017, the proxies trust the system roots, the external istiod patches no caBundle.

    def spec_values(path):
        obj = [o for o in files[path] if o["kind"] in ("Istio", "IstioOperator")][0]
        return obj["spec"]["values"]
    prefix = "" if backend == "sail" else "istioctl/"
    for cluster in ("east", "west"):
        served = spec_values("{0}/{1}21-remote-control-plane-mesh-ext.yaml".format(cluster, prefix))
        assert served["istiodRemote"] == {
            "injectionURL": "https://istiod.example.com:15017/inject/cluster/{0}/net/network-1".format(cluster)}
        assert served["base"] == {"validationURL": "https://istiod.example.com:15017/validate"}
        assert "remotePilotAddress" not in served["global"]
    external = spec_values("central/{0}22-external-control-plane-mesh-ext.yaml".format(prefix))
    assert external["meshConfig"]["defaultConfig"]["proxyMetadata"] == {
        "XDS_ROOT_CA": "/etc/ssl/certs/ca-certificates.crt", "CA_ROOT_CA": "/etc/ssl/certs/ca-certificates.crt"}
    assert external["pilot"]["env"]["INJECTION_WEBHOOK_CONFIG_NAME"] == ""
    assert "ISTIOD_CUSTOM_HOST" not in external["pilot"]["env"]  # the gateway's certificate names the address


def test_each_cluster_publishes_what_it_rendered_as_job_artifacts(tmp_path):
    """Issue 29 point 3 (AWX keeps a job's artifacts, not its files): one entry per cluster, its absolute directory
    and every file rendered there; at multimesh_render_artifacts_max_bytes=0 the names alone."""
    rc, out = run_site(os.path.join(INVENTORIES, "multicluster.yml"), "-e", "multimesh_render_dir=" + str(tmp_path),
                       "-e", "multimesh_render_artifacts_max_bytes=0", ANSIBLE_SHOW_CUSTOM_STATS="1")
    assert rc == 0, out
    stats = json.loads(out[out.index("CUSTOM STATS"):].split("RUN:", 1)[1].strip())["multimesh_render_result"]
    assert sorted(stats) == ["central", "east", "west"], stats
    for cluster, published in stats.items():
        directory = os.path.realpath(str(tmp_path / cluster))
        assert published["dir"] == directory
        assert published["files"] == dict((path, None) for path in load_render(directory)), published["files"]
        assert published["withheld"][0].startswith("{0} bytes in all, over multimesh_render_artifacts_max_bytes (0)".format(
            published["bytes"])) and published["bytes"] > 0
