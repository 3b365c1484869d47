"""The upstream CRDs the tests validate and install, found by CRD name wherever they are.

In order, the first tree that holds a CRD wins: MULTIMESH_UPSTREAM_DIR (any layout - a copy of ../shared/upstream,
`helm pull --untar` of the sail-operator chart, ...), the project's ../shared/upstream beside this clone,
build/upstream (what scripts/fetch-upstream.sh downloads), and, for Istio's own CRDs, the istio.io/istio module the
test harness already downloaded (manifests/charts/base/files/crd-all.gen.yaml). With a required CRD in none of them
the tests stop at once, saying how to provide it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What the tests use: the Sail resources, and the Istio kinds the roles render or the harness installs.
REQUIRED = ("istios.sailoperator.io", "istiocnis.sailoperator.io", "istiorevisions.sailoperator.io",
            "istiorevisiontags.sailoperator.io", "peerauthentications.security.istio.io", "sidecars.networking.istio.io",
            "gateways.networking.istio.io", "virtualservices.networking.istio.io")


class UpstreamMissing(RuntimeError):
    pass


def sources():
    """(label, directory) of every place looked at, in order."""
    found = []
    if os.environ.get("MULTIMESH_UPSTREAM_DIR"):
        found.append(("MULTIMESH_UPSTREAM_DIR", os.environ["MULTIMESH_UPSTREAM_DIR"]))
    found.append(("../shared/upstream", os.path.join(os.path.dirname(REPO), "shared", "upstream")))
    found.append(("build/upstream (scripts/fetch-upstream.sh)", os.path.join(REPO, "build", "upstream")))
    cache = os.environ.get("MULTIMESH_HARNESS_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "multimesh-harness"))
    for module in sorted(glob.glob(os.path.join(cache, "gomod", "istio.io", "istio@*")), reverse=True):
        found.append(("the harness's " + os.path.basename(module), os.path.join(module, "manifests", "charts", "base", "files")))
    return found


def _documents(directory):
    paths = sorted(os.path.join(d, f) for d, dummy, names in os.walk(directory) for f in names if f.endswith((".yaml", ".yml")))
    for path in paths:
        with open(path) as handle:
            try:
                for doc in yaml.safe_load_all(handle):
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        yield path, doc
            except yaml.YAMLError:
                continue  # a Helm template or another non-YAML file in the tree


def crds(required=REQUIRED):
    """{CRD name: (document, path)} of every CRD found, the first source winning; UpstreamMissing when a required one
    is nowhere."""
    found = {}
    for dummy, directory in sources():
        if not os.path.isdir(directory):
            continue
        for path, doc in _documents(directory):
            found.setdefault(doc["metadata"]["name"], (doc, path))
    missing = [name for name in required if name not in found]
    if missing:
        raise UpstreamMissing(
            "upstream CRDs not found: {0}. Looked in: {1}. Fix: set MULTIMESH_UPSTREAM_DIR to a tree that holds them "
            "(a copy of the project's shared/upstream, or `helm pull sail-operator --untar`), or run "
            "scripts/fetch-upstream.sh where the network reaches GitHub.".format(
                ", ".join(missing), "; ".join("{0} ({1})".format(label, d) for label, d in sources())))
    return found


def write_crds(path, required=REQUIRED):
    """The required CRDs as one multi-document file (for kubernetes.core.k8s src); returns path."""
    found = crds(required)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        yaml.safe_dump_all([found[name][0] for name in required], handle, default_flow_style=False)
    return path


if __name__ == "__main__":
    # scripts/test.sh runs this first: without the CRDs the tests stop here, not after the harness build.
    import sys

    try:
        FOUND = crds()
    except UpstreamMissing as exc:
        sys.exit("upstream data: {0}".format(exc))
    print("upstream data: {0} CRDs; required ones from {1}".format(
        len(FOUND), ", ".join(sorted(set(os.path.dirname(FOUND[name][1]) for name in REQUIRED)))))
