"""Fixtures for module unit tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from module_runner import FakeIstioctl


@pytest.fixture
def istioctl(tmp_path, monkeypatch):
    fake = FakeIstioctl(tmp_path)
    monkeypatch.setenv("FAKE_ISTIOCTL_DIR", fake.dir)
    return fake
