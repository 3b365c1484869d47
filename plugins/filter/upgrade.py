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
                "upgrade_plan_lines": filter_errors(upgrade.plan_lines, "upgrade_plan_lines"),
                "revisions_in_use": filter_errors(upgrade.revisions_in_use, "revisions_in_use")}
