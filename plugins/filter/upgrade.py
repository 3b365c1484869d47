# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of playbooks/upgrade.yml: the plan of one mesh's canary upgrade (see plugin_utils/upgrade.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils import upgrade
from ansible_collections.multimesh.istio.plugins.plugin_utils.filters import filter_errors


class FilterModule(object):
    def filters(self):
        return {"upgrade_plan": filter_errors(upgrade.upgrade_plan, "upgrade_plan"),
                "upgrade_refusal": filter_errors(upgrade.upgrade_refusal, "upgrade_refusal"),
                "upgrade_plan_lines": filter_errors(upgrade.plan_lines, "upgrade_plan_lines"),
                "revisions_in_use": filter_errors(upgrade.revisions_in_use, "revisions_in_use"),
                "earlier_revisions": filter_errors(upgrade.earlier_revisions, "earlier_revisions"),
                "pods_on": filter_errors(upgrade.pods_on, "pods_on"),
                "rollout_done": filter_errors(upgrade.rollout_done, "rollout_done")}
