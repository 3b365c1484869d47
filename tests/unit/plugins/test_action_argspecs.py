"""The modules implemented as action plugins: each one's argument spec (plugins/module_utils/action_args.py) is the
options its DOCUMENTATION describes, doc fragments included, and its action plugin refuses what the spec does not
allow. ansible-test's validate-modules cannot compare them: the module files hold documentation only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import PASSWORD_MATCH
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.multimesh.istio.plugins.module_utils.action_args import ARGSPECS

COLLECTION = "ansible_collections.multimesh.istio"
# What an option means when its documentation or its spec leaves a key out.
IMPLIED = {"type": "str", "elements": None, "required": False, "default": None, "choices": None, "aliases": []}


class FragmentLoader(object):
    """The doc fragment plugins, imported as modules: add_fragments only needs get(name)."""

    def get(self, name):
        namespace, collection, fragment = name.split(".")
        try:
            found = importlib.import_module("ansible_collections.{0}.{1}.plugins.doc_fragments.{2}".format(
                namespace, collection, fragment))
        except ImportError:
            return None
        return SimpleNamespace(ansible_name=name, **vars(found.ModuleDocFragment))


def documented_options(name):
    """The module's options as ansible-doc shows them: DOCUMENTATION with its doc fragments merged in."""
    module = importlib.import_module("{0}.plugins.modules.{1}".format(COLLECTION, name))
    doc = yaml.safe_load(module.DOCUMENTATION)
    add_fragments(doc, module.__file__, fragment_loader=FragmentLoader(), is_module=True)
    return doc.get("options") or {}


def differences(documented, spec, where):
    """One line per option or key the documentation and the spec disagree on, suboptions included."""
    lines = ["{0}{1}: documented, not in the argument spec".format(where, n) for n in sorted(set(documented) - set(spec))]
    lines += ["{0}{1}: in the argument spec, not documented".format(where, n) for n in sorted(set(spec) - set(documented))]
    for option in sorted(set(documented) & set(spec)):
        doc, arg = documented[option] or {}, spec[option] or {}
        keys = list(IMPLIED) + (["no_log"] if "no_log" in doc else [])
        for key in keys:
            if _value(doc, key) != _value(arg, key):
                lines.append("{0}{1}.{2}: documented {3!r}, argument spec {4!r}".format(
                    where, option, key, _value(doc, key), _value(arg, key)))
        lines += differences(doc.get("suboptions") or {}, arg.get("options") or {}, "{0}{1}.".format(where, option))
    return lines


def _value(option, key):
    value = option.get(key, IMPLIED.get(key))
    return sorted(value) if key == "aliases" else value


@pytest.mark.parametrize("name", sorted(ARGSPECS))
def test_argument_spec_is_the_documented_options(name):
    assert differences(documented_options(name), ARGSPECS[name](), name + ": ") == []


def test_a_difference_is_found_at_any_depth():
    documented = {"a": {"type": "int", "default": 1}, "b": {"type": "dict", "suboptions": {"c": {"type": "str"}}}}
    spec = {"a": {"type": "int", "default": 2}, "b": {"type": "dict", "options": {"d": {}}}, "e": {}}
    assert differences(documented, spec, "m: ") == [
        "m: e: in the argument spec, not documented", "m: a.default: documented 1, argument spec 2",
        "m: b.c: documented, not in the argument spec", "m: b.d: in the argument spec, not documented"]


@pytest.mark.parametrize("name", sorted(ARGSPECS))
def test_secrets_are_not_logged(name):
    """ansible-core's own rule for module options (basic.PASSWORD_MATCH): such an option says whether it is no_log."""
    spec = ARGSPECS[name]()
    assert [option for option in spec if PASSWORD_MATCH.search(option) and spec[option].get("no_log") is None] == []


def test_each_call_returns_its_own_copy():
    """kubernetes.core's access options are shared: a caller changing its spec changes nobody else's."""
    first = ARGSPECS["stage"]()
    first["kubeconfig"]["type"] = "str"
    assert ARGSPECS["stage"]()["kubeconfig"]["type"] == "raw"


# What each module needs to get past validation; the refused arguments are added to it.
VALID = {
    "stage": {"stage": "20-control-plane", "objects": []},
    "preflight": {"model": {"meshes": []}},
    "verification_report": {"model": {"meshes": []}},
    "mesh_model": {},
}
# An option mistyped, and an option's value of the wrong type, per module.
MISSPELLED = {"stage": "wait_timout", "preflight": "kube_config", "verification_report": "report_dri", "mesh_model": "fact_nmae"}
WRONG_TYPE = {"stage": ("wait_timeout", "soon"), "preflight": ("model", "mesh-1"),
              "verification_report": ("pods", "pod-1"), "mesh_model": ("versions", ["1.30.3"])}


def run_action(name, args):
    """The action's result; AnsibleActionFail becomes failed with its message, as the task executor reports it."""
    module = importlib.import_module("{0}.plugins.action.{1}".format(COLLECTION, name))
    task = MagicMock()
    task.args, task.async_val, task.check_mode, task.module_defaults = dict(VALID[name], **args), 0, False, []
    connection = MagicMock()
    action = module.ActionModule(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._load_name = "multimesh.istio." + name  # as the plugin loader sets it
    try:
        result = action.run(task_vars={"inventory_hostname": "cluster-1"})
    except AnsibleActionFail as exc:
        result = {"failed": True, "msg": exc.message}
    assert not connection.method_calls, "validation comes before any connection"
    return result


@pytest.mark.parametrize("name", sorted(ARGSPECS))
def test_a_misspelled_option_is_refused_by_name(name):
    result = run_action(name, {MISSPELLED[name]: "x"})
    assert result["failed"] is True
    assert result["msg"].startswith("Unsupported parameters for (multimesh.istio.{0}) module: {1}. Supported parameters "
                                    "include: ".format(name, MISSPELLED[name])), result["msg"]


@pytest.mark.parametrize("name", sorted(ARGSPECS))
def test_a_value_of_the_wrong_type_is_refused(name):
    option, value = WRONG_TYPE[name]
    result = run_action(name, {option: value})
    assert result["failed"] is True
    assert "'{0}'".format(option) in result["msg"], result["msg"]
