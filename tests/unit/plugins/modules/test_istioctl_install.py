"""istioctl_install: what it runs, when it decides the cluster already matches, and how it fails.
istioctl is a fake replaying the real `manifest generate` output; the cluster is a dict of live objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest
import yaml

from module_runner import fixture, run_module

from ansible_collections.multimesh.istio.plugins.module_utils import istioctl_install as impl
from ansible_collections.multimesh.istio.plugins.modules.istioctl_install import main

GENERATED = fixture("manifest-generate-usergroup-1.out")
IOP = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
       "metadata": {"name": "usergroup-1", "namespace": "usergroup-1"},
       "spec": {"profile": "minimal", "meshConfig": {"discoverySelectors": [{"matchLabels": {"usergroup": "usergroup-1"}}]},
                "values": {"global": {"istioNamespace": "usergroup-1"}, "defaultRevision": ""}}}
ARGS = {"revision": "usergroup-1", "istio_operator": IOP, "kubeconfig": "/kc"}


def rendered():
    with open(GENERATED) as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def as_installed(obj):
    """The object as the API server returns it after istioctl installed it: defaults, owner labels, status."""
    live = copy.deepcopy(obj)
    meta = live["metadata"]
    meta.update(uid="0f6c", resourceVersion="812", creationTimestamp="2026-11-21T10:00:00Z", managedFields=[{"manager": "istio-operator"}])
    # istioctl install labels every object with its owner (operator/pkg/install getOwnerLabels).
    meta.setdefault("labels", {}).update({"operator.istio.io/component": "Pilot", "istio.io/rev": "usergroup-1",
                                          "operator.istio.io/version": "1.30-alpha.b01690e6db7d",
                                          "install.operator.istio.io/owning-resource": "usergroup-1",
                                          "install.operator.istio.io/owning-resource-namespace": "usergroup-1"})
    if live["kind"] == "Deployment":
        live["spec"]["progressDeadlineSeconds"] = 600
        live["status"] = {"availableReplicas": 1}
        for container in live["spec"]["template"]["spec"]["containers"]:
            container["terminationMessagePath"] = "/dev/termination-log"
    for hook in live.get("webhooks", []):
        hook["clientConfig"]["caBundle"] = "LS0tLS1CRUdJTi..."
        if live["kind"] == "ValidatingWebhookConfiguration":
            hook["failurePolicy"] = "Fail"
    return live


class FakeCluster(object):
    """Live objects by (kind, namespace, name). What the fake istioctl's `uninstall` calls would remove disappears
    at the next read, as istioctl's own selection does it (component label; revision unless --purge)."""

    def __init__(self, istioctl):
        self.objects = {}
        self.deleted = []
        self.istioctl = istioctl
        self.uninstall_works = True
        self._seen_uninstalls = 0
        self._seen_installs = 0

    def _apply_installs(self):
        """istioctl install: the rendered objects as installed, plus a default tag when none exists."""
        calls = self.istioctl.inputs("install")
        for call, files in calls[self._seen_installs:]:
            iop = yaml.safe_load(files[call[call.index("-f") + 1]])
            extra = ((iop["spec"].get("values") or {}).get("pilot") or {}).get("deploymentLabels") or {}
            for obj in rendered():
                live = as_installed(obj)
                if live["kind"] == "Deployment":
                    # The istiod chart: values.pilot.deploymentLabels on the Deployment.
                    live["metadata"]["labels"].update(extra)
                self.add(live)
            if not any("istio.io/tag" in (o["metadata"].get("labels") or {}) for o in self.objects.values()):
                self.add(default_tag(iop["spec"]["revision"], iop["metadata"]["namespace"]))
        self._seen_installs = len(calls)

    def _apply_uninstalls(self):
        self._apply_installs()
        calls = self.istioctl.commands("uninstall")
        for call in calls[self._seen_uninstalls:]:
            revision = None if "--purge" in call else (call[call.index("--revision") + 1] if "--revision" in call else "any")
            for key, obj in list(self.objects.items()):
                labels = obj["metadata"].get("labels") or {}
                if self.uninstall_works and "operator.istio.io/component" in labels and (
                        revision is None or (revision in ("any", labels.get("istio.io/rev")) and labels["operator.istio.io/component"] != "Base")):
                    del self.objects[key]
        self._seen_uninstalls = len(calls)

    def add(self, obj):
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def get(self, obj):
        self._apply_uninstalls()
        meta = obj["metadata"]
        return copy.deepcopy(self.objects.get((obj["kind"], meta.get("namespace"), meta["name"])))

    def list(self, _api_version, kind, label_selector=None, field_selector=None, namespace=None):
        self._apply_uninstalls()

        def matches(labels):
            for term in (label_selector or "").split(","):
                key, _sep, value = term.partition("=")
                if key not in labels or (value and labels[key] != value):
                    return False
            return True
        return [copy.deepcopy(o) for (k, _ns, _n), o in sorted(self.objects.items()) if k == kind
                and matches(o["metadata"].get("labels") or {})]

    def delete(self, live, unmarked_because=None):
        assert unmarked_because, "istioctl's webhooks carry no mark: the layer refuses them unless told why"
        meta = live["metadata"]
        self.deleted.append((live["kind"], meta["name"]))
        self.objects.pop((live["kind"], meta.get("namespace"), meta["name"]))

    def create(self, body, unmarked_because=None):
        assert unmarked_because and "resourceVersion" not in body["metadata"]
        self.add(copy.deepcopy(body))


