"""Render files: stable grouping, stable bytes, istioctl inputs kept apart."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import (
    manifest_files,
    split_objects,
    to_yaml_documents,
)

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app-ns-1", "labels": {"b": "2", "a": "1"}}}
IOP = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "mesh-1"}}
PA = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default"}}


def test_groups_into_one_file_per_group_in_first_seen_order():
    items = [{"group": "mesh-1", "object": NS}, {"group": "mesh-2", "object": PA}, {"group": "mesh-1", "object": PA}]
    files = manifest_files(items, "20-control-plane")
    assert [(f["path"], f["count"]) for f in files] == [("20-control-plane-mesh-1.yaml", 2), ("20-control-plane-mesh-2.yaml", 1)]
    assert list(yaml.safe_load_all(files[0]["content"])) == [NS, PA]


def test_istioctl_inputs_go_to_their_own_directory():
    items = [{"group": "mesh-1", "object": NS}, {"group": "mesh-1", "object": IOP}]
    assert [f["path"] for f in manifest_files(items, "20-control-plane")] == [
        "20-control-plane-mesh-1.yaml", "istioctl/20-control-plane-mesh-1.yaml"]
    assert split_objects(items) == ([NS], [IOP])


def test_output_is_byte_stable_and_sorted():
    first = to_yaml_documents([NS])
    assert first == to_yaml_documents([dict(reversed(list(NS.items())))])
    assert first.startswith("---\napiVersion: v1\nkind: Namespace\n")
    assert first.index("a: '1'") < first.index("b: '2'")


@pytest.mark.parametrize("item", [{"object": NS}, {"group": "g", "object": {"kind": "Namespace"}}, "text"])
def test_malformed_items_are_rejected(item):
    with pytest.raises(ValueError):
        manifest_files([item], "stage")


def test_removal_plan_deletes_in_reverse_and_keeps_unowned_namespaces():
    from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import removal_plan

    istio = {"apiVersion": "sailoperator.io/v1", "kind": "Istio", "metadata": {"name": "mesh-1", "labels": {"a": "b"}},
             "spec": {"namespace": "x"}}
    pa = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
          "metadata": {"name": "default", "namespace": "istio-system-1"}}
    owned = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"a": "b"}}}
    items = [{"group": "g", "object": o} for o in (NS, pa, istio, owned, IOP)]
    plan = removal_plan(items, ["shop"])
    assert [(o["kind"], o["metadata"]) for o in plan["delete"]] == [
        ("Istio", {"name": "mesh-1"}), ("PeerAuthentication", {"name": "default", "namespace": "istio-system-1"}),
        ("Namespace", {"name": "shop"})]
    assert plan["strip"] == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app-ns-1"}}]
