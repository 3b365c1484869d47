"""The filter plugin wraps plugin_utils.manifests and turns bad input into AnsibleFilterError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.multimesh.istio.plugins.filter.manifests import FilterModule

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
IOP = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "m"}}
ITEMS = [{"group": "mesh-1", "object": NS}, {"group": "mesh-1", "object": IOP}]


@pytest.fixture
def filters():
    return FilterModule().filters()


def test_exposes_the_filters(filters):
    assert sorted(filters) == ["istioctl_inputs", "kube_objects", "manifest_files", "removal_plan"]


def test_filters_split_and_group(filters):
    assert filters["kube_objects"](ITEMS) == [NS]
    assert filters["istioctl_inputs"](ITEMS) == [IOP]
    assert [f["path"] for f in filters["manifest_files"](ITEMS, "20-cp")] == ["20-cp-mesh-1.yaml", "istioctl/20-cp-mesh-1.yaml"]


def test_bad_items_raise_a_filter_error(filters):
    with pytest.raises(AnsibleFilterError, match="manifest_files: each item must be a mapping"):
        filters["manifest_files"](["oops"], "20-cp")