@pytest.fixture
def cluster(monkeypatch, istioctl):
    world = FakeCluster(istioctl)
    monkeypatch.setattr(impl, "connect_module", lambda module, prefix="": world)
    return world


@pytest.fixture
def generate(istioctl):
    istioctl.rules([{"argv": ["manifest", "generate"], "stdout_file": GENERATED},
                    {"argv": ["install"], "stdout": "✔ Istio core installed\n✔ Istiod installed\n✔ Installation complete\n"},
                    {"argv": ["uninstall"], "stdout": "✔ Uninstall complete\n"}])
    return istioctl


def args(istioctl, **extra):
    return dict(ARGS, istioctl_path=istioctl.path, **extra)


def test_empty_cluster_renders_then_installs_the_same_file(generate, cluster):
    result, failed = run_module(main, args(generate))
    assert not failed, result
    (gen,), (install,) = generate.commands("manifest"), generate.commands("install")
    path = gen[gen.index("-f") + 1]
    assert gen == ["manifest", "generate", "-f", path]
    assert install == ["install", "-y", "-f", path, "--readiness-timeout", "300s", "--kubeconfig", "/kc"]
    assert not os.path.exists(path), "the temporary IstioOperator file was left behind"
    assert result["changed"] is True and result["objects"] == len(rendered())
    assert {d["reason"] for d in result["differences"]} == {"missing"}
    assert result["cmd"].startswith("istioctl install -y -f ") and result["istioctl_version"] == "1.30.0"


def test_written_istio_operator_carries_revision_and_namespace(generate, cluster, monkeypatch):
    seen = {}
    from ansible_collections.multimesh.istio.plugins.module_utils import istioctl as base

    original = base.Istioctl.temp_file

    def spy(self, content, suffix=".yaml"):
        path = original(self, content, suffix)
        seen["mode"] = os.stat(path).st_mode & 0o777
        seen["iop"] = yaml.safe_load(content)
        return path
    monkeypatch.setattr(base.Istioctl, "temp_file", spy)
    iop = copy.deepcopy(IOP)
    del iop["metadata"]["namespace"]
    result, failed = run_module(main, args(generate, istio_operator=iop, set={"values.pilot.env.PILOT_ENABLE_X": True}))
    assert not failed, result
    assert seen["mode"] == 0o600
    assert seen["iop"]["spec"]["revision"] == "usergroup-1"
    assert seen["iop"]["metadata"]["namespace"] == "usergroup-1"
    (install,) = generate.commands("install")
    assert install[6:8] == ["--set", "values.pilot.env.PILOT_ENABLE_X=true"]
    assert generate.commands("manifest")[0][-2:] == ["--set", "values.pilot.env.PILOT_ENABLE_X=true"]


