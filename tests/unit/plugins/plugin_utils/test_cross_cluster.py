"""Issue 28 item 4: traffic across the clusters of a multicluster mesh - which probes each cluster plans
(verification_probes.spread_pairs), and how a probe's answers are judged against the pods the other clusters read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils import verification_probes as probes
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import build_model
from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_report import matrix, report

CLUSTERS = [{"host": h, "name": None, "network": n, "access": ["", h]}
            for h, n in (("east", "net-1"), ("west", "net-2"), ("central", "net-1"))]
# The seeds: helloworld and a client; primary-remote (003) and an external control plane with a second remote (004).
MESHES = [
    {"name": "mesh-pr", "namespace": "istio-system-pr", "members": ["app-pr"], "samples": ["helloworld", "curl"],
     "topology": "primary-remote", "clusters": [{"name": "east", "role": "primary", "address": "192.0.2.10"},
                                                {"name": "west", "role": "remote"}]},
    {"name": "mesh-ext", "namespace": "external-istiod", "members": ["app-ext"], "samples": ["helloworld", "sleep"],
     "topology": "external", "clusters": [{"name": "central", "role": "external", "address": "192.0.2.30"},
                                          {"name": "east", "role": "config"}, {"name": "west", "role": "remote"}]},
    {"name": "solo", "namespace": "istio-solo", "members": ["app-solo"], "samples": ["helloworld", "curl"],
     "clusters": ["east"]},
]


def model(here):
    return build_model(meshes=MESHES, clusters=CLUSTERS, here=here)


def pod(ns, name, app="helloworld"):
    return {"metadata": {"namespace": ns, "name": name, "labels": {"app": app}}}


def test_each_data_plane_cluster_asks_helloworld_to_show_every_other_cluster_answering():
    east = [p for p in probes.probe_pairs(model("east")) if p["expect"] == "spread"]
    assert [(p["client_namespace"], p["client"], p["url"], p["repeat"], p["from_cluster"], p["to_clusters"]) for p in east] == [
        ("app-pr", "curl", "http://helloworld.app-pr.svc.cluster.local:5000/hello", 10, "east", ["west"]),
        ("app-ext", "sleep", "http://helloworld.app-ext.svc.cluster.local:5000/hello", 10, "east", ["west"])]
    west = [p for p in probes.probe_pairs(model("west")) if p["expect"] == "spread"]
    assert [(p["client_namespace"], p["to_clusters"]) for p in west] == [("app-pr", ["east"]), ("app-ext", ["east"])]
    # The external istiod's cluster runs no workload of the mesh; a single-cluster mesh has no other cluster.
    assert probes.probe_pairs(model("central")) == []
    # Before, these clusters planned no probe at all (no namespace runs both a client and httpbin).
    assert [p for p in probes.probe_pairs(model("east")) if p["expect"] != "spread"] == []


def spread(answers, rc=0, error=None):
    pair = [p for p in probes.probe_pairs(model("east")) if p["client_namespace"] == "app-pr"][0]
    return dict(pair, pod="curl-1", rc=rc, http_code="200" if rc == 0 else "000", error=error,
                answers=[{"rc": rc, "http_code": "200" if rc == 0 else "000",
                          "body": "Hello version: {0}, instance: {1}".format(a.split("-")[1], a) if a else ""} for a in answers])


WEST = {"west": [pod("app-pr", "helloworld-v1-west"), pod("app-pr", "helloworld-v2-west"), pod("app-pr", "curl-9", "curl"),
                 pod("other", "helloworld-v1-other")]}


def test_a_cluster_passes_only_when_one_of_its_own_pods_answered():
    both = probes.evaluate_spread(spread(["helloworld-v1-east", "helloworld-v2-west", "helloworld-v1-east"]), WEST)
    assert [(c["name"], c["status"], c["observed"]) for c in both] == [
        ("cross-cluster app-pr: east -> west", "pass", "answered by helloworld-v2-west")]
    assert both[0]["evidence"]["their_pods"] == ["helloworld-v1-west", "helloworld-v2-west"]
    assert both[0]["evidence"]["from_cluster"] == "east" and both[0]["evidence"]["to_clusters"] == ["west"]
    local = probes.evaluate_spread(spread(["helloworld-v1-east", "helloworld-v2-east"]), WEST)[0]
    assert (local["status"], local["observed"], local["reason"]) == (
        "fail", "answered only by helloworld-v1-east, helloworld-v2-east", "no answer came from west: traffic does not cross to it")
    # A body that names a pod of another namespace there proves nothing about this one.
    assert probes.evaluate_spread(spread(["helloworld-v1-other"]), WEST)[0]["status"] == "fail"


def test_no_answer_is_inconclusive_and_a_cluster_not_read_is_skipped_never_passed():
    silent = probes.evaluate_spread(spread(["", ""], rc=6), WEST)[0]
    assert (silent["status"], silent["observed"]) == ("fail", "no answer (curl exit 6 (could not resolve the host))")
    assert silent["reason"].startswith("inconclusive: ")
    unread = probes.evaluate_spread(spread(["helloworld-v2-west"]), {})[0]
    assert (unread["status"], unread["reason"]) == ("skipped", "cluster west is not in this run: its pods were not read")
    empty = probes.evaluate_spread(spread(["helloworld-v2-west"]), {"west": []})[0]
    assert (empty["status"], empty["observed"]) == ("fail", "no helloworld pod there")
    never = probes.evaluate_spread(dict(spread([]), rc=None, answers=[], error="no running curl pod in namespace app-pr"), WEST)[0]
    assert (never["observed"], never["reason"]) == ("not probed", "inconclusive: no running curl pod in namespace app-pr")


def test_the_matrix_lists_the_probes_across_clusters():
    text = matrix(report(probes.evaluate_spread(spread(["helloworld-v2-west"]), WEST)
                         + probes.evaluate_spread(spread([], rc=6), WEST)))
    assert text.splitlines()[1:] == ["across clusters:", "cross-cluster app-pr: east -> west: answered by helloworld-v2-west",
                                     "cross-cluster app-pr: east -> west: FAIL no answer (curl exit 6 (could not resolve the host))"]


def test_the_external_istiods_discovery_scope_is_judged_by_the_mesh_it_serves_on_other_clusters():
    """Item 4: the external istiod runs here but discovers the config and remote clusters' namespaces."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_checks import check_discovery

    central = model("central")
    assert [m["member_names"] for m in central["meshes"]] == [["app-ext"]] and central["meshes"][0]["members"] == []

    def judged(namespaces=None, error=None):
        registry = {"name": "mesh-ext", "pod": "istiod-1", "namespaces": namespaces or []}
        if error:
            registry = {"name": "mesh-ext", "pod": None, "error": error}
        return dict((c["name"], c) for c in check_discovery(central, [registry], []))["discovery scope mesh-ext"]
    good = judged(["app-ext", "external-istiod"])
    assert good["status"] == "pass" and good["expected"] == (
        "istiod-mesh-ext discovers only app-ext, external-istiod (on the clusters it serves), and some"), good
    assert judged(["app-ext"])["status"] == "pass"  # which namespaces hold a Service is not known here
    foreign = judged(["app-ext", "app-pr"])
    assert (foreign["status"], foreign["reason"]) == ("fail", "istiod of mesh-ext discovers app-pr (in no mesh)")
    blind = judged([])
    assert (blind["status"], blind["reason"]) == ("fail", "it does not discover its own app-ext, external-istiod")
    unasked = judged(error="no running istiod pod of revision mesh-ext in external-istiod")
    assert (unasked["status"], unasked["observed"]) == ("fail", "not observed")


