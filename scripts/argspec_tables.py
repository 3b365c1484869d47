"""Write README.md's variable tables, and each role's README.md (Galaxy shows it, and its importer requires one), from
the roles' meta/argument_specs.yml, so that they cannot drift.

Usage: python scripts/argspec_tables.py [--check]   (--check exits 1 when a README is out of date)
"""
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- BEGIN VARIABLE TABLES (scripts/argspec_tables.py) -->", "<!-- END VARIABLE TABLES -->"
# Entry points shown in the README, in this order: the inventory first, then each role's knobs.
ENTRY_POINTS = [("model", "inventory"), ("preflight", "main"), ("sail_operator", "main"), ("cni", "main"),
                ("control_plane", "main"), ("members", "main"), ("samples", "main"), ("verify", "main"),
                ("upgrade", "main")]


def _text(value):
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    text = re.sub(r"[CVO]\(([^)]*)\)", r"`\1`", text)
    text = re.sub(r"M\(([^)]*)\)", r"`\1`", text)
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(options, prefix=""):
    for name, spec in options.items():
        full = prefix + name
        kind = spec.get("type", "str")
        if kind == "list" and spec.get("elements"):
            kind = "list of {0}".format(spec["elements"])
        choices = " One of: {0}.".format(", ".join("`{0}`".format(c) for c in spec["choices"])) if spec.get("choices") else ""
        default = "`{0}`".format(yaml.safe_dump(spec["default"], default_flow_style=True).strip().replace("\n...", "")) \
            if "default" in spec else ""
        yield "| `{0}` | {1} | {2} | {3} | {4}{5} |".format(
            full, default, "yes" if spec.get("required") else "no", kind, _text(spec.get("description")), choices)
        if spec.get("options"):
            sub = full + ("[]." if spec.get("type") == "list" else ".")
            yield from _rows(spec["options"], sub)


def tables():
    out = []
    for role, entry in ENTRY_POINTS:
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
            spec = yaml.safe_load(handle)["argument_specs"][entry]
        out.append("#### `multimesh.istio.{0}` ({1}) — {2}\n".format(role, entry, spec["short_description"]))
        if not spec.get("options"):
            out.append("No variables of its own.\n")
            continue
        out.append("| Variable | Default | Required | Type | Description |")
        out.append("| --- | --- | --- | --- | --- |")
        out.extend(_rows(spec["options"]))
        out.append("")
    return "\n".join(out)


def _place(role):
    """Where the role stands in a run: the model comes first, as a dependency or a play of its own."""
    if role == "model":
        return ("every other role depends on it: it validates the inventory before any cluster call and publishes "
                "the mesh model (`multimesh_model`) they read.")
    with open(os.path.join(ROOT, "roles", role, "meta", "main.yml")) as handle:
        dependencies = yaml.safe_load(handle).get("dependencies") or []
    if any((d.get("role") if isinstance(d, dict) else d) == "multimesh.istio.model" for d in dependencies):
        return ("it reads the mesh model that `multimesh.istio.model` publishes, a dependency in its `meta/main.yml`, "
                "so it also runs on its own.")
    return "it reads the mesh model that `multimesh.istio.model` publishes: run that role first (as its playbook does)."


def role_readme(role):
    """roles/<role>/README.md: what the role does, its variables (every entry point's table) and how to run it."""
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    main_spec = specs["main"]
    out = ["# multimesh.istio.{0}".format(role), "", main_spec["short_description"] + ".", ""]
    for line in main_spec.get("description") or []:
        out += [_text(line), ""]
    out += ["Part of the collection `multimesh.istio`; " + _place(role) + " See the collection's README for the "
            "inventory and the whole run.", "", "This file is written by `scripts/argspec_tables.py` from "
            "`meta/argument_specs.yml`.", ""]
    for entry, spec in specs.items():
        out.append("## Variables ({0}: {1})".format(entry, spec["short_description"]))
        out.append("")
        if not spec.get("options"):
            out += ["No variables of its own.", ""]
            continue
        out += ["| Variable | Default | Required | Type | Description |", "| --- | --- | --- | --- | --- |"]
        out += list(_rows(spec["options"])) + [""]
    out += ["## Example", "", "```yaml", "- name: Run {0} on every cluster of the inventory".format(role),
            "  hosts: multimesh_clusters", "  roles:", "    - role: multimesh.istio.{0}".format(role), "```", ""]
    return "\n".join(out)


def _wanted():
    """{path: text} of every README this script writes."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as handle:
        readme = handle.read()
    start, stop = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    wanted = {path: readme[:start] + "\n" + tables() + "\n" + readme[stop:]}
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        wanted[os.path.join(ROOT, "roles", role, "README.md")] = role_readme(role)
    return wanted


def _current(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def main():
    stale = [(path, text) for path, text in sorted(_wanted().items()) if _current(path) != text]
    if "--check" in sys.argv[1:]:
        for path, dummy in stale:
            sys.stderr.write("{0} is out of date: run scripts/argspec_tables.py\n".format(os.path.relpath(path, ROOT)))
        return 1 if stale else 0
    for path, text in stale:
        with open(path, "w") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
