# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""One cluster, and the only way this collection writes to one (istioctl aside).

connect() and connect_configuration() are the one client factory: kubernetes.core's get_api_client for its access
options (K8S_AUTH_* fill unset ones), or a Configuration made here for a cluster those variables must not reach (a
second cluster's prefixed options, a tenant's checked kubeconfig). Cluster reads by object, and writes only objects
that carry this collection's marks (UnmarkedWrite otherwise), under this collection's field manager; it deletes
only an object it was shown as checked (uid and resourceVersion preconditions: a replaced or changed object is a
409, never deleted). Waiting stays with the callers: kubernetes.core's waiter answers ready or not, where ours
must say why not (see kube_objects.readiness)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import access, auth_options, describe_access
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import (
    ClusterError,
    NotServed,
    UnmarkedWrite,
    Unreachable,
    is_api_error,
    one_line,
)
from ansible_collections.multimesh.istio.plugins.module_utils.names import label
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import FIELD_MANAGER, marked

# Imported when the action plugins are loaded: the strategy loads them in the main process (ansible-playbook), so
# every task's worker process inherits the kubernetes library instead of importing it again (over a second each).
try:
    from kubernetes import client as k8s_client
    from kubernetes.dynamic.discovery import LazyDiscoverer
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8sdynamicclient import K8SDynamicClient
    IMPORT_ERROR = None
except ImportError as exc:  # reported when a cluster is needed, so that render mode works without the library
    k8s_client = LazyDiscoverer = NotFoundError = ResourceNotFoundError = get_api_client = K8SDynamicClient = None
    IMPORT_ERROR = exc

# Written by the API server, not by a client: left out of comparisons, diffs and objects created again.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


def _require_library():
    if IMPORT_ERROR is not None:
        raise ClusterError("the Python kubernetes library and kubernetes.core are needed on the controller: {0}".format(
            IMPORT_ERROR))


def connect(auth, field_manager=FIELD_MANAGER, force_conflicts=False):
    """The cluster kubernetes.core's access options name (K8S_AUTH_* fill the unset ones, as in kubernetes.core)."""
    _require_library()
    try:
        dynamic = get_api_client(**auth).client
    except Exception as exc:  # a bad kubeconfig raises many types; the client asks the server for its version
        reason = one_line(exc)[:400]
        if is_api_error(exc) and not getattr(exc, "status", None):
            raise ClusterError("cannot reach the API server of {0}: {1}. Fix: check that it runs and that the "
                               "kubeconfig/context (or host) name the right cluster".format(describe_access(auth), reason))
        raise ClusterError("cannot load the cluster access configuration ({0}): {1}. Fix: check kubeconfig/context "
                           "(or K8S_AUTH_* variables), or host and api_key".format(describe_access(auth), reason))
    return Cluster(dynamic.client, field_manager, force_conflicts, dynamic)


def connect_configuration(configuration, field_manager=FIELD_MANAGER):
    """The cluster a Configuration made here names; nothing from the environment is added to it. Close it (or use
    it in a with block) when done: it owns its connection pool."""
    _require_library()
    return Cluster(k8s_client.ApiClient(configuration), field_manager)


def connect_module(module, prefix="", field_manager=FIELD_MANAGER):
    """The cluster a module's access options name: kubernetes.core's, or with a prefix (remote_) a second cluster's,
    which K8S_AUTH_* (the first cluster's) never complete. Fails the module with a message that names the fix."""
    if IMPORT_ERROR is not None:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(IMPORT_ERROR))
    try:
        if not prefix:
            return connect(auth_options(module.params), field_manager)
        return connect_configuration(_prefixed_configuration(access(module.params, prefix)), field_manager)
    except Exception as exc:  # the kubernetes library raises many types for a bad kubeconfig
        if isinstance(exc, ClusterError):  # says which cluster and the fix
            module.fail_json(msg="{0}cluster access: {1}.".format(prefix, exc))
        module.fail_json(msg="{0}cluster access ({1}): cannot load the configuration: {2}. Fix: check {0}kubeconfig/"
                             "{0}context or {0}host/{0}api_key.".format(prefix, describe_access(module.params, prefix),
                                                                        one_line(exc)))


def _prefixed_configuration(found):
    configuration = k8s_client.Configuration()
    if found["host"]:
        configuration.host = found["host"]
        if found["api_key"]:
            configuration.api_key = {"authorization": "Bearer " + found["api_key"]}
        if found["ca_cert"]:
            configuration.ssl_ca_cert = found["ca_cert"]
    else:
        from kubernetes import config as k8s_config

        k8s_config.load_kube_config(config_file=found["kubeconfig"], context=found["context"],
                                    client_configuration=configuration)
    if found["validate_certs"] is False:
        configuration.verify_ssl = False
    return configuration


def ref(api_version, kind, name, namespace=None):
    """The identity of an object, as get() and the write methods take it."""
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _where(obj):
    meta = obj.get("metadata") or {}
    return meta.get("name"), meta.get("namespace")