def test_the_external_istiod_must_serve_exactly_the_sample_pods_of_the_clusters_it_serves():
    """Item 4: proxy-status of the external istiod, judged by the pods the config and remote clusters' hosts read."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_checks import check_mapping

    peers = {"east": [pod("app-ext", "helloworld-v1-e"), pod("app-pr", "curl-e", "curl")],
             "west": [pod("app-ext", "sleep-w", "sleep")]}

    def proxy(name, ns, synced=True):
        return {"name": "{0}.{1}".format(name, ns), "namespace": ns, "synced": synced}
    good = check_mapping(model("central"), {"mesh-ext": [proxy("helloworld-v1-e", "app-ext"), proxy("sleep-w", "app-ext")]},
                         [], None, peers)
    assert [(c["name"], c["status"], c["expected"]) for c in good] == [
        ("control-plane mapping mesh-ext", "pass", "exactly 2 proxies, all SYNCED")]
    short = check_mapping(model("central"), {"mesh-ext": [proxy("sleep-w", "app-ext")]}, [], None, peers)[0]
    assert (short["status"], short["reason"]) == ("fail", "istiod of mesh-ext serves no proxy of helloworld-v1-e.app-ext")
    unread = check_mapping(model("central"), {"mesh-ext": []}, [], None, {"east": peers["east"]})[0]
    assert (unread["status"], unread["reason"]) == ("skipped", "cluster west is not in this run: its pods were not read")


def test_a_primary_discovers_its_member_whose_services_run_only_on_its_remote():
    """A primary reads its remotes: its member namespace seen with Services only on the remote is its own, not
    foreign (found on the harness: mesh-pr's istiod lists app-pr's Service of west)."""
    from ansible_collections.multimesh.istio.plugins.plugin_utils.verification_checks import check_discovery

    east = model("east")
    services = [{"metadata": {"namespace": "istio-system-pr", "name": "istiod-mesh-pr"}}]
    registries = [{"name": "mesh-pr", "pod": "istiod-1", "namespaces": ["app-pr", "istio-system-pr"]}]
    scope = dict((c["name"], c) for c in check_discovery(east, registries, services))["discovery scope mesh-pr"]
    assert (scope["status"], scope["evidence"]["foreign"]) == ("pass", []), scope
    # Another mesh's namespace is still foreign.
    registries[0]["namespaces"].append("app-solo")
    scope = dict((c["name"], c) for c in check_discovery(east, registries, services))["discovery scope mesh-pr"]
    assert (scope["status"], scope["reason"]) == ("fail", "istiod of mesh-pr discovers app-solo (mesh solo)")
