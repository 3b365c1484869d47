# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Apply many objects with one kubernetes.core.k8s run and show each object's diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.module_utils.k8s_apply import (
    AUTH_OPTIONS,
    object_diffs,
    per_object_results,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import FIELD_MANAGER

OPTIONS = ("definition", "state", "field_manager", "force_conflicts") + AUTH_OPTIONS


class ActionModule(ActionBase):
    """kubernetes.core.k8s accepts a list of objects but nests their diffs where callbacks do not look."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = copy.deepcopy(dict(self._task.args))
        unsupported = sorted(set(args) - set(OPTIONS))
        objects = args.pop("definition", None)
        if unsupported or not isinstance(objects, list):
            result.update(failed=True, msg="Unsupported parameters: {0}".format(", ".join(unsupported)) if unsupported
                          else "definition must be a list of objects")
            return result
        if not objects:
            result.update(changed=False, objects=[], msg="nothing to apply")
            return result
        state = args.pop("state", "present")
        field_manager = args.pop("field_manager", FIELD_MANAGER)
        force_conflicts = args.pop("force_conflicts", False)
        module_args = dict(args, definition=objects, state=state, wait=False)
        if state == "present":
            module_args.update(apply=True, server_side_apply={"field_manager": field_manager,
                                                              "force_conflicts": force_conflicts})
        k8s = self._execute_module(module_name="kubernetes.core.k8s", module_args=module_args, task_vars=task_vars)
        if k8s.get("failed"):
            result.update(k8s)
            return result
        results = per_object_results(k8s)
        result.update(changed=bool(k8s.get("changed")), objects=[
            {"kind": r["kind"], "name": r["name"], "namespace": r["namespace"], "changed": r["changed"]} for r in results])
        if self._task.diff or self._play_context.diff:
            result["diff"] = object_diffs(results)
        result["msg"] = "{0} of {1} object(s) {2}".format(
            sum(1 for r in results if r["changed"]), len(results),
            "would change" if self._task.check_mode else "changed")
        return result
