"""The one definition of Kubernetes' name rules, of how messages name an object, and of this inventory's marks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multimesh.istio.plugins.module_utils.names import is_dns1123_label, is_label_value, label, object_label
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import carries_marks, marks_text, ours, ownership_labels


@pytest.mark.parametrize("value, valid", [("istio-system", True), ("a" * 63, True), ("a" * 64, False), ("-a", False),
                                          ("A", False), ("a.b", False), ("a\n", False), ("", False), (None, False)])
def test_dns1123_label(value, valid):
    assert is_dns1123_label(value) is valid


@pytest.mark.parametrize("value, valid", [("team_a.b-1", True), ("A" * 63, True), ("A" * 64, False), ("_a", False),
                                          ("a/b", False), ("a\n", False), ("", False), (1, False)])
def test_label_value(value, valid):
    assert is_label_value(value) is valid


def test_objects_are_named_kind_namespace_name():
    assert object_label("Secret", "istio-system", "cacerts") == "Secret istio-system/cacerts"
    assert object_label("Namespace", None, "app-ns-1") == "Namespace app-ns-1"
    assert label({"kind": "Service", "metadata": {"name": "httpbin", "namespace": "app"}}) == "Service app/httpbin"
    assert label({"metadata": {}}) == "? ?"


def test_marks_are_the_collections_and_given_an_owner_the_inventorys():
    assert ownership_labels() == {"app.kubernetes.io/managed-by": "multimesh.istio"}
    mine = ownership_labels("team-a")
    assert marks_text("team-a") == "app.kubernetes.io/managed-by=multimesh.istio multimesh.istio/owner=team-a"
    assert carries_marks(dict(mine, other="x"), "team-a") and carries_marks(mine) and not carries_marks(mine, "team-b")
    assert not carries_marks({"multimesh.istio/owner": "team-a"}, "team-a") and not carries_marks(None)
    assert ours({"metadata": {"labels": mine}}, "team-a") and not ours({}, "team-a")
