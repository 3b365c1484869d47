"""Helpers for module unit tests: run a module in-process; a fake istioctl that records argv and replays real outputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

from ansible.module_utils.testing import patch_module_args

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "istioctl")
FAKE = os.path.join(os.path.dirname(__file__), "fake_istioctl.py")


def fixture(name):
    return os.path.abspath(os.path.join(FIXTURES, name))


class FakeIstioctl(object):
    def __init__(self, directory):
        self.dir = str(directory)
        self.path = os.path.join(self.dir, "istioctl")
        with open(FAKE) as source, open(self.path, "w") as target:
            target.write("#!" + sys.executable + "\n" + source.read())
        os.chmod(self.path, 0o755)
        self.rules([])

    def rules(self, rules, version="version-1.30.json"):
        """Answers for the next calls; `istioctl version` replays the given fixture unless a rule says otherwise."""
        rules = list(rules) + [{"argv": ["version"], "stdout_file": fixture(version)}]
        with open(os.path.join(self.dir, "rules.json"), "w") as handle:
            json.dump(rules, handle)

    def calls(self):
        path = os.path.join(self.dir, "calls.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle]

    def inputs(self, name):
        """[(argv, {path: content of the -f file})] of the calls of one subcommand."""
        with open(os.path.join(self.dir, "inputs.jsonl")) as handle:
            files = [json.loads(line) for line in handle]
        return [(call, content) for call, content in zip(self.calls(), files) if call[0] == name]

    def commands(self, name):
        return [call for call in self.calls() if call[0] == name]


class Exited(Exception):
    pass


def run_module(main, args, check_mode=False, diff=False):
    """(result, failed): exit_json/fail_json output of one module run."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    captured = {}

    def finish(module, failed):
        def _exit(**kwargs):
            captured.update(kwargs)
            captured["__failed"] = failed
            module.do_cleanup_files()
            raise Exited()
        return _exit

    from ansible.module_utils import basic

    original_init = basic.AnsibleModule.__init__

    def init(self, *a, **kw):
        original_init(self, *a, **kw)
        self.exit_json = finish(self, False)
        self.fail_json = finish(self, True)

    with patch_module_args(args), pytest.MonkeyPatch.context() as patch:
        patch.setattr(basic.AnsibleModule, "__init__", init)
        try:
            main()
        except Exited:
            pass
    failed = captured.pop("__failed", None)
    assert failed is not None, "the module neither exited nor failed"
    return captured, failed
