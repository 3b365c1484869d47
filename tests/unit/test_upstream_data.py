"""The upstream CRDs are found by name in any tree, the first source winning, and their absence stops the tests
with the ways to provide them (issue 16 item 1)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

import upstream_data


def crd(name):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name}}


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No ../shared/upstream, no build/upstream, no harness module: only MULTIMESH_UPSTREAM_DIR counts."""
    monkeypatch.setattr(upstream_data, "REPO", str(tmp_path / "clone" / "repo"))
    monkeypatch.setenv("MULTIMESH_HARNESS_CACHE", str(tmp_path / "no-cache"))
    monkeypatch.delenv("MULTIMESH_UPSTREAM_DIR", raising=False)  # CI sets it for the other tests
    return tmp_path


def test_crds_are_found_by_name_in_any_layout(nowhere, monkeypatch):
    tree = nowhere / "helm" / "sail-operator" / "crds"
    tree.mkdir(parents=True)
    (tree / "a.yaml").write_text(yaml.safe_dump_all([crd("istios.sailoperator.io"), crd("istiocnis.sailoperator.io")]))
    (tree / "templates.yaml").write_text("{{ if .Values.x }}: [\n")  # a Helm template is skipped, not an error
    (nowhere / "helm" / "b.yml").write_text(yaml.safe_dump(crd("sidecars.networking.istio.io")))
    monkeypatch.setenv("MULTIMESH_UPSTREAM_DIR", str(nowhere / "helm"))
    found = upstream_data.crds(required=("istios.sailoperator.io", "sidecars.networking.istio.io"))
    assert sorted(found) == ["istiocnis.sailoperator.io", "istios.sailoperator.io", "sidecars.networking.istio.io"]
    assert found["istios.sailoperator.io"][1] == str(tree / "a.yaml")
    written = upstream_data.write_crds(str(nowhere / "out" / "crds.yaml"), required=("sidecars.networking.istio.io",))
    with open(written) as handle:
        assert [d["metadata"]["name"] for d in yaml.safe_load_all(handle)] == ["sidecars.networking.istio.io"]


def test_the_first_source_wins_and_build_upstream_is_one(nowhere, monkeypatch):
    fetched = nowhere / "clone" / "repo" / "build" / "upstream"
    fetched.mkdir(parents=True)
    (fetched / "x.yaml").write_text(yaml.safe_dump(crd("istios.sailoperator.io")))
    given = nowhere / "given"
    given.mkdir()
    (given / "y.yaml").write_text(yaml.safe_dump(crd("istios.sailoperator.io")))
    assert upstream_data.crds(required=("istios.sailoperator.io",))["istios.sailoperator.io"][1] == str(fetched / "x.yaml")
    monkeypatch.setenv("MULTIMESH_UPSTREAM_DIR", str(given))
    assert upstream_data.crds(required=("istios.sailoperator.io",))["istios.sailoperator.io"][1] == str(given / "y.yaml")


def test_missing_crds_name_themselves_and_the_ways_to_provide_them(nowhere):
    with pytest.raises(upstream_data.UpstreamMissing) as caught:
        upstream_data.crds()
    message = str(caught.value)
    assert message.startswith("upstream CRDs not found: istios.sailoperator.io, istiocnis.sailoperator.io")
    assert "MULTIMESH_UPSTREAM_DIR" in message and "scripts/fetch-upstream.sh" in message