def test_cluster_as_istioctl_left_it_is_unchanged(generate, cluster):
    for obj in rendered():
        cluster.add(as_installed(obj))
    result, failed = run_module(main, args(generate))
    assert not failed, result
    assert result["changed"] is False and result["differences"] == []
    assert generate.commands("install") == []


def test_changed_field_is_reported_and_check_mode_installs_nothing(generate, cluster):
    for obj in rendered():
        live = as_installed(obj)
        if live["kind"] == "Deployment":
            live["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/istio/pilot:1.29.0"
        cluster.add(live)
    result, failed = run_module(main, args(generate), check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is True
    image = "spec.template.spec.containers[0].image"
    wanted = [o for o in rendered() if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert result["differences"] == [{"kind": "Deployment", "namespace": "usergroup-1", "name": "istiod-usergroup-1",
                                      "reason": "differs", "paths": [image]}]
    # As kubernetes.core.k8s shows a change: the field's value before and after, per object.
    assert result["diff"] == [{
        "before_header": "Deployment usergroup-1/istiod-usergroup-1 (cluster)",
        "after_header": "Deployment usergroup-1/istiod-usergroup-1 (istioctl manifest generate, revision usergroup-1)",
        "before": image + ": docker.io/istio/pilot:1.29.0\n", "after": image + ": " + wanted + "\n"}]
    assert generate.commands("install") == [] and generate.commands("manifest")


def test_revision_conflict_fails_before_running_istioctl(istioctl, cluster):
    iop = copy.deepcopy(IOP)
    iop["spec"]["revision"] = "usergroup-2"
    result, failed = run_module(main, args(istioctl, istio_operator=iop))
    assert failed
    assert result["msg"] == ("istio_operator.spec.revision: 'usergroup-2' differs from revision 'usergroup-1'. "
                             "Fix: make them equal or drop spec.revision.")
    assert istioctl.calls() == []


@pytest.mark.parametrize("bad, message", [
    ({"revision": "User_Group"}, "revision: 'User_Group' is not a DNS-1123 label"),
    ({"istio_operator": {"kind": "Deployment"}}, "istio_operator: kind must be IstioOperator"),
    ({"istio_namespace": "other"}, "istio_namespace: 'other' differs from spec.values.global.istioNamespace 'usergroup-1'"),
    ({"purge_all_control_planes_in_cluster": True}, "purge_all_control_planes_in_cluster: only valid with state=absent"),
])
def test_bad_input_names_the_field(istioctl, cluster, bad, message):
    result, failed = run_module(main, args(istioctl, **bad))
    assert failed and result["msg"].startswith(message), result["msg"]
    assert istioctl.commands("install") == [] and istioctl.commands("manifest") == []


def default_tag(revision, namespace=None):
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "istio-revision-tag-default-" + (namespace or revision),
                         "labels": {"istio.io/tag": "default", "istio.io/rev": revision}}}


def test_absent_uninstalls_one_revision_and_drops_its_default_tag(generate, cluster):
    for obj in rendered():
        cluster.add(as_installed(obj))
    other = as_installed(rendered()[0])
    other["metadata"].update(name="istiod-usergroup-2", namespace="usergroup-2")
    other["metadata"]["labels"]["istio.io/rev"] = "usergroup-2"
    for obj in (default_tag("usergroup-1"), default_tag("usergroup-2"), other):
        cluster.add(obj)

    preview, failed = run_module(main, args(generate, state="absent"), check_mode=True, diff=True)
    assert not failed, preview
    assert preview["changed"] is True and generate.commands("uninstall") == []
    assert "remove: MutatingWebhookConfiguration istio-revision-tag-default-usergroup-1" in preview["diff"]["before"]
    assert "usergroup-2" not in preview["diff"]["before"]

    result, failed = run_module(main, args(generate, state="absent"))
    assert not failed, result
    (call,) = generate.commands("uninstall")
    path = call[call.index("-f") + 1]
    assert call == ["uninstall", "-y", "--revision", "usergroup-1", "-f", path, "--kubeconfig", "/kc"]
    assert cluster.deleted == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-1")]
    assert sorted(name for _kind, _ns, name in cluster.objects) == ["istio-revision-tag-default-usergroup-2", "istiod-usergroup-2"]

    again, failed = run_module(main, args(generate, state="absent"))
    assert not failed and again["changed"] is False and len(generate.commands("uninstall")) == 1


def test_absent_fails_when_uninstall_leaves_objects(generate, cluster):
    for obj in rendered():
        cluster.add(as_installed(obj))
    cluster.uninstall_works = False
    result, failed = run_module(main, args(generate, state="absent"))
    assert failed
    assert result["msg"].startswith("istioctl uninstall left {0} object(s) of revision usergroup-1: ".format(result["objects"]))


def test_absent_removes_tag_and_is_then_unchanged(generate, cluster):
    cluster.add({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                 "metadata": {"name": "istio-revision-tag-default-usergroup-1",
                              "labels": {"istio.io/tag": "default", "istio.io/rev": "usergroup-1"}}})
    cluster.add({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                 "metadata": {"name": "istiod-default-validator", "labels": {"istio.io/rev": "usergroup-1"}}})
    result, failed = run_module(main, args(generate, state="absent"))
    assert not failed, result
    assert cluster.deleted == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-1"),
                               ("ValidatingWebhookConfiguration", "istiod-default-validator")]
    assert generate.commands("uninstall") == [], "nothing of the revision was installed: no uninstall"
    again, failed = run_module(main, args(generate, state="absent"))
    assert not failed and again["changed"] is False and again["differences"] == []


