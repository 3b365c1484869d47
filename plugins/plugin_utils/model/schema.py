# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The inventory's schema, read from roles/model/meta/argument_specs.yml (entry point 'inventory'), and the checks
of type, unknown keys and choices that every part of the model uses.

The allowed keys, choices and defaults at every nesting level come from that file, so the documentation (README's
tables are generated from it) and the validation cannot drift. Their order is the spec's, and it is the order error
messages list them in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import os

# The one description of the inventory variables (entry point 'inventory' of the model role).
SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "model", "meta",
                         "argument_specs.yml")


def inventory_spec(path=SPEC_PATH):
    """The options of the model role's 'inventory' entry point: every multimesh_* variable, documented."""
    import yaml  # controller only

    with open(path) as handle:
        return yaml.safe_load(handle)["argument_specs"]["inventory"]["options"]


_SPEC = inventory_spec()


def option(*path):
    """The spec of one option: option("multimesh_meshes", "ingress_gateway", "ports") is a mesh's gateway ports."""
    spec = _SPEC[path[0]]
    for name in path[1:]:
        spec = spec["options"][name]
    return spec


def keys(*path):
    """The keys a mapping option allows, in the spec's order."""
    return tuple(option(*path)["options"])


def choices(*path):
    return tuple(option(*path)["choices"])


def default(*path):
    """An option's default (a copy: callers fill it in), None when the spec gives none."""
    return copy.deepcopy(option(*path).get("default"))


def defaults(*path):
    """{key: default} of a mapping option, in the spec's order; keys without a default are None."""
    return dict((name, default(*(path + (name,)))) for name in keys(*path))


class ModelError(Exception):
    """Raised with every problem found in the inventory, so a user fixes them in one go."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ModelError, self).__init__(
            "Invalid multimesh inventory ({0} problem{1}):\n- {2}".format(
                len(self.errors), "" if len(self.errors) == 1 else "s", "\n- ".join(self.errors)))


class Collector:
    """Collects errors; each names where (mesh and field), what is wrong, and the fix."""

    def __init__(self):
        self.errors = []

    def add(self, where, problem, fix):
        self.errors.append("{0}: {1}. Fix: {2}.".format(where, problem, fix))


def type_name(value):
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def suggest(key, allowed):
    close = difflib.get_close_matches(key, allowed, n=1)
    return "did you mean '{0}'? Allowed keys: {1}".format(close[0], ", ".join(allowed)) if close else \
        "remove it; allowed keys: {0}".format(", ".join(allowed))


def check_type(errs, where, value, expected, fix):
    """True when value has the expected Python type (bool is not an int here)."""
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if not ok:
        errs.add(where, "must be {0}, got {1}".format(type_name(expected()), type_name(value)), fix)
    return ok


def check_unknown_keys(errs, where, data, allowed):
    for key in sorted(set(data) - set(allowed), key=str):
        errs.add("{0}.{1}".format(where, key), "unknown key", suggest(str(key), allowed))


def expand_mapping(errs, where, raw, path, example):
    """(the spec's defaults of the mapping option at path, raw): raw is None when unset or not a mapping (reported);
    its unknown keys are reported."""
    filled = defaults(*path)
    if raw is None or not check_type(errs, where, raw, dict, "give a mapping such as " + example):
        return filled, None
    check_unknown_keys(errs, where, raw, tuple(filled))
    return filled, raw
