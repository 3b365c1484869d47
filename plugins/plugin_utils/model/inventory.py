# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What the mesh model needs of the inventory itself: the owner it defaults to, the multimesh_* variables it does not
know (typos), and the versions an upgrade run puts in place of the inventory's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os.path
import re

from ansible_collections.multimesh.istio.plugins.plugin_utils.model.schema import Collector, ModelError, suggest, type_name

DEFAULT_OWNER = "default"
# Names an inventory's file or directory has whatever the inventory is (AWX: inventory/hosts for every job; Ansible's
# /etc/ansible/hosts; no inventory file: the default): refused as the identity multimesh_owner defaults to.
GENERIC_INVENTORY_NAMES = ("", DEFAULT_OWNER, "inventory", "inventories", "hosts", "host", "ansible", "runner",
                           "localhost", "all", "ungrouped")
# Facts the collection sets itself, and the job artifacts it publishes (set_stats): not typos. An AWX workflow hands a
# job's artifacts to the next job as extra variables, so a verify or render job may precede site.yml.
SET_BY_THE_COLLECTION = ("multimesh_model", "multimesh_verify_result", "multimesh_render_result")


def owner_from_inventory(inventory_file, inventory_dir, awx_inventory_id=None):
    """The default multimesh_owner, as a label value; raises ModelError when nothing identifies the inventory.

    Under AWX (awx_inventory_id, an extra variable AWX passes to every job) awx-<inventory id>: AWX writes every job's
    inventory to inventory/hosts, so its file names no inventory; the id stays when the inventory is renamed.
    Elsewhere the inventory's name: its file, or its directory for hosts.yml-like files. A generic name
    (GENERIC_INVENTORY_NAMES) is refused: other inventories have it too, and the owner decides what cleanup removes."""
    if awx_inventory_id not in (None, ""):
        if isinstance(awx_inventory_id, bool) or not re.fullmatch(r"[0-9]{1,59}", str(awx_inventory_id)):
            raise ModelError(["multimesh_owner: unset, and awx_inventory_id {0!r} is not an AWX inventory id to derive "
                              "it from (awx-<id>). Fix: set multimesh_owner to a name of this inventory's own, unique on "
                              "its clusters.".format(awx_inventory_id)])
        return "awx-{0}".format(awx_inventory_id)
    stem = os.path.splitext(os.path.basename(inventory_file or ""))[0]
    generic = stem.lower() in GENERIC_INVENTORY_NAMES
    name = os.path.basename(os.path.normpath(inventory_dir)) if ((not stem or generic) and inventory_dir) else stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or "")[:63].strip("-_.")
    if not name or name.lower() in GENERIC_INVENTORY_NAMES:
        raise ModelError(["multimesh_owner: unset, and the inventory's name it would default to, {0!r} (from {1}), is "
                          "one any inventory may have - AWX, for one, writes every job's inventory to inventory/hosts - "
                          "so another inventory with that name could change and remove this one's objects. Fix: set "
                          "multimesh_owner to a name of this inventory's own, unique on its clusters (e.g. "
                          "team-a-meshes), or name the inventory's file or directory after it.".format(
                              name or DEFAULT_OWNER, inventory_file or "no inventory file")])
    return name


def unknown_variables(names, spec):
    """Errors for multimesh_* variables the collection does not read (typos)."""
    known = sorted(spec) + list(SET_BY_THE_COLLECTION)
    errs = Collector()
    for name in sorted(names):
        if name.startswith("multimesh_") and name not in known:
            errs.add("variable {0}".format(name), "is not a multimesh.istio variable", suggest(name, known))
    return errs.errors


def with_versions(meshes, versions):
    """The inventory's meshes with the named meshes' version replaced (playbooks/upgrade.yml's upgrade_version):
    (meshes, errors). Only names of this inventory's meshes; the versions themselves are validated by build_model."""
    errs = Collector()
    if not versions:
        return meshes, []
    if not isinstance(versions, dict):
        errs.add("model_versions", "must be a mapping of mesh name to version, got {0}".format(type_name(versions)),
                 "give e.g. {mesh-2: 1.30.3}")
        return meshes, errs.errors
    listed = [m for m in meshes if isinstance(m, dict)] if isinstance(meshes, list) else []
    names = [m.get("name") for m in listed]
    for name in versions:
        if name not in names:
            errs.add("model_versions", "no mesh named {0!r} in multimesh_meshes (meshes: {1})".format(
                name, ", ".join(str(n) for n in names) or "none"), "name one of them (upgrade.yml: -e upgrade_mesh=<name>)")
    replaced = [dict(m, version=versions[m.get("name")]) if isinstance(m, dict) and m.get("name") in versions else m
                for m in (meshes if isinstance(meshes, list) else [])]
    return (replaced if isinstance(meshes, list) else meshes), errs.errors