def test_purge_only_when_asked_by_its_explicit_name(generate, cluster):
    for obj in rendered():
        cluster.add(as_installed(obj))
    # istioctl finds a revision to uninstall by its istiod and its injector webhook.
    for kind, name in (("Deployment", "istiod-usergroup-2"), ("MutatingWebhookConfiguration", "istio-sidecar-injector-usergroup-2")):
        other = as_installed([o for o in rendered() if o["kind"] == kind][0])
        other["metadata"].update(name=name)
        if kind == "Deployment":
            other["metadata"]["namespace"] = "usergroup-2"
        other["metadata"]["labels"].update({"istio.io/rev": "usergroup-2", "install.operator.istio.io/owning-resource-namespace": "usergroup-2"})
        cluster.add(other)
    result, failed = run_module(main, args(generate, state="absent", revision="usergroup-2", istio_operator=None,
                                           istio_namespace="usergroup-2"))
    assert not failed, result
    assert [c[:4] for c in generate.commands("uninstall")] == [["uninstall", "-y", "--revision", "usergroup-2"]]
    assert len(cluster.objects) == len(rendered()), "removing usergroup-2 touched usergroup-1"
    result, failed = run_module(main, args(generate, state="absent", purge_all_control_planes_in_cluster=True))
    assert not failed, result
    assert generate.commands("uninstall")[1] == ["uninstall", "-y", "--purge", "--kubeconfig", "/kc"]
    assert cluster.objects == {}


def test_failure_reports_rc_streams_and_command_without_the_token(istioctl, cluster):
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNlY3JldCJ9.c2VjcmV0"
    istioctl.rules([{"argv": ["manifest", "generate"], "stdout_file": GENERATED},
                    {"argv": ["install"], "rc": 1, "stdout": "- Processing resources for Istiod.\n",
                     "stderr": "Error: failed to install manifests: Unauthorized (token " + token + ")\n"}])
    params = dict(args(istioctl), host="https://10.0.0.1:6443", api_key=token, ca_cert="/ca.crt")
    del params["kubeconfig"]
    result, failed = run_module(main, params)
    assert failed
    assert result["msg"].startswith("istioctl install failed (rc=1): Error: failed to install manifests: Unauthorized")
    assert result["rc"] == 1 and result["stdout"] == "- Processing resources for Istiod.\n"
    assert token not in repr(result) and "********" in result["stderr"]
    (install,) = istioctl.commands("install")
    kubeconfig = install[install.index("--kubeconfig") + 1]
    assert not os.path.exists(kubeconfig), "the temporary kubeconfig was left behind"
    assert "--kubeconfig " + kubeconfig in result["cmd"]


