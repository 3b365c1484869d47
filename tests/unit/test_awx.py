"""The AWX configuration-as-code example (awx/controller.yml, infra.controller_configuration's variables) against
awx.awx's own modules - each entry's keys are options the module documents, with the required ones and allowed
choices - and against this repository: the playbooks and surveys it names exist, what it references is defined in
it, and each survey asks for variables the playbook reads, with answers of the documented types (issue 29)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_MODULES = os.path.join(ROOT, "build", "collections", "ansible_collections", "awx", "awx", "plugins", "modules")
# infra.controller_configuration's variable -> the awx.awx module its dispatch role passes each entry to.
MODULES = {"controller_organizations": "organization", "controller_execution_environments": "execution_environment",
           "controller_credentials": "credential", "controller_projects": "project",
           "controller_inventories": "inventory", "controller_inventory_sources": "inventory_source",
           "controller_templates": "job_template"}


def load(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return yaml.safe_load(handle)


CONFIG = load("awx", "controller.yml")


def documented_options(module):
    """{option or alias: its documentation} of an awx.awx module, from its DOCUMENTATION."""
    path = os.path.join(AWX_MODULES, module + ".py")
    assert os.path.exists(path), "awx.awx is missing: scripts/setup.sh copies it from the ansible bundle ({0})".format(path)
    with open(path) as handle:
        tree = ast.parse(handle.read())
    doc = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
           and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DOCUMENTATION"]][0]
    options = yaml.safe_load(doc)["options"]
    found = {}
    for name, spec in options.items():
        for key in [name] + list(spec.get("aliases") or []):
            found[key] = spec
    return found


@pytest.mark.parametrize("variable,module", sorted(MODULES.items()))
def test_every_entry_is_what_the_awx_module_accepts(variable, module):
    options = documented_options(module)
    entries = CONFIG[variable]
    assert entries, variable
    for entry in entries:
        unknown = sorted(set(entry) - set(options))
        assert not unknown, "{0} {1!r}: awx.awx.{2} has no option {3}".format(variable, entry.get("name"), module, unknown)
        required = sorted(name for name, spec in options.items() if spec.get("required") and name not in entry)
        assert not required, "{0} {1!r}: awx.awx.{2} requires {3}".format(variable, entry.get("name"), module, required)
        for key, value in entry.items():
            choices = options[key].get("choices")
            if choices and isinstance(value, str) and "{{" not in value:
                assert value in choices, "{0} {1!r}.{2}: {3!r} not in {4}".format(variable, entry["name"], key, value, choices)


def test_the_references_resolve_within_the_example_and_the_repository():
    names = dict((variable, set(e["name"] for e in CONFIG[variable])) for variable in MODULES)
    for template in CONFIG["controller_templates"]:
        assert os.path.isfile(os.path.join(ROOT, template["playbook"])), template["playbook"]
        assert template["inventory"] in names["controller_inventories"]
        assert template["project"] in names["controller_projects"]
        assert template["execution_environment"] in names["controller_execution_environments"]
        assert set(template["credentials"]) <= names["controller_credentials"]
        if template.get("survey_enabled"):
            assert _survey_file(template)
    playbooks = sorted(t["playbook"] for t in CONFIG["controller_templates"])
    assert playbooks == ["playbooks/cleanup.yml", "playbooks/site.yml", "playbooks/upgrade.yml", "playbooks/verify.yml"]
    for source in CONFIG["controller_inventory_sources"]:
        assert source["inventory"] in names["controller_inventories"]
        assert source["source_project"] in names["controller_projects"]
        inventory = load(source["source_path"])
        assert "multimesh_clusters" in inventory, source["source_path"]  # the group the playbooks target
    for project in CONFIG["controller_projects"]:
        assert project["scm_url"] == load("galaxy.yml")["repository"] + ".git"
    # The built-in credential type whose environment kubernetes.core's access options read.
    assert [c["credential_type"] for c in CONFIG["controller_credentials"]] == ["OpenShift or Kubernetes API Bearer Token"]
    assert CONFIG["controller_credentials"][0]["inputs"]["verify_ssl"] is True


def _survey_file(template):
    found = re.search(r"survey-[a-z]+\.json", template["survey_spec"])
    assert found, template["survey_spec"]
    return os.path.join(ROOT, "awx", found.group(0))


def _documented_variables():
    """{variable: argument spec} of every role's main entry point."""
    found = {}
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        specs = load("roles", role, "meta", "argument_specs.yml")["argument_specs"]
        found.update(specs["main"]["options"])
    return found


@pytest.mark.parametrize("template", [t for t in CONFIG["controller_templates"] if t.get("survey_enabled")],
                         ids=lambda t: t["name"])
def test_each_survey_asks_for_variables_its_playbook_reads_with_answers_of_their_type(template):
    with open(_survey_file(template)) as handle:
        survey = json.load(handle)
    with open(os.path.join(ROOT, template["playbook"])) as handle:
        playbook = handle.read()
    documented = _documented_variables()
    assert survey["spec"]
    for question in survey["spec"]:
        variable = question["variable"]
        assert variable in documented or variable in playbook, "{0}: {1} is read by nothing".format(template["name"], variable)
        spec = documented.get(variable) or {}
        if spec.get("type") == "bool":
            assert question["type"] == "multiplechoice" and sorted(question["choices"].split("\n")) == ["false", "true"], question
        if question.get("default") not in (None, "") and question["type"] == "multiplechoice":
            assert question["default"] in question["choices"].split("\n"), question
