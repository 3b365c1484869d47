"""Validate rendered objects against the real schemas.

Kubernetes built-in kinds: kubernetes-validate (the upstream OpenAPI schemas), strict (unknown fields fail).
Istio and Sail kinds: the openAPIV3Schema of the upstream CRDs (found by upstream_data.py: the 1.30.3 releases) and of
the CRDs of the Sail Operator's source the harness runs (load_operator_crd_schemas), made strict
the way a structural schema is: a field the schema does not declare is an error, as with
kubectl's --validate=strict, unless the schema says x-kubernetes-preserve-unknown-fields.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import sys

import jsonschema
import kubernetes_validate

import upstream_data

REPO = upstream_data.REPO
KUBERNETES_VERSION = "1.34.0"
REQUIRED_KINDS = (("sailoperator.io/v1", "Istio"), ("sailoperator.io/v1", "IstioCNI"),
                  ("security.istio.io/v1", "PeerAuthentication"))
# IstioOperator has had no cluster schema since Istio 1.24 (the 1.23 CRD only preserved unknown fields), so its
# top level is checked against the fields of Istio's IstioOperatorSpec and IstioComponentSpec.
ISTIOOPERATOR_SPEC_FIELDS = ("profile", "installPackagePath", "namespace", "revision", "compatibilityVersion", "hub",
                             "tag", "resourceSuffix", "meshConfig", "components", "values", "unvalidatedValues")
ISTIOOPERATOR_COMPONENTS = ("base", "pilot", "cni", "ztunnel", "istiodRemote", "ingressGateways", "egressGateways")


def _strict(schema):
    """Copy of an OpenAPI v3 schema with unknown properties forbidden, as API-server pruning implies."""
    schema = copy.deepcopy(schema)
    # Every object carries these; some generated CRD schemas (Istio's) only declare spec and status.
    for field, kind in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
        schema.setdefault("properties", {}).setdefault(field, {"type": kind})

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def load_operator_crd_schemas():
    """The same for the CRDs the harness installs and the real Sail Operator serves: those of its source
    (tests/harness/harness.py sail_operator_crds), so that what is rendered is accepted by both."""
    sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
    import harness  # pylint: disable=import-outside-toplevel

    return load_crd_schemas(harness.sail_operator_crds())


def load_crd_schemas(crds=None):
    """{(group/version, kind): (scope, strict schema)} for every served version of every upstream CRD found
    (upstream_data: by CRD name, wherever it is), or of the CRDs given."""
    schemas = {}
    for crd in crds if crds is not None else [crd for crd, dummy in upstream_data.crds().values()]:
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            key = ("{0}/{1}".format(spec["group"], version["name"]), spec["names"]["kind"])
            schemas[key] = (spec["scope"], _strict(version["schema"]["openAPIV3Schema"]))
    missing = [k for k in REQUIRED_KINDS if k not in schemas]
    if missing:
        raise RuntimeError("no CRD for {0} among the upstream CRDs found".format(missing))
    return schemas


def _validate_istiooperator(obj, where):
    problems = []
    if obj.get("apiVersion") != "install.istio.io/v1alpha1":
        problems.append("{0}: apiVersion must be install.istio.io/v1alpha1".format(where))
    unknown = sorted(set(obj) - {"apiVersion", "kind", "metadata", "spec"})
    spec = obj.get("spec") or {}
    unknown += sorted("spec." + k for k in set(spec) - set(ISTIOOPERATOR_SPEC_FIELDS))
    unknown += sorted("spec.components." + k for k in set(spec.get("components") or {}) - set(ISTIOOPERATOR_COMPONENTS))
    problems += ["{0}: unknown field {1}".format(where, k) for k in unknown]
    for field in ("values", "meshConfig", "components"):
        if field in spec and not isinstance(spec[field], dict):
            problems.append("{0}: spec.{1} must be a mapping".format(where, field))
    return problems


def validate_object(obj, crd_schemas):
    """Return a list of problems (empty when the object is valid)."""
    where = "{0} {1}".format(obj.get("kind"), (obj.get("metadata") or {}).get("name"))
    key = (obj.get("apiVersion"), obj.get("kind"))
    if obj.get("kind") == "IstioOperator":
        return _validate_istiooperator(obj, where) + _validate_builtin(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata") or {}}, where + " metadata")
    if key in crd_schemas:
        scope, schema = crd_schemas[key]
        problems = ["{0}: {1} at {2}".format(where, e.message, "/".join(str(p) for p in e.absolute_path))
                    for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]
        # The CRD schema says only 'metadata: object'; check it as the API server does, against ObjectMeta.
        problems += _validate_builtin({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata") or {}},
                                      where + " metadata")
        namespaced = bool((obj.get("metadata") or {}).get("namespace"))
        if namespaced != (scope == "Namespaced"):
            problems.append("{0}: a {1} resource {2} metadata.namespace".format(
                where, scope, "needs" if scope == "Namespaced" else "must not have"))
        return problems
    if "." in (obj.get("apiVersion") or "").split("/")[0] and "/" in obj.get("apiVersion", ""):
        group = obj["apiVersion"].split("/")[0]
        if group.endswith("istio.io") or group == "sailoperator.io":
            return ["{0}: no upstream CRD serves {1} {2}".format(where, obj.get("apiVersion"), obj.get("kind"))]
    return _validate_builtin(obj, where)


def _validate_builtin(obj, where):
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return ["{0}: {1} at {2}".format(where, exc.message, "/".join(str(p) for p in exc.path))]
    except kubernetes_validate.SchemaNotFoundError:
        return ["{0}: no Kubernetes {1} schema for {2} {3}".format(where, KUBERNETES_VERSION, obj.get("apiVersion"), obj.get("kind"))]
    return []