def test_timeout_names_the_command(istioctl, cluster):
    istioctl.rules([{"argv": ["manifest", "generate"], "sleep": 5}])
    result, failed = run_module(main, args(istioctl, istioctl_timeout=1))
    assert failed and result["msg"] == ("istioctl manifest did not finish within 1s. Fix: raise istioctl_timeout or look "
                                        "at the cluster.")


def test_unparseable_manifest_fails(istioctl, cluster):
    istioctl.rules([{"argv": ["manifest", "generate"], "stdout": "key: [unclosed\n"}])
    result, failed = run_module(main, args(istioctl))
    assert failed and result["msg"].startswith("istioctl manifest generate printed something that is not YAML")
    istioctl.rules([{"argv": ["manifest", "generate"], "stdout": ""}])
    result, failed = run_module(main, args(istioctl))
    assert failed and result["msg"].startswith("istioctl manifest generate rendered no objects for revision usergroup-1")


def test_missing_binary(tmp_path, monkeypatch, cluster):
    result, failed = run_module(main, dict(ARGS, istioctl_path=str(tmp_path / "nope")))
    assert failed and result["msg"].startswith("cannot run {0}".format(tmp_path / "nope"))
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result, failed = run_module(main, ARGS)
    assert failed and result["msg"] == "istioctl was not found on PATH. Fix: install istioctl or set istioctl_path."


def test_old_istioctl_is_refused(istioctl, cluster):
    istioctl.rules([{"argv": ["version"], "stdout_file": fixture("version-1.17.txt")}])
    result, failed = run_module(main, args(istioctl))
    assert failed and result["msg"] == ("istioctl 1.17.0 is too old: this collection needs 1.20 or newer. Fix: install a "
                                        "newer istioctl or point istioctl_path at one.")
    assert istioctl.commands("manifest") == []


def test_second_run_changes_nothing(generate, cluster):
    first, failed = run_module(main, args(generate))
    assert not failed and first["changed"] is True
    second, failed = run_module(main, args(generate))
    assert not failed, second
    assert second["changed"] is False and second["differences"] == []
    assert len(generate.commands("install")) == 1 and len(generate.commands("manifest")) == 2


def test_not_the_default_revision_leaves_no_default_webhook_pointing_at_it(generate, cluster):
    cluster.add({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                 "metadata": {"name": "istiod-default-validator", "labels": {"istio.io/rev": "usergroup-1"}}})
    result, failed = run_module(main, args(generate, default_revision=False))
    assert not failed, result
    assert len(generate.commands("install")) == 1
    # istioctl created istio-revision-tag-default-usergroup-1 on install; the module removed it and the validator.
    assert sorted(cluster.deleted) == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-1"),
                                       ("ValidatingWebhookConfiguration", "istiod-default-validator")]
    again, failed = run_module(main, args(generate, default_revision=False))
    assert not failed and again["changed"] is False and len(generate.commands("install")) == 1


def test_a_webhook_changed_by_its_istiod_since_it_was_read_is_read_again_and_deleted(generate, cluster, monkeypatch):
    """Seen in CI: the running istiod patched the default tag's caBundle between the read and the delete (409)."""
    from kubernetes.client.rest import ApiException

    real_delete, conflicts = cluster.delete, []

    def delete(live, unmarked_because=None):
        if not conflicts:
            conflicts.append(live["metadata"]["name"])
            raise ApiException(status=409, reason="Conflict")
        return real_delete(live, unmarked_because)
    monkeypatch.setattr(cluster, "delete", delete)
    result, failed = run_module(main, args(generate, default_revision=False))
    assert not failed, result
    assert conflicts == ["istio-revision-tag-default-usergroup-1"]
    assert cluster.deleted == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-1")]


def test_a_webhook_that_keeps_changing_fails_with_the_api_servers_answer(generate, cluster, monkeypatch):
    from kubernetes.client.rest import ApiException

    def delete(live, unmarked_because=None):
        raise ApiException(status=409, reason="Conflict")
    monkeypatch.setattr(cluster, "delete", delete)
    result, failed = run_module(main, args(generate, default_revision=False))
    assert failed and "the API server answered 409 Conflict" in result["msg"], result


