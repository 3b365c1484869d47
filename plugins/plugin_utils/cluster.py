# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""One cluster, reached from the controller with kubernetes.core's client and access options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.module_utils.kube_client import describe_access, is_api_error, one_line
from ansible_collections.multimesh.istio.plugins.plugin_utils.manifests import FIELD_MANAGER

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
except ImportError:  # pragma: no cover - kubernetes.core is a dependency of this collection
    AUTH_ARG_SPEC = {}

# Imported when the action plugins are loaded: the strategy loads them in the main process (ansible-playbook), so
# every task's worker process inherits the kubernetes library instead of importing it again (over a second each).
try:
    from kubernetes.client import V1DeleteOptions, V1Preconditions
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    IMPORT_ERROR = None
except ImportError as exc:  # reported when a cluster is needed, so that render mode works without the library
    NotFoundError = ResourceNotFoundError = get_api_client = V1DeleteOptions = V1Preconditions = None
    IMPORT_ERROR = exc


class ClusterError(Exception):
    pass


class NotServed(ClusterError):
    """The cluster does not serve the kind (its CRD is not installed), so no object of it can exist."""


def auth_options(args):
    """The kubernetes.core access options among args (unset ones left out, so K8S_AUTH_* still apply)."""
    return dict((k, v) for k, v in args.items() if k in AUTH_ARG_SPEC and v is not None)


class Cluster(object):
    """get/apply/delete/list by object, with server-side apply under this collection's field manager."""

    def __init__(self, auth, field_manager=FIELD_MANAGER, force_conflicts=False):
        if IMPORT_ERROR is not None:
            raise ClusterError("the Python kubernetes library and kubernetes.core are needed on the controller: {0}".format(
                IMPORT_ERROR))
        try:
            self.client = get_api_client(**auth)
        except Exception as exc:  # a bad kubeconfig raises many types; the client asks the server for its version
            reason = one_line(exc)[:400]
            if is_api_error(exc) and not getattr(exc, "status", None):
                raise ClusterError("cannot reach the API server of {0}: {1}. Fix: check that it runs and that the "
                                   "kubeconfig/context (or host) name the right cluster".format(describe_access(auth), reason))
            raise ClusterError("cannot load the cluster access configuration ({0}): {1}. Fix: check kubeconfig/context "
                               "(or K8S_AUTH_* variables), or host and api_key".format(describe_access(auth), reason))
        self.field_manager, self.force_conflicts = field_manager, force_conflicts
        self._resources = {}

    def resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self.client.resource(kind, api_version)
            except ResourceNotFoundError as exc:
                raise NotServed("{0} {1} is not served by the cluster ({2}); is its CRD installed?".format(
                    api_version, kind, exc))
            except Exception as exc:  # refused, unreachable, forbidden: never taken for "not installed"
                raise ClusterError("cannot discover {0} {1} on {2}: {3}. Fix: check that the API server is reachable "
                                   "and that these credentials may list its API groups".format(
                                       api_version, kind, self.client.configuration.host, one_line(exc)))
        return self._resources[key]

    @staticmethod
    def _where(obj):
        meta = obj.get("metadata") or {}
        return meta.get("name"), meta.get("namespace")

    def get(self, obj):
        name, namespace = self._where(obj)
        try:
            resource = self.resource(obj["apiVersion"], obj["kind"])
        except NotServed:
            return None  # its CRD is not installed, so it cannot exist
        try:
            return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def apply(self, obj, dry_run=False):
        name, namespace = self._where(obj)
        resource = self.resource(obj["apiVersion"], obj["kind"])
        return self.client.client.server_side_apply(
            resource, body=obj, name=name, namespace=namespace, field_manager=self.field_manager,
            force_conflicts=self.force_conflicts, dry_run="All" if dry_run else None).to_dict()

    def delete(self, obj, preconditions=None):
        """Delete obj; with preconditions ({uid, resourceVersion}) only if it is still that object, unchanged (the
        API server answers 409 Conflict otherwise)."""
        name, namespace = self._where(obj)
        body = None
        if preconditions:
            body = V1DeleteOptions(preconditions=V1Preconditions(uid=preconditions.get("uid"),
                                                                 resource_version=preconditions.get("resourceVersion")))
        try:
            self.resource(obj["apiVersion"], obj["kind"]).delete(name=name, namespace=namespace, body=body)
        except NotFoundError:
            pass

    def list(self, api_version, kind, label_selector=None, field_selector=None):
        try:
            resource = self.resource(api_version, kind)
        except NotServed:
            return []
        return resource.get(label_selector=label_selector, field_selector=field_selector).to_dict().get("items", [])
