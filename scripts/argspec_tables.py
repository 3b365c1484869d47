"""Write README.md's variable tables from the roles' meta/argument_specs.yml, so the two cannot drift.

Usage: python scripts/argspec_tables.py [--check]   (--check exits 1 when README.md is out of date)
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


def main():
    path = os.path.join(ROOT, "README.md")
    with open(path) as handle:
        readme = handle.read()
    start, stop = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    updated = readme[:start] + "\n" + tables() + "\n" + readme[stop:]
    if "--check" in sys.argv[1:]:
        if updated != readme:
            sys.stderr.write("README.md variable tables are out of date: run scripts/argspec_tables.py\n")
            return 1
        return 0
    with open(path, "w") as handle:
        handle.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
