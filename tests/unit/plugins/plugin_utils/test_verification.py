"""Isolation verification: which pairs must connect, how probe outputs read, each check against a broken world."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.multimesh.istio.plugins.plugin_utils import sidecars
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_checks as judges
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_probes as probes
from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_report as reporting
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model

MODEL = build_model(meshes=[
    {"name": "usergroup-1", "namespace": "usergroup-1", "discovery_labels": {"usergroup": "usergroup-1"},
     "members": ["app-ns-1"], "samples": ["curl", "httpbin"]},
    {"name": "usergroup-2", "namespace": "usergroup-2", "discovery_labels": {"usergroup": "usergroup-2"},
     "members": ["app-ns-2", "app-ns-3"], "samples": ["sleep", "httpbin"]},
])


def pod(ns, name, revision, control_plane_ns=None, sidecar=True, native=False, app="httpbin"):
    address = "istiod-{0}.{1}.svc:15012".format(revision, control_plane_ns or revision)
    proxy = {"name": "istio-proxy", "image": "proxyv2",
             "env": [{"name": "PROXY_CONFIG", "value": '{"discoveryAddress":"%s","tracing":{}}\n' % address}]}
    spec = {"containers": [{"name": app, "image": app}]}
    # The shared CNI is on by default: the injector adds its istio-validation init container.
    if sidecar and native:
        spec["initContainers"] = [{"name": "istio-validation"}, dict(proxy, restartPolicy="Always")]
    elif sidecar:
        spec["initContainers"] = [{"name": "istio-validation"}]
        spec["containers"].append(proxy)
    # What a real injector (istiod, seen on the harness) writes: the revision in sidecar.istio.io/status, no rev label.
    status = json.dumps({"initContainers": ["istio-validation"], "containers": ["istio-proxy"], "revision": revision})
    return {"metadata": {"name": name, "namespace": ns, "labels": {"app": app},
                         "annotations": {"sidecar.istio.io/status": status} if sidecar else {}}, "spec": spec}


def statuses(checks):
    return {c["name"]: c["status"] for c in checks}


def test_pairs_allow_inside_a_mesh_and_deny_across():
    pairs = probes.probe_pairs(MODEL)
    table = {(p["client_namespace"], p["server_namespace"]): p["expect"] for p in pairs}
    assert table == {
        ("app-ns-1", "app-ns-1"): "allow", ("app-ns-1", "app-ns-2"): "deny", ("app-ns-1", "app-ns-3"): "deny",
        ("app-ns-2", "app-ns-1"): "deny", ("app-ns-2", "app-ns-2"): "allow", ("app-ns-2", "app-ns-3"): "allow",
        ("app-ns-3", "app-ns-1"): "deny", ("app-ns-3", "app-ns-2"): "allow", ("app-ns-3", "app-ns-3"): "allow"}
    assert pairs[1]["url"] == "http://httpbin.app-ns-2.svc.cluster.local:8000/get"
    assert {p["client"] for p in pairs if p["client_namespace"] == "app-ns-2"} == {"sleep"}


ALLOW = {"client_namespace": "app-ns-2", "server_namespace": "app-ns-3", "url": "u", "expect": "allow"}
DENY = {"client_namespace": "app-ns-1", "server_namespace": "app-ns-2", "url": "u", "expect": "deny"}


def probe(pair, rc, code="000", error=None):
    return dict(pair, rc=rc, http_code=code, elapsed=0.01, pod="curl-1", error=error)


@pytest.mark.parametrize("pair, rc, code, status, observed", [
    (ALLOW, 0, "200", "pass", "HTTP 200"),
    (ALLOW, 0, "503", "fail", "HTTP 503"),
    (ALLOW, 56, "000", "fail", "curl exit 56 (connection reset (by the server's sidecar))"),
    (DENY, 0, "503", "pass", "HTTP 503"),
    (DENY, 56, "000", "pass", "curl exit 56 (connection reset (by the server's sidecar))"),
    (DENY, 52, "000", "pass", "curl exit 52 (empty reply (closed by the server's sidecar))"),
    (DENY, 0, "200", "fail", "HTTP 200"),
    (DENY, 0, "404", "fail", "HTTP 404"),
    # No network at all must never pass as isolation: each of these is inconclusive.
    (DENY, 6, "000", "fail", "curl exit 6 (could not resolve the host)"),
    (DENY, 7, "000", "fail", "curl exit 7 (connection refused or unroutable)"),
    (DENY, 28, "000", "fail", "curl exit 28 (timed out)"),
    (DENY, 35, "000", "fail", "curl exit 35 (TLS handshake failed)"),
    (DENY, 99, "000", "fail", "curl exit 99 (see curl's exit codes)"),
    (DENY, 0, "000", "fail", "curl exit 0 (see curl's exit codes)"),
    (ALLOW, 6, "000", "fail", "curl exit 6 (could not resolve the host)"),
])
def test_probe_outputs(pair, rc, code, status, observed):
    result = probes.evaluate_probe(probe(pair, rc, code))
    assert (result["status"], result["observed"]) == (status, observed)
    assert result["category"] == "connectivity" and result["evidence"]["url"] == "u"
    assert result["evidence"]["rc"] == rc and result["evidence"]["http_code"] == code


@pytest.mark.parametrize("rc", [6, 7, 28, 99])
def test_failures_that_show_nothing_are_inconclusive_and_name_the_exit_code(rc):
    result = probes.evaluate_probe(probe(DENY, rc))
    assert result["reason"].startswith("inconclusive: curl exit {0} ".format(rc))


def test_a_probe_that_did_not_run_fails_with_its_error():
    result = probes.evaluate_probe(probe(ALLOW, None, None, error="no running curl pod in namespace app-ns-2"))
    assert (result["status"], result["observed"]) == ("fail", "not probed")
    assert result["reason"] == "inconclusive: no running curl pod in namespace app-ns-2"


def test_a_cross_mesh_200_says_so():
    result = probes.evaluate_probe(probe(DENY, 0, "200"))
    assert result["reason"] == "a request across meshes was answered"


def test_pods_with_sidecars_bound_to_their_mesh_pass():
    pods = [pod("app-ns-1", "httpbin-1", "usergroup-1"), pod("app-ns-2", "httpbin-2", "usergroup-2", native=True),
            pod("default", "unrelated", "x", sidecar=False)]
    assert statuses(judges.check_pods(MODEL, pods)) == {
        "sidecar app-ns-1/httpbin-1": "pass", "binding app-ns-1/httpbin-1": "pass", "cni app-ns-1/httpbin-1": "pass",
        "sidecar app-ns-2/httpbin-2": "pass", "binding app-ns-2/httpbin-2": "pass", "cni app-ns-2/httpbin-2": "pass"}


def test_pod_without_sidecar_or_bound_elsewhere_fails_and_is_named():
    checks = judges.check_pods(MODEL, [pod("app-ns-1", "curl-1", "usergroup-1", sidecar=False, app="curl"),
                                       pod("app-ns-3", "httpbin-3", "usergroup-1")])
    failed = [c for c in checks if c["status"] == "fail"]
    assert [c["reason"] for c in failed] == ["pod app-ns-1/curl-1 has no sidecar: injection did not happen",
                                             "the sidecar of app-ns-3/httpbin-3 is bound to another control plane"]
    assert failed[1]["evidence"] == {"revision": "usergroup-1", "discoveryAddress": "istiod-usergroup-1.usergroup-1.svc:15012"}


def test_pods_of_a_mesh_that_uses_the_cni_are_injected_for_it():
    """Issue 28 item 1: with the shared CNI the injector adds istio-validation; a privileged istio-init fails."""
    with_cni = build_model(cni={"enabled": True}, meshes=[
        {"name": "usergroup-1", "namespace": "usergroup-1", "members": ["app-ns-1"], "samples": ["httpbin"]}])

    def injected(name, *inits):
        found = pod("app-ns-1", name, "usergroup-1")
        found["spec"]["initContainers"] = [{"name": n} for n in inits]
        return found
    checks = dict((c["name"], c) for c in judges.check_pods(with_cni, [
        injected("good", "istio-validation"), injected("privileged", "istio-init"), injected("bare")]))
    assert statuses(checks.values()) == {
        "sidecar app-ns-1/good": "pass", "binding app-ns-1/good": "pass", "cni app-ns-1/good": "pass",
        "sidecar app-ns-1/privileged": "pass", "binding app-ns-1/privileged": "pass", "cni app-ns-1/privileged": "fail",
        "sidecar app-ns-1/bare": "pass", "binding app-ns-1/bare": "pass", "cni app-ns-1/bare": "fail"}
    assert checks["cni app-ns-1/privileged"]["reason"] == (
        "pod app-ns-1/privileged was not injected for the Istio CNI: istio-init needs NET_ADMIN and NET_RAW")
    assert checks["cni app-ns-1/bare"]["observed"] == "no init container"
    # A mesh that does not use the CNI gets no such check.
    without = build_model(cni={"enabled": False}, meshes=[{"name": "usergroup-1", "namespace": "usergroup-1", "members": ["app-ns-1"]}])
    assert [c["name"] for c in judges.check_pods(without, [injected("old", "istio-init")])] == [
        "sidecar app-ns-1/old", "binding app-ns-1/old"]


def test_the_injected_revision_comes_from_the_injectors_status_then_the_label():
    injected = pod("app-ns-1", "httpbin-1", "usergroup-1")
    assert sidecars.injected_revision(injected) == "usergroup-1"
    injected["metadata"]["labels"]["istio.io/rev"] = "usergroup-2"  # a label someone set does not say who injected
    assert sidecars.injected_revision(injected) == "usergroup-1"
    labelled = {"metadata": {"labels": {"istio.io/rev": "usergroup-2"}, "annotations": {"sidecar.istio.io/status": "{oops"}}}
    assert sidecars.injected_revision(labelled) == "usergroup-2"
    assert sidecars.injected_revision({"metadata": {}}) is None


def hook(name, rev, tag=None):
    labels = {"istio.io/rev": rev}
    if tag:
        labels["istio.io/tag"] = tag
    return {"metadata": {"name": name, "labels": labels}}


def deployment(ns, name, ready):
    return {"metadata": {"name": name, "namespace": ns}, "status": {"readyReplicas": ready}}


def test_control_planes_and_default_webhooks():
    deployments = [deployment("usergroup-1", "istiod-usergroup-1", 1), deployment("usergroup-2", "istiod-usergroup-2", 1)]
    mutating = [hook("istio-sidecar-injector-usergroup-1-usergroup-1", "usergroup-1"),
                hook("istio-sidecar-injector-usergroup-2-usergroup-2", "usergroup-2")]
    validating = [hook("istio-validator-usergroup-1-usergroup-1", "usergroup-1"),
                  hook("istio-validator-usergroup-2-usergroup-2", "usergroup-2")]
    good = judges.check_control_planes(MODEL, deployments, mutating, validating)
    assert set(statuses(good).values()) == {"pass"} and len(good) == 7
    broken = judges.check_control_planes(MODEL, deployments[:1] + [deployment("usergroup-2", "istiod-usergroup-2", 0)],
                                         mutating + [hook("istio-revision-tag-default-usergroup-1", "usergroup-1", "default")],
                                         validating[:1] + [hook("istiod-default-validator", "usergroup-1")])
    assert {k: s for k, s in statuses(broken).items() if s == "fail"} == {
        "istiod usergroup-2": "fail", "validator usergroup-2": "fail", "default webhooks": "fail"}
    pointing = [c for c in broken if c["name"] == "default webhooks"][0]
    assert pointing["evidence"]["pointing"] == ["istio-revision-tag-default-usergroup-1 -> usergroup-1",
                                                "istiod-default-validator -> usergroup-1"]
    with_default = dict(MODEL, default_mesh="usergroup-1")
    assert "default webhooks" not in statuses(judges.check_control_planes(with_default, deployments, mutating, validating))


def root_cm(ns, root):
    return {"metadata": {"name": "istio-ca-root-cert", "namespace": ns}, "data": {"root-cert.pem": root}}


def test_roots_of_trust():
    good = [root_cm("usergroup-1", "R1"), root_cm("app-ns-1", "R1"), root_cm("usergroup-2", "R2"),
            root_cm("app-ns-2", "R2"), root_cm("app-ns-3", "R2")]
    assert set(statuses(judges.check_roots(MODEL, good)).values()) == {"pass"}
    foreign = [root_cm("usergroup-1", "R1"), root_cm("app-ns-1", "R1"), root_cm("usergroup-2", "R2"),
               root_cm("app-ns-2", "R1"), root_cm("app-ns-3", "R2")]
    checks = judges.check_roots(MODEL, foreign)
    assert [(c["name"], c["observed"]) for c in checks if c["status"] == "fail"] == [("root of trust app-ns-2", "root of usergroup-1")]
    shared = [root_cm(ns, "R") for ns in ("usergroup-1", "app-ns-1", "usergroup-2", "app-ns-2", "app-ns-3")]
    failing = [c["name"] for c in judges.check_roots(MODEL, shared) if c["status"] == "fail"]
    assert "separate roots usergroup-1/usergroup-2" in failing and "root of trust app-ns-1" in failing
    leak = [c for c in judges.check_roots(MODEL, good + [root_cm("kube-public", None), root_cm("outsider", "R2")]) if c["status"] == "fail"]
    assert [(c["name"], c["reason"]) for c in leak] == [
        ("root of trust outsider", "namespace outsider is not in mesh usergroup-2 but its istiod discovers it")]
    missing = [c for c in judges.check_roots(MODEL, good[:-1]) if c["status"] == "fail"]
    assert [(c["name"], c["observed"]) for c in missing] == [("root of trust app-ns-3", "no istio-ca-root-cert")]


def proxy(name, ns, synced=True):
    return {"name": "{0}.{1}".format(name, ns), "namespace": ns, "synced": synced}


def test_mapping_from_proxy_status():
    pods = [pod("app-ns-1", "httpbin-1", "usergroup-1"), pod("app-ns-2", "httpbin-2", "usergroup-2")]
    good = {"usergroup-1": [proxy("httpbin-1", "app-ns-1")], "usergroup-2": [proxy("httpbin-2", "app-ns-2")]}
    assert set(statuses(judges.check_mapping(MODEL, good, pods)).values()) == {"pass"}
    crossed = {"usergroup-1": [proxy("httpbin-1", "app-ns-1"), proxy("httpbin-2", "app-ns-2")],
               "usergroup-2": [proxy("httpbin-2", "app-ns-2", synced=False)]}
    checks = judges.check_mapping(MODEL, crossed, pods)
    assert [c["evidence"] for c in checks] == [
        {"missing": [], "foreign": ["httpbin-2.app-ns-2"], "not_synced": []},
        {"missing": [], "foreign": [], "not_synced": ["httpbin-2.app-ns-2"]}]
    assert [c["reason"] for c in checks] == ["istiod of usergroup-1 serves httpbin-2.app-ns-2 of other namespaces",
                                             "not in sync: httpbin-2.app-ns-2"]
    nothing = judges.check_mapping(MODEL, {"usergroup-1": [], "usergroup-2": []}, pods)
    assert nothing[0]["reason"] == "istiod of usergroup-1 serves no proxy of httpbin-1.app-ns-1"
    skipped = judges.check_mapping(MODEL, {}, pods, istioctl_reason="istioctl not found on PATH")
    assert [(c["status"], c["reason"]) for c in skipped] == [("skipped", "istioctl not found on PATH")] * 2


def test_report_junit_and_matrix():
    checks = [probes.evaluate_probe(probe(dict(ALLOW, client_namespace="app-ns-2", server_namespace="app-ns-2"), 0, "200")),
              probes.evaluate_probe(probe(DENY, 0, "200")),
              reporting.check("control-plane mapping usergroup-1", "mapping", "x", "not run", "skipped", reason="no istioctl")]
    rep = reporting.report(checks)
    assert rep["passed"] is False and rep["counts"] == {"pass": 1, "fail": 1, "skipped": 1}
    assert rep["failed"] == ["connectivity app-ns-1 -> app-ns-2"]
    assert rep["skipped"] == [{"name": "control-plane mapping usergroup-1", "reason": "no istioctl"}]
    suite = ET.fromstring(reporting.junit(rep))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[1].find("failure").get("message") == "a request across meshes was answered"
    assert cases[2].find("skipped").get("message") == "no istioctl"
    text = reporting.matrix(rep)
    assert "from \\ to" in text.splitlines()[0] and "FAIL 200" in text and "app-ns-2" in text
    assert reporting.matrix(reporting.report([])) .startswith("no connectivity probes")


def service(ns, name="httpbin"):
    return {"metadata": {"namespace": ns, "name": name}}


SERVICES = [service("usergroup-1", "istiod-usergroup-1"), service("app-ns-1"), service("usergroup-2", "istiod-usergroup-2"),
            service("app-ns-2"), service("app-ns-3"), service("default", "kubernetes"), service("other")]


def registry(name, namespaces, error=None):
    out = {"name": name, "pod": "istiod-" + name + "-1", "namespaces": namespaces}
    if error:
        out["error"] = error
    return out


def test_discovery_scope_passes_when_each_istiod_sees_exactly_its_namespaces():
    checks = judges.check_discovery(MODEL, [registry("usergroup-1", ["app-ns-1", "usergroup-1"]),
                                            registry("usergroup-2", ["app-ns-2", "app-ns-3", "usergroup-2"])], SERVICES)
    assert [(c["name"], c["status"], c["observed"]) for c in checks] == [
        ("discovery scope usergroup-1", "pass", "app-ns-1, usergroup-1"),
        ("discovery scope usergroup-2", "pass", "app-ns-2, app-ns-3, usergroup-2")]
    assert checks[0]["expected"] == "istiod-usergroup-1 discovers exactly app-ns-1, usergroup-1"


def test_discovery_scope_fails_naming_foreign_and_missing_namespaces():
    checks = judges.check_discovery(MODEL, [registry("usergroup-1", ["app-ns-1", "app-ns-2", "other", "usergroup-1"]),
                                            registry("usergroup-2", ["app-ns-2", "usergroup-2"])], SERVICES)
    assert [c["status"] for c in checks] == ["fail", "fail"]
    assert checks[0]["reason"] == "istiod of usergroup-1 discovers app-ns-2 (mesh usergroup-2), other (in no mesh)"
    assert checks[0]["evidence"]["foreign"] == ["app-ns-2", "other"]
    assert checks[1]["reason"] == "it does not discover its own app-ns-3"


def test_discovery_scope_never_passes_what_was_not_observed():
    checks = judges.check_discovery(MODEL, [registry("usergroup-1", [], error="no running istiod pod of revision usergroup-1")], SERVICES)
    assert [(c["status"], c["observed"], c["reason"]) for c in checks] == [
        ("fail", "not observed", "no running istiod pod of revision usergroup-1"),
        ("fail", "not observed", "istiod was not asked")]


def sidecar(ns, hosts, name="default"):
    return {"metadata": {"namespace": ns, "name": name}, "spec": {"egress": [{"hosts": hosts}]}}


def test_sidecar_scope_reads_the_objects_and_what_istiod_holds():
    want_1 = ["app-ns-1/*", "usergroup-1/*"]
    want_2 = ["app-ns-2/*", "app-ns-3/*", "usergroup-2/*"]
    stored = [sidecar("app-ns-1", want_1), sidecar("app-ns-2", want_2), sidecar("app-ns-3", ["*/*"])]
    registries = [{"name": "usergroup-1", "sidecars": [{"namespace": "app-ns-1", "name": "default", "egress_hosts": want_1}]},
                  {"name": "usergroup-2", "sidecars": []}]
    checks = dict((c["name"], c) for c in judges.check_sidecar_scope(MODEL, stored, registries))
    assert statuses(checks.values()) == {"sidecar scope app-ns-1": "pass", "sidecar scope app-ns-2": "fail",
                                         "sidecar scope app-ns-3": "fail"}
    assert checks["sidecar scope app-ns-1"]["observed"] == "stored, held by istiod-usergroup-1"
    assert checks["sidecar scope app-ns-2"]["observed"] == "istiod-usergroup-2 does not hold it as stored (not at all)"
    assert checks["sidecar scope app-ns-3"]["observed"] == "its egress hosts are */*"
    # Where the mesh's istiod runs here, what it holds is the evidence: without its answer the check is inconclusive
    # (failed), whether istiod could not be reached or only its configuration could not be read.
    for asked, why in (({"name": "usergroup-1", "error": "no running istiod pod"}, "no running istiod pod"),
                       ({"name": "usergroup-1", "services": [], "sidecars_error": "istiod answered 503 on /debug/configz"},
                        "istiod answered 503 on /debug/configz")):
        alone = judges.check_sidecar_scope(MODEL, stored[:1], [asked])
        assert (alone[0]["status"], alone[0]["observed"]) == ("fail", "stored; not observed by istiod-usergroup-1"), alone[0]
        assert alone[0]["reason"] == "inconclusive: not observed: " + why
        assert alone[0]["evidence"]["held_by_istiod"] == "not observed: " + why
    assert [c["observed"] for c in alone[1:]] == ["no Sidecar default in app-ns-2", "no Sidecar default in app-ns-3"]


def test_sidecar_scope_skips_meshes_that_opted_out():
    model = build_model(meshes=[{"name": "m", "namespace": "ns", "members": ["a"], "sidecar_scope": {"enabled": False}}])
    assert judges.check_sidecar_scope(model, [], []) == []
