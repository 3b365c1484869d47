"""tests/data/upstream is an exact copy of the project's shared/upstream."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import filecmp
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENDORED = os.path.join(ROOT, "tests", "data", "upstream")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "upstream")


def files_under(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, dummy, names in os.walk(top) for f in names)


def test_vendored_copy_has_the_crds():
    names = files_under(VENDORED)
    for needed in ("istio/crds/crd-all.gen.yaml", "sail/crds/sailoperator.io_istios.yaml",
                   "sail/crds/sailoperator.io_istiocnis.yaml", "PROVENANCE.md", "istio/LICENSE", "sail/LICENSE"):
        assert needed in names


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="no shared/upstream beside this clone (hosted CI)")
def test_vendored_copy_matches_shared_upstream():
    assert files_under(VENDORED) == files_under(SHARED)
    match, mismatch, errors = filecmp.cmpfiles(SHARED, VENDORED, files_under(SHARED), shallow=False)
    assert (mismatch, errors) == ([], [])
