# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The names Istio's istiod chart gives a revision's objects.

Both backends render that chart (Sail through its IstioRevision, istioctl through manifest generate), so the names
here are what either install creates; tests/integration/test_chart_names.py compares them with real istioctl output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The cluster-scoped RBAC pairs: a ClusterRole and a ClusterRoleBinding of the same name each.
ISTIOD_ROLE = "istiod-clusterrole"
GATEWAY_CONTROLLER_ROLE = "istiod-gateway-controller"
READER_ROLE = "istio-reader-clusterrole"


def revision_suffix(revision):
    """Revision 'default' renders with an empty chart revision: no suffix."""
    return "" if revision == "default" else "-" + revision


def istiod_service(revision):
    return "istiod" + revision_suffix(revision)


def injector_webhook(revision, namespace):
    """The injector's MutatingWebhookConfiguration: the namespace is added except in istio-system."""
    return "istio-sidecar-injector" + revision_suffix(revision) + ("" if namespace == "istio-system" else "-" + namespace)


def validator_webhook(revision, namespace):
    """The ValidatingWebhookConfiguration: always suffixed with the namespace."""
    return "istio-validator" + revision_suffix(revision) + "-" + namespace


def _switch(values, *path):
    """A value under values (None when any step is missing)."""
    for key in path:
        if not isinstance(values, dict):
            return None
        values = values.get(key)
    return values


def cluster_scoped_objects(role, revision, namespace, values=None):
    """[{kind, name}] the install of one mesh's control plane creates outside any namespace, for its role on this
    cluster (primary, remote, config, external) and the user's Helm values (the switches the chart honours)."""
    values = values or {}
    if (_switch(values, "global", "resourceScope") or "all") not in ("all", "cluster"):
        return []
    suffix = revision_suffix(revision) + "-" + namespace
    # A remote renders only the reader role and the injector; a config cluster renders what a primary does.
    roles = [READER_ROLE] if role == "remote" else [ISTIOD_ROLE, GATEWAY_CONTROLLER_ROLE, READER_ROLE]
    switched_off = set()
    if str(_switch(values, "pilot", "env", "PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER")).lower() == "false":
        switched_off.add(GATEWAY_CONTROLLER_ROLE)
    if _switch(values, "global", "enableReaderRBAC") is False:
        switched_off.add(READER_ROLE)
    objects = []
    for name in (r for r in roles if r not in switched_off):
        objects += [{"kind": "ClusterRole", "name": name + suffix}, {"kind": "ClusterRoleBinding", "name": name + suffix}]
    # An external istiod manages the config cluster's webhooks: it renders none where it runs.
    if role != "external" and not _switch(values, "global", "operatorManageWebhooks"):
        objects.append({"kind": "MutatingWebhookConfiguration", "name": injector_webhook(revision, namespace)})
    if role in ("primary", "config") and _switch(values, "global", "configValidation") is not False:
        objects.append({"kind": "ValidatingWebhookConfiguration", "name": validator_webhook(revision, namespace)})
    return objects
