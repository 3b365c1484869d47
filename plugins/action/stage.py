# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Render, apply or remove one stage's objects from the controller (see plugins/modules/stage.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.module_utils.action_args import stage_argspec
from ansible_collections.multimesh.istio.plugins.plugin_utils import stage
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import auth_options
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import ClusterError
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import field_manager


class ActionModule(ActionBase):
    """Talks to the API server from the controller; runs istioctl_install on the host for IstioOperator inputs."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=stage_argspec())
        diff = bool(self._task.diff or self._play_context.diff)
        try:
            if args["render_dir"]:
                out = stage.render(args, self._task.check_mode)
            else:
                manager = args["field_manager"] or field_manager(args["owner"])
                cluster = connect(auth_options(args), manager, args["force_conflicts"])
                out = stage.converge(args, cluster, self._task.check_mode, self._istioctl(args, task_vars))
        except (ClusterError, stage.StageError) as exc:
            raise AnsibleActionFail("stage {0}: {1}".format(args["stage"], to_native(exc)))
        if out.pop("failed", False):
            result["failed"] = True
        diffs = out.pop("diffs", [])
        if diff and diffs:
            result["diff"] = diffs
        result.update(out)
        return result

    def _istioctl(self, args, task_vars):
        """istioctl_install(params) -> result: runs the module on the host with this task's access options."""
        passed = dict(auth_options(args))
        for key in ("istioctl_path", "istioctl_timeout"):
            if args[key] is not None:
                passed[key] = args[key]

        def run(params):
            return self._execute_module(module_name="multimesh.istio.istioctl_install",
                                        module_args=dict(passed, **params), task_vars=task_vars)
        return run