def test_default_revision_takes_the_tag_over_from_another_revision(generate, cluster):
    for obj in rendered():
        cluster.add(as_installed(obj))
    cluster.add(default_tag("usergroup-2"))
    preview, failed = run_module(main, args(generate, default_revision=True), check_mode=True)
    assert not failed and preview["changed"] is True
    assert [(d["name"], d["reason"]) for d in preview["differences"]] == [
        ("istio-revision-tag-default-usergroup-2", "default webhook of revision usergroup-2"),
        ("istio-revision-tag-default-usergroup-1", "missing")]
    assert generate.commands("install") == [] and cluster.deleted == []
    result, failed = run_module(main, args(generate, default_revision=True))
    assert not failed, result
    assert cluster.deleted == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-2")]
    assert len(generate.commands("install")) == 1, "install runs so that istioctl creates the tag of this revision"
    assert ("MutatingWebhookConfiguration", None, "istio-revision-tag-default-usergroup-1") in cluster.objects
    again, failed = run_module(main, args(generate, default_revision=True))
    assert not failed and again["changed"] is False


def test_shared_crds_labelled_by_another_revision_are_not_a_difference():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "peerauthentications.security.istio.io",
                        "labels": {"install.operator.istio.io/owning-resource": "unknown", "app": "istio-pilot"}},
           "spec": {"group": "security.istio.io"}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istiod-usergroup-1", "namespace": "usergroup-1"}}
    iop = {"metadata": {"name": "usergroup-1", "namespace": "usergroup-1"}, "spec": {"revision": "usergroup-1"}}
    objects = impl.owner_labels([copy.deepcopy(crd), deployment], iop)
    assert objects[0]["metadata"]["labels"] == {"app": "istio-pilot"}
    assert objects[1]["metadata"]["labels"] == {"istio.io/rev": "usergroup-1", "install.operator.istio.io/owning-resource": "usergroup-1",
                                                "install.operator.istio.io/owning-resource-namespace": "usergroup-1"}
    live = copy.deepcopy(crd)
    live["metadata"]["labels"].update({"install.operator.istio.io/owning-resource": "usergroup-2", "istio.io/rev": "usergroup-2"})
    assert impl.differences([objects[0]], lambda ident: live) == []


def test_absent_without_istiod_uninstalls_by_file_alone(istioctl, cluster):
    istioctl.rules([{"argv": ["uninstall"], "stdout": ""}])
    daemonset = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-cni-config", "namespace": "istio-cni", "labels": {
        "operator.istio.io/component": "Cni", "istio.io/rev": "cni", "install.operator.istio.io/owning-resource": "cni",
        "install.operator.istio.io/owning-resource-namespace": "istio-cni"}}}
    cluster.add(daemonset)
    cni = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "cni", "namespace": "istio-cni"},
           "spec": {"profile": "empty", "components": {"cni": {"enabled": True}}}}
    result, failed = run_module(main, dict(revision="cni", istio_operator=cni, state="absent", istioctl_path=istioctl.path))
    assert not failed, result
    (call,) = istioctl.commands("uninstall")
    assert call[:3] == ["uninstall", "-y", "-f"] and "--revision" not in call


def test_a_failed_install_puts_the_previous_default_tag_back(istioctl, cluster):
    """Issue 13 point 3: the other revision's default tag is deleted so that istioctl creates this one's; when the
    install fails, the cluster must not be left without a default tag."""
    istioctl.rules([{"argv": ["manifest", "generate"], "stdout_file": GENERATED},
                    {"argv": ["install"], "stderr": "Error: istiod did not become ready\n", "rc": 1}])
    previous = default_tag("usergroup-2")
    previous["metadata"]["resourceVersion"] = "41"
    cluster.add(previous)
    result, failed = run_module(main, args(istioctl, default_revision=True))
    assert failed
    assert cluster.deleted == [("MutatingWebhookConfiguration", "istio-revision-tag-default-usergroup-2")]
    restored = cluster.objects[("MutatingWebhookConfiguration", None, "istio-revision-tag-default-usergroup-2")]
    assert restored["metadata"]["labels"]["istio.io/rev"] == "usergroup-2"
    assert "istio-revision-tag-default-usergroup-2 deleted before the install were restored" in result["msg"]


