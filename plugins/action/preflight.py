# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Check the cluster before any change, from the controller (see plugins/modules/preflight.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.multimesh.istio.plugins.module_utils.action_args import preflight_argspec
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import auth_options, describe_access
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import ClusterError, NotServed, one_line
from ansible_collections.multimesh.istio.plugins.plugin_utils.ca_trust import ca_meshes, ca_roots
from ansible_collections.multimesh.istio.plugins.plugin_utils.cluster_state import (
    CLUSTER_OBJECT_KINDS,
    SAIL_CRDS,
    TAG_CRD,
    TAG_LABEL,
    takeover_problems,
)
from ansible_collections.multimesh.istio.plugins.plugin_utils.mesh_model import REVISION_LABEL
from ansible_collections.multimesh.istio.plugins.plugin_utils.planned_objects import planned_objects
from ansible_collections.multimesh.istio.plugins.plugin_utils.preflight_checks import (
    CNI_DAEMONSET_LABEL,
    cni_wanted_elsewhere,
    preflight_problems,
)


class ActionModule(ActionBase):
    """Reads only: the Sail CRDs, the Istio resources, the namespaces, istiod Deployments, every istiod's mesh
    ConfigMap, the revision tags, the cluster-scoped RBAC and webhook configurations and, when a mesh uses an Istio CNI
    this inventory does not install, the CNI's DaemonSets, with one client."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=preflight_argspec())
        model = args["model"]
        try:
            cluster = connect(auth_options(args))
            crds = [name for name in SAIL_CRDS + (TAG_CRD,)
                    if cluster.get({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                    "metadata": {"name": name}})]
            istios = cluster.list("sailoperator.io/v1", "Istio") if SAIL_CRDS[0] in crds else []
            namespaces = cluster.list("v1", "Namespace")
            istiods = cluster.list("apps/v1", "Deployment", label_selector="app=istiod")
            # Every revision tag, whoever made it: the default one, and those named like a revision or tag the
            # members use.
            tags = cluster.list("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", label_selector=TAG_LABEL)
            # Every istiod's mesh config (istio-<revision>, in any namespace): what each one discovers.
            mesh_configs = cluster.list("v1", "ConfigMap", label_selector=REVISION_LABEL)
            # Only the kinds some mesh would create: RBAC and webhook configurations outside any namespace.
            planned = set(obj["kind"] for mesh in model["meshes"] for obj in mesh.get("cluster_objects") or [])
            cluster_objects = dict((kind, cluster.list(CLUSTER_OBJECT_KINDS[kind], kind)) for kind in sorted(planned))
            # The root each multicluster mesh's cacerts holds here; the role compares them across clusters.
            secrets = dict((mesh["name"], cluster.get({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": "cacerts", "namespace": mesh["namespace"]}})) for mesh in ca_meshes(model))
            # A mesh that uses the Istio CNI while this inventory installs none needs one on the cluster.
            cni_daemonsets = cluster.list("apps/v1", "DaemonSet", label_selector=CNI_DAEMONSET_LABEL) \
                if cni_wanted_elsewhere(model) else []
            # Every object the run would apply (one read each): none may exist without this inventory's labels.
            planned = planned_objects(model)
            live = _read(cluster, planned)
        except ClusterError as exc:
            raise AnsibleActionFail("pre-flight of cluster {0}: {1}".format(task_vars.get("inventory_hostname"),
                                                                            to_native(exc)))
        except Exception as exc:  # the API server refused a read: say which cluster call failed
            raise AnsibleActionFail("pre-flight of cluster {0} ({1}): cannot read the cluster: {2}".format(
                task_vars.get("inventory_hostname"), describe_access(args), one_line(to_native(exc))))
        default_tags = [t for t in tags if ((t.get("metadata") or {}).get("labels") or {}).get(TAG_LABEL) == "default"]
        problems = preflight_problems(model, crds, istios, namespaces, istiods, default_tags, cluster_objects,
                                      tag_webhooks=tags, mesh_configs=mesh_configs, cni_daemonsets=cni_daemonsets)
        problems += takeover_problems(model, planned, live)
        result.update(changed=False, problems=problems, istios=len(istios), namespaces=len(namespaces),
                      objects=len(planned), ca_roots=ca_roots(model, secrets))
        if problems:
            result.update(failed=True, msg="Pre-flight found {0} problem(s); nothing was changed: {1}".format(
                len(problems), problems))
        else:
            result["msg"] = ("Pre-flight passed: {0} Istio resource(s), {1} namespaces and {2} planned object(s) "
                             "checked".format(len(istios), len(namespaces), len(planned)))
        return result


def _key(obj):
    return obj["apiVersion"], obj["kind"], obj["namespace"], obj["name"]


def _read(cluster, planned):
    """{key: live object or None} of the planned objects. A kind the cluster does not serve is asked about once:
    each miss makes the client discover every API group again."""
    served, live = {}, {}
    for obj in planned:
        kind = (obj["apiVersion"], obj["kind"])
        if kind not in served:
            try:
                cluster.resource(*kind)
                served[kind] = True
            except NotServed:
                served[kind] = False
        live[_key(obj)] = cluster.get(_stub(obj)) if served[kind] else None
    return live


def _stub(obj):
    """The planned object as Cluster.get takes it."""
    meta = {"name": obj["name"]}
    if obj["namespace"]:
        meta["namespace"] = obj["namespace"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta}
