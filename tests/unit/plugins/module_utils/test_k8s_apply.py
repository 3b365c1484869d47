"""Per-object results and diffs from one kubernetes.core.k8s run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.module_utils.k8s_apply import object_diffs, per_object_results

NS_BEFORE = {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "app-ns-1", "labels": {"istio-discovery": "mesh-1"}, "resourceVersion": "7",
                          "managedFields": [{"manager": "multimesh-istio"}], "uid": "u"},
             "status": {"phase": "Active"}}
NS_AFTER = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "app-ns-1", "labels": {"istio-discovery": "mesh-2"}, "resourceVersion": "8"}}
PA = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "ns"}}


def test_many_objects_are_read_from_the_nested_results():
    k8s = {"changed": True, "result": {"results": [
        {"changed": True, "result": NS_AFTER, "diff": {"before": NS_BEFORE, "after": NS_AFTER}},
        {"changed": False, "result": PA}]}}
    results = per_object_results(k8s)
    assert [(r["kind"], r["name"], r["namespace"], r["changed"]) for r in results] == [
        ("Namespace", "app-ns-1", None, True), ("PeerAuthentication", "default", "ns", False)]


def test_one_object_result_is_flat():
    results = per_object_results({"changed": False, "result": PA, "method": "apply"})
    assert [(r["kind"], r["changed"]) for r in results] == [("PeerAuthentication", False)]


def test_diffs_drop_server_fields_and_unchanged_objects():
    results = [{"kind": "Namespace", "name": "app-ns-1", "namespace": None, "changed": True,
                "diff": {"before": NS_BEFORE, "after": NS_AFTER}},
               {"kind": "PeerAuthentication", "name": "default", "namespace": "ns", "changed": False,
                "diff": {"before": PA, "after": PA}}]
    diffs = object_diffs(results)
    assert len(diffs) == 1
    assert diffs[0]["before_header"] == diffs[0]["after_header"] == "Namespace app-ns-1"
    assert "istio-discovery: mesh-1" in diffs[0]["before"] and "istio-discovery: mesh-2" in diffs[0]["after"]
    for text in (diffs[0]["before"], diffs[0]["after"]):
        assert "resourceVersion" not in text and "managedFields" not in text and "phase" not in text


def test_created_object_diffs_from_nothing():
    diffs = object_diffs([{"kind": "Namespace", "name": "n", "namespace": None, "changed": True,
                           "diff": {"before": {}, "after": NS_AFTER}}])
    assert diffs[0]["before"] == "" and "name: app-ns-1" in diffs[0]["after"]
    assert "ns/default" in object_diffs([{"kind": "PeerAuthentication", "name": "default", "namespace": "ns", "changed": True,
                                          "diff": {"before": {}, "after": PA}}])[0]["after_header"]