def test_an_istiod_without_local_webhooks_is_uninstalled_by_its_owner_labels(generate, cluster):
    """An external istiod's webhooks live in its config cluster: `--revision` would fail ("could not find target
    revision"), so -f and the IstioOperator's owner labels select what it installed."""
    other = as_installed([o for o in rendered() if o["kind"] == "Deployment"][0])
    other["metadata"].update(name="istiod-usergroup-2", namespace="usergroup-2")
    other["metadata"]["labels"].update({"istio.io/rev": "usergroup-2", "install.operator.istio.io/owning-resource-namespace": "usergroup-2"})
    cluster.add(other)
    result, failed = run_module(main, args(generate, state="absent", revision="usergroup-2", istio_operator=None,
                                           istio_namespace="usergroup-2"))
    assert not failed, result
    (command,) = generate.commands("uninstall")
    assert command[:3] == ["uninstall", "-y", "-f"] and "--revision" not in command


OWNER = "multimesh.istio/owner"


def test_absent_keeps_a_revision_another_inventory_installed(generate, cluster):
    """Issue point 5: two inventories copy one example (same namespace and revision); the second's cleanup must not
    uninstall the first's istiod, nor the default tag that points at it."""
    result, failed = run_module(main, args(generate, owner="team-a"))
    assert not failed, result
    (deployment,) = cluster.list("apps/v1", "Deployment", "istio.io/rev=usergroup-1")
    assert deployment["metadata"]["labels"][OWNER] == "team-a", "present labels istiod with its owner"
    cluster.add(default_tag("usergroup-1", "usergroup-1"))
    before = copy.deepcopy(cluster.objects)

    for check_mode in (True, False):
        kept, failed = run_module(main, args(generate, state="absent", owner="team-b"), check_mode=check_mode)
        assert not failed, kept
        assert kept["changed"] is False and kept["differences"] == []
        assert kept["kept"] == [
            "IstioOperator usergroup-1/usergroup-1 (revision usergroup-1): kept, not created by this inventory "
            "(multimesh.istio/owner): Deployment usergroup-1/istiod-usergroup-1 carries multimesh.istio/owner=team-a. "
            "Fix: if it is this inventory's, label its istiod Deployment multimesh.istio/owner=team-b"]
    assert generate.commands("uninstall") == [] and cluster.deleted == [] and cluster.objects == before

    removed, failed = run_module(main, args(generate, state="absent", owner="team-a"))
    assert not failed and removed["changed"] is True and removed["kept"] == []
    assert len(generate.commands("uninstall")) == 1
    assert not [o for o in cluster.objects.values() if o["kind"] == "Deployment"]


def test_absent_judges_an_unlabelled_istiod_by_its_namespace_owner(generate, cluster):
    """An istiod installed before the owner label existed: its namespace's owner label decides."""
    for obj in rendered():
        cluster.add(as_installed(obj))
    cluster.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "usergroup-1", "labels": {OWNER: "team-a"}}})
    kept, failed = run_module(main, args(generate, state="absent", owner="team-b"))
    assert not failed and kept["changed"] is False and generate.commands("uninstall") == []
    assert "its istiod carries no multimesh.istio/owner label and namespace usergroup-1 carries " \
           "multimesh.istio/owner=team-a" in kept["kept"][0]
    removed, failed = run_module(main, args(generate, state="absent", owner="team-a"))
    assert not failed and removed["changed"] is True and len(generate.commands("uninstall")) == 1


def test_owner_conflicting_with_the_operators_own_label_is_refused(istioctl, cluster):
    iop = copy.deepcopy(IOP)
    iop["spec"]["values"]["pilot"] = {"deploymentLabels": {OWNER: "team-a"}}
    result, failed = run_module(main, args(istioctl, istio_operator=iop, owner="team-b"))
    assert failed and result["msg"].startswith("istio_operator.spec.values.pilot.deploymentLabels: "
                                               "multimesh.istio/owner='team-a' differs from owner 'team-b'")
    assert istioctl.commands("manifest") == []
