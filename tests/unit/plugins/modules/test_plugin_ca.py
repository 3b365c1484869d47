"""plugin_ca keeps material in ca_dir: created once with private modes, reused after, check mode writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from module_runner import run_module

from ansible_collections.multimesh.istio.plugins.modules.plugin_ca import main


def args(ca_dir, **extra):
    return dict(dict(name="cluster-1", namespace="istio-system", ca_dir=str(ca_dir), install_secret=False, key_size=2048), **extra)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_check_mode_writes_nothing(tmp_path):
    result, failed = run_module(main, args(tmp_path / "ca"), check_mode=True)
    assert not failed and result["changed"] is True
    assert result["changes"] == ["create root CA in " + str(tmp_path / "ca")]
    assert not (tmp_path / "ca").exists()


def test_created_once_then_reused(tmp_path):
    first, failed = run_module(main, args(tmp_path / "ca"))
    assert not failed, first
    assert first["changes"] == ["create root CA in " + str(tmp_path / "ca"), "issue intermediate CA for cluster-1"]
    assert mode(tmp_path / "ca") == 0o700 and mode(tmp_path / "ca" / "root-key.pem") == 0o600
    assert mode(first["files"]["ca-key.pem"]) == 0o600
    before = {name: open(path, "rb").read() for name, path in first["files"].items()}
    second, failed = run_module(main, args(tmp_path / "ca"))
    assert not failed and second["changed"] is False and second["changes"] == []
    assert {name: open(path, "rb").read() for name, path in second["files"].items()} == before
    assert second["root_fingerprint"] == first["root_fingerprint"]
    other, failed = run_module(main, args(tmp_path / "ca", name="cluster-2"))
    assert not failed and other["changes"] == ["issue intermediate CA for cluster-2"]
    assert other["root_fingerprint"] == first["root_fingerprint"], "clusters of one ca_dir share the root"


def test_half_a_root_is_refused(tmp_path):
    run_module(main, args(tmp_path / "ca"))
    os.remove(str(tmp_path / "ca" / "root-key.pem"))
    result, failed = run_module(main, args(tmp_path / "ca", name="cluster-3"))
    assert failed and result["msg"].startswith("ca_dir: {0} holds only half of the root CA".format(tmp_path / "ca"))
    assert not (tmp_path / "ca" / "cluster-3" / "ca-cert.pem").exists()


def test_intermediate_from_another_root_is_refused(tmp_path):
    run_module(main, args(tmp_path / "a"))
    run_module(main, args(tmp_path / "b"))
    os.rename(str(tmp_path / "b" / "cluster-1"), str(tmp_path / "a" / "cluster-9"))
    result, failed = run_module(main, args(tmp_path / "a", name="cluster-9"))
    assert failed and "was issued by another root" in result["msg"]
