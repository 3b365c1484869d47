"""istioctl_proxy_status against a fake istioctl replaying the seed's tables and the JSON istioctl prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from module_runner import fixture, run_module

from ansible_collections.multimesh.istio.plugins.modules.istioctl_proxy_status import main
from ansible_collections.multimesh.istio.plugins.module_utils import proxy_status


def read(name):
    with open(fixture(name)) as handle:
        return handle.read()


def test_seed_table_every_proxy_served_by_its_own_istiod():
    proxies = proxy_status.parse_table(read("ps-usergroup-2-1.17.txt"))
    assert [(p["pod"], p["namespace"], p["revision"]) for p in proxies] == [
        ("httpbin-9dbd644c7-vvcqj", "app-ns-3", "usergroup-2"), ("httpbin-9dbd644c7-xzgfm", "app-ns-2", "usergroup-2"),
        ("sleep-78ff5975c6-fthmt", "app-ns-2", "usergroup-2"), ("sleep-78ff5975c6-nxtth", "app-ns-3", "usergroup-2")]
    first = proxies[0]
    assert first["istiod"] == "istiod-usergroup-2-658d6458f7-slpd9"
    assert first["states"] == {"CDS": "SYNCED", "LDS": "SYNCED", "EDS": "SYNCED", "RDS": "SYNCED", "ECDS": "NOT_SENT"}
    assert first["subscribed"] == ["CDS", "LDS", "EDS", "RDS", "ECDS"]
    assert first["synced"] is True and first["cluster"] == "Kubernetes"
    assert first["version"] == "1.17-alpha.f5212a6f7df61fd8156f3585154bed2f003c4117"


def test_verbose_table_reports_stale_proxies():
    proxies = proxy_status.parse_table(read("ps-usergroup-2-verbose.txt"))
    assert [p["synced"] for p in proxies] == [True, False]
    assert proxies[0]["states"]["CDS"] == "SYNCED" and proxies[1]["states"]["CDS"] == "STALE"
    assert proxies[1]["states"]["RDS"] == "IGNORED" and "RDS" not in proxies[1]["subscribed"]
    assert proxy_status.summary(proxies) == {"total": 2, "synced": 1, "not_synced": ["sleep-78ff5975c6-nxtth.app-ns-3"],
                                             "unknown": []}


def test_subscribed_types_table_has_no_states_so_sync_is_unknown():
    proxies = proxy_status.parse_table(read("ps-usergroup-2-subscribed.txt"))
    assert [p["subscribed"] for p in proxies] == [["CDS", "LDS", "EDS", "RDS"], []]
    assert [p["synced"] for p in proxies] == [None, None]
    assert proxy_status.summary(proxies)["unknown"] == [p["name"] for p in proxies]


def test_json_with_one_document_per_istiod():
    proxies = proxy_status.parse_json(read("ps-usergroup-2.json"))
    assert [(p["name"], p["istiod"], p["revision"], p["synced"]) for p in proxies] == [
        ("httpbin-9dbd644c7-vvcqj.app-ns-3", "istiod-usergroup-2-658d6458f7-slpd9", "usergroup-2", True),
        ("httpbin-9dbd644c7-xzgfm.app-ns-2", "istiod-usergroup-2-658d6458f7-x2k9q", "usergroup-2", True),
        ("sleep-78ff5975c6-nxtth.app-ns-3", "istiod-usergroup-2-658d6458f7-slpd9", "usergroup-2", False)]
    assert proxies[0]["states"]["ECDS"] == "NOT_SENT" and proxies[0]["version"] == "1.30.3"


def test_revision_of_istiod_pod_names():
    assert proxy_status.revision_of_istiod("istiod-usergroup-1-5ccc849b5f-wnqd6") == "usergroup-1"
    assert proxy_status.revision_of_istiod("istiod-5ccc849b5f-wnqd6") == "default"
    assert proxy_status.revision_of_istiod("istiod1") is None


def test_empty_outputs_mean_no_proxies():
    assert proxy_status.parse_json("") == []
    assert proxy_status.parse_table("NAME     CLUSTER     ISTIOD     VERSION     SUBSCRIBED TYPES\n") == []


def test_garbage_is_refused():
    for parse, text in ((proxy_status.parse_json, "{not json"), (proxy_status.parse_json, "[1, 2]"),
                        (proxy_status.parse_table, "Error: something went wrong\n"),
                        (proxy_status.parse_table, read("ps-usergroup-2-1.17.txt").replace("NOT SENT", "NOT  SENT"))):
        try:
            parse(text)
        except proxy_status.ProxyStatusError as exc:
            assert "proxy-status" in str(exc)
        else:
            raise AssertionError("accepted: " + text[:40])


def test_module_uses_json_on_new_istioctl_and_filters(istioctl):
    istioctl.rules([{"argv": ["proxy-status"], "stdout_file": fixture("ps-usergroup-2.json")}])
    result, failed = run_module(main, {"istioctl_path": istioctl.path, "istio_namespace": "usergroup-2",
                                       "revision": "usergroup-2", "namespace": "app-ns-3", "kubeconfig": "/kc",
                                       "context": "c1"})
    assert not failed, result
    expected = ["proxy-status", "-i", "usergroup-2", "-o", "json", "--revision", "usergroup-2", "--kubeconfig", "/kc",
                "--context", "c1"]
    assert istioctl.commands("proxy-status") == [expected]
    assert result["format"] == "json" and result["changed"] is False
    assert [p["namespace"] for p in result["proxies"]] == ["app-ns-3", "app-ns-3"]
    assert result["summary"]["not_synced"] == ["sleep-78ff5975c6-nxtth.app-ns-3"]


def test_module_parses_the_table_on_istioctl_without_json(istioctl):
    istioctl.rules([{"argv": ["proxy-status"], "stdout_file": fixture("ps-usergroup-1-1.17.txt")}], version="version-1.20.json")
    result, failed = run_module(main, {"istioctl_path": istioctl.path, "istio_namespace": "usergroup-1"})
    assert not failed, result
    assert istioctl.commands("proxy-status") == [["proxy-status", "-i", "usergroup-1", "-o", "table"]]
    assert result["format"] == "table" and result["istioctl_version"] == "1.20.3"
    assert result["summary"] == {"total": 2, "synced": 2, "not_synced": [], "unknown": []}


def test_module_asks_for_states_when_the_table_hides_them(istioctl):
    istioctl.rules([{"argv": ["proxy-status"], "stdout_file": fixture("ps-usergroup-2-verbose.txt")}])
    result, failed = run_module(main, {"istioctl_path": istioctl.path, "istio_namespace": "usergroup-2", "output": "table"})
    assert not failed, result
    assert istioctl.commands("proxy-status")[0][-2:] == ["--verbosity", "1"]
    assert result["summary"]["synced"] == 1


def test_json_refused_on_old_istioctl(istioctl):
    istioctl.rules([], version="version-1.20.json")
    result, failed = run_module(main, {"istioctl_path": istioctl.path, "output": "json"})
    assert failed and "has no JSON proxy-status" in result["msg"]
    assert istioctl.commands("proxy-status") == []


def test_unparseable_output_fails_with_the_output(istioctl):
    istioctl.rules([{"argv": ["proxy-status"], "stdout": "<html>proxy error</html>"}])
    result, failed = run_module(main, {"istioctl_path": istioctl.path})
    assert failed and result["msg"].startswith("istioctl proxy-status: proxy-status JSON cannot be parsed")
    assert result["stdout"] == "<html>proxy error</html>"


def test_failure_carries_rc_stdout_stderr_and_command(istioctl):
    istioctl.rules([{"argv": ["proxy-status"], "rc": 1, "stderr": "Error: no running Istio pods in \"usergroup-9\"\n"}])
    result, failed = run_module(main, {"istioctl_path": istioctl.path, "istio_namespace": "usergroup-9"})
    assert failed
    assert result["msg"] == 'istioctl proxy-status failed (rc=1): Error: no running Istio pods in "usergroup-9"'
    assert result["rc"] == 1 and result["stderr"].startswith("Error:") and "proxy-status -i usergroup-9" in result["cmd"]
