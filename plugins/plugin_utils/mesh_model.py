# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one data model for meshes: the stable import surface of the package plugin_utils/model/.

model/schema.py reads the inventory's schema from roles/model/meta/argument_specs.yml, model/rules.py holds the
rules beyond it, model/expand.py and model/build.py expand the inventory into the model, whose keys model/shape.py
describes. Importers keep importing from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.plugin_utils.model.build import build_model, model_inputs
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.inventory import owner_from_inventory, unknown_variables, with_versions
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.rules import (
    MESH_LABEL,
    REFUSED_VALUES,
    REVISION_LABEL,
    is_version_revision,
    version_revision,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.model.schema import SPEC_PATH, ModelError, inventory_spec

__all__ = ["MESH_LABEL", "REFUSED_VALUES", "REVISION_LABEL", "SPEC_PATH", "ModelError", "build_model", "inventory_spec",
           "is_version_revision", "model_inputs", "owner_from_inventory", "unknown_variables", "version_revision",
           "with_versions"]