class Cluster(object):
    """Reads and writes by object (dicts), with server-side apply under this collection's field manager."""

    def __init__(self, api, field_manager=FIELD_MANAGER, force_conflicts=False, dynamic=None):
        self.api = api  # the kubernetes ApiClient: typed reads, reviews and streams (exec, port-forward) use it
        self.field_manager, self.force_conflicts = field_manager, force_conflicts
        self._dynamic, self._resources = dynamic, {}

    @property
    def dynamic(self):
        """kubernetes.core's dynamic client, made on first use: its discovery asks the server at once, which a
        caller of the typed APIs alone (a reader's access check) does not need."""
        if self._dynamic is None:
            self._dynamic = K8SDynamicClient(self.api, discoverer=LazyDiscoverer)
        return self._dynamic

    @property
    def host(self):
        return self.api.configuration.host

    def close(self):
        self.api.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            # The core group first for "v1", as kubernetes.core does (its resource()): never a group's v1 kind.
            where = {"prefix": "api"} if api_version == "v1" else {}
            try:
                self._resources[key] = self.dynamic.resources.get(api_version=api_version, kind=kind, **where)
            except ResourceNotFoundError as exc:
                raise NotServed("{0} {1} is not served by the cluster ({2}); is its CRD installed?".format(
                    api_version, kind, exc))
            except Exception as exc:  # refused, unreachable, forbidden: never taken for "not installed"
                if is_api_error(exc) and not getattr(exc, "status", None):
                    raise Unreachable("the API server at {0} cannot be reached ({1}). Fix: check that it runs and that "
                                      "the access options name it".format(self.host, one_line(exc)[:300]))
                raise ClusterError("cannot discover {0} {1} on {2}: {3}. Fix: check that the API server is reachable "
                                   "and that these credentials may list its API groups".format(
                                       api_version, kind, self.host, one_line(exc)))
        return self._resources[key]

    # ------------------------------------------------------------------ reads

    def get(self, obj):
        """The live object obj names, or None when it (or its kind) does not exist."""
        name, namespace = _where(obj)
        try:
            resource = self.resource(obj["apiVersion"], obj["kind"])
        except NotServed:
            return None  # its CRD is not installed, so it cannot exist
        try:
            return self.dynamic.get(resource, name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def list(self, api_version, kind, label_selector=None, field_selector=None, namespace=None):
        try:
            resource = self.resource(api_version, kind)
        except NotServed:
            return []
        return self.dynamic.get(resource, namespace=namespace, label_selector=label_selector,
                                field_selector=field_selector).to_dict().get("items", [])

    # ------------------------------------------------------------------ writes

    def _marked(self, obj, unmarked_because=None):
        """The kind's resource, once obj is known to carry a mark. unmarked_because: why this write may touch an
        object without one (istioctl's default revision tag, which istioctl makes unmarked and which the default
        revision's install takes over); every such write names its reason at the call."""
        if not marked(obj) and not unmarked_because:
            raise UnmarkedWrite("{0} carries none of this collection's marks, so it was not written: cleanup and "
                                "pre-flight could not tell it from a tenant's. This is a bug of the collection; "
                                "please report it".format(label(obj)))
        return self.resource(obj["apiVersion"], obj["kind"])

    def apply(self, obj, dry_run=False):
        """Server-side apply of a marked object; returns the object as stored (or as it would be, dry_run)."""
        resource = self._marked(obj)
        name, namespace = _where(obj)
        return self.dynamic.server_side_apply(
            resource, body=obj, name=name, namespace=namespace, field_manager=self.field_manager,
            force_conflicts=self.force_conflicts, dry_run="All" if dry_run else None).to_dict()

    def release(self, obj, dry_run=False):
        """Give up every field this field manager set on obj (an apply of its identity alone), keeping the rest:
        what is left of a tenant's object this inventory labelled but did not create."""
        name, namespace = _where(obj)
        stub = ref(obj["apiVersion"], obj["kind"], name, namespace)
        return self.dynamic.server_side_apply(
            self.resource(obj["apiVersion"], obj["kind"]), body=stub, name=name, namespace=namespace,
            field_manager=self.field_manager, force_conflicts=self.force_conflicts,
            dry_run="All" if dry_run else None).to_dict()

    def create(self, obj, unmarked_because=None):
        resource = self._marked(obj, unmarked_because)
        return self.dynamic.create(resource, body=obj, namespace=_where(obj)[1],
                                   field_manager=self.field_manager).to_dict()

    def replace(self, obj, live):
        """Replace live (as read) by obj; a 409 when live changed since."""
        resource = self._marked(obj)
        meta = dict(obj.get("metadata") or {}, resourceVersion=live["metadata"]["resourceVersion"])
        return self.dynamic.replace(resource, body=dict(obj, metadata=meta), namespace=_where(obj)[1],
                                    field_manager=self.field_manager).to_dict()

    def delete(self, live, unmarked_because=None):
        """Delete live as it was read and checked: only when it carries this collection's marks, and only while it is
        still that object, unchanged (the API server answers 409 Conflict otherwise). Gone already is done."""
        resource = self._marked(live, unmarked_because)
        name, namespace = _where(live)
        meta = live.get("metadata") or {}
        body = {"apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}}
        try:
            self.dynamic.delete(resource, name=name, namespace=namespace, body=body)
        except NotFoundError:
            pass

    def request_token(self, service_account, namespace, spec):
        """A token for a service account (TokenRequest: the API server stores nothing); returns the token."""
        answer = k8s_client.CoreV1Api(self.api).create_namespaced_service_account_token(
            service_account, namespace, {"spec": spec})
        return answer.status.token
