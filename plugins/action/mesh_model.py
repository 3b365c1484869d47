# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Validate the multimesh inventory on the controller and publish the expanded model as a fact.

The inventory variables are read from the task's variables, as roles/model/meta/argument_specs.yml (entry point
'inventory') describes them: that file is the one description of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.module_utils.action_args import mesh_model_argspec
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import (
    ModelError,
    build_model,
    inventory_spec,
    model_inputs,
    owner_from_inventory,
    unknown_variables,
    with_versions,
)


class ActionModule(ActionBase):
    """Runs entirely on the controller: it reads variables and talks to no cluster."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        try:
            dummy, args = self.validate_argument_spec(argument_spec=mesh_model_argspec())
        except AnsibleActionFail as exc:
            # The likely mistake is an inventory variable given as a task argument: say where those are read.
            result.update(failed=True, msg="{0}. The inventory variables are read from the host's variables "
                          "(multimesh_*), not from the task's arguments.".format(to_native(exc.message).rstrip(".")))
            return result
        fact_name = args["fact_name"]
        spec = inventory_spec()
        inputs = {}
        for variable, key in model_inputs(spec).items():
            value = self._value(task_vars, variable)
            if value is not None and value != "":
                inputs[key] = value
        errors = []
        if "owner" not in inputs:
            # AWX passes its inventory's id as an extra variable (awx_, and tower_ for older versions).
            awx_id = self._value(task_vars, "awx_inventory_id")
            awx_id = self._value(task_vars, "tower_inventory_id") if awx_id in (None, "") else awx_id
            try:
                inputs["owner"] = owner_from_inventory(task_vars.get("inventory_file"), task_vars.get("inventory_dir"),
                                                       awx_inventory_id=awx_id)
            except ModelError as exc:
                errors.extend(exc.errors)
        for key in ("render_dir", "verify_report_dir", "ca_dir"):
            if isinstance(inputs.get(key), str):
                # Relative to where ansible-playbook was started, as a user typing -e expects.
                inputs[key] = os.path.abspath(os.path.expanduser(inputs[key]))
        errors = unknown_variables(task_vars, spec) + self._unused_access(task_vars) + errors
        if args.get("versions"):
            # playbooks/upgrade.yml: one mesh at another version than the inventory's, for this run.
            inputs["meshes"], version_errors = with_versions(inputs.get("meshes"), args["versions"])
            errors.extend(version_errors)
        try:
            model = build_model(clusters=self._clusters(task_vars), here=task_vars.get("inventory_hostname"), **inputs)
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

    def _clusters(self, task_vars):
        """Every cluster host of the inventory (group multimesh_clusters and this play's hosts), with the name and
        network its host variables give."""
        hosts = list((task_vars.get("groups") or {}).get("multimesh_clusters") or [])
        hosts += [h for h in task_vars.get("ansible_play_hosts_all") or [] if h not in hosts]
        hosts = hosts or [task_vars.get("inventory_hostname") or "cluster"]
        hostvars = task_vars.get("hostvars") or {}
        clusters = []
        for host in hosts:
            variables = hostvars.get(host) or {}
            clusters.append({"host": host, "name": self._value(variables, "multimesh_cluster_name"),
                             "network": self._value(variables, "multimesh_network"),
                             "api_server": self._value(variables, "multimesh_api_server"),
                             "access": [self._value(variables, name) or "" for name in
                                        ("multimesh_kubeconfig", "multimesh_context")]})
        return clusters

    def _unused_access(self, task_vars):
        """multimesh_kubeconfig, multimesh_context and multimesh_istioctl_path act through the play's module_defaults
        (the collection's playbooks set them); in a play without them they would be ignored and the run would go
        to whichever cluster the environment names."""
        groups = {}
        for entry in getattr(self._task, "module_defaults", None) or []:
            for key, value in (entry or {}).items():
                groups.setdefault(key.rpartition("/")[2], {}).update(value or {})
        errors = []
        for variable, group, option in (("multimesh_kubeconfig", "multimesh.istio.cluster", "kubeconfig"),
                                        ("multimesh_context", "multimesh.istio.cluster", "context"),
                                        ("multimesh_istioctl_path", "multimesh.istio.istioctl", "istioctl_path")):
            if self._value(task_vars, variable) and option not in groups.get(group, {}):
                errors.append("variable {0}: is set, but this play has no module_defaults for group/{1} that passes "
                              "it on, so it would be ignored. Fix: add module_defaults: {{group/{1}: {{{2}: "
                              "\"{{{{ {0} }}}}\"}}}} to the play (as playbooks/site.yml does), or use the playbooks."
                              .format(variable, group, option))
        return errors

    def _value(self, task_vars, name):
        if name not in task_vars:
            return None
        value = task_vars[name]
        return self._templar.template(value) if self._templar is not None else value
