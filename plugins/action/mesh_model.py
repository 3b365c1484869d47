# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Validate the multimesh inventory on the controller and publish the expanded model as a fact."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import (
    ModelError,
    build_model,
    unknown_variables,
)

ARGS = ("backend", "istio_version", "cni", "meshes", "samples", "render_dir", "kubeconfig", "context",
        "istioctl_path", "sail_operator", "default_mesh", "fact_name")


class ActionModule(ActionBase):
    """Runs entirely on the controller: it reads variables and talks to no cluster."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        unsupported = sorted(set(args) - set(ARGS))
        if unsupported:
            result.update(failed=True, msg="Unsupported parameters: {0}. Supported: {1}".format(
                ", ".join(unsupported), ", ".join(ARGS)))
            return result
        fact_name = args.pop("fact_name", "multimesh_model")
        if isinstance(args.get("render_dir"), str) and args["render_dir"]:
            # Relative to where ansible-playbook was started, as a user typing -e expects.
            args["render_dir"] = os.path.abspath(os.path.expanduser(args["render_dir"]))
        errors = unknown_variables(task_vars or {})
        try:
            model = build_model(**args)
        except ModelError as exc:
            errors.extend(exc.errors)
        if errors:
            result.update(failed=True, errors=errors, msg=str(ModelError(errors)))
            return result
        summary = ", ".join("{0} (ns {1}, rev {2}, {3} member{4})".format(
            m["name"], m["namespace"], m["revision"], len(m["members"]), "" if len(m["members"]) == 1 else "s")
            for m in model["meshes"])
        result.update(changed=False, ansible_facts={fact_name: model},
                      msg="{0} mesh(es) valid, backend {1}: {2}".format(len(model["meshes"]), model["backend"], summary))
        return result
