# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The secret that lets istiod read another cluster, shaped exactly as `istioctl create-remote-secret` prints it,
and the decisions around it (reuse or renew the token, what changed). Pure functions over dicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import re

from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import SERVER_METADATA
from ansible_collections.multimesh.istio.plugins.module_utils.names import is_dns1123_label, is_label_value
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import OWNER_LABEL, ownership_labels

MULTICLUSTER_LABEL = "istio/multiCluster"
CLUSTER_ANNOTATION = "networking.istio.io/cluster"
REMOTE_PREFIX = "istio-remote-secret-"
CONFIG_SECRET = "istio-kubeconfig"
CONFIG_KEY = "config"
DEFAULT_SERVICE_ACCOUNTS = {"remote": "istio-reader-service-account", "config": "istiod"}
CREATED_BY = "multimesh.istio/created-by"
REDACTED = "<redacted>"
_LOOPBACK = re.compile(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)")

# What istiod reads in a remote cluster (the istio-reader ClusterRole of the Istio charts), without the
# serviceexports create/delete that only multi-cluster services need: the token can read but not write.
READER_RULES = [
    {"apiGroups": ["config.istio.io", "security.istio.io", "networking.istio.io", "authentication.istio.io",
                   "rbac.istio.io", "telemetry.istio.io", "extensions.istio.io"],
     "resources": ["*"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["endpoints", "pods", "services", "nodes", "replicationcontrollers", "namespaces",
                                      "secrets", "configmaps"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.x-k8s.io", "gateway.networking.k8s.io"], "resources": ["gateways"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["multicluster.x-k8s.io"], "resources": ["serviceexports", "serviceimports"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    # Reviews are requests, not stored objects: istiod checks callers' tokens and permissions with them.
    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
    {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
]


class RemoteSecretError(Exception):
    pass


def check_params(params):
    """Problems with the options, each naming the option and the fix; [] when they are fine."""
    problems = []
    name = params.get("cluster_name") or ""
    if not is_dns1123_label(name):
        problems.append("cluster_name: {0!r} is not a DNS-1123 label. Fix: use lowercase letters, digits and '-', at most "
                        "63 characters (it names the secret and the kubeconfig's cluster).".format(name))
    if not is_dns1123_label(params.get("namespace") or ""):
        problems.append("namespace: {0!r} is not a namespace name. Fix: give the control plane's namespace, e.g. "
                        "istio-system.".format(params.get("namespace")))
    if params.get("create_service_account") and params.get("type") == "config":
        problems.append("create_service_account: only for type=remote. Fix: install Istio on the config cluster, which "
                        "creates the istiod service account, and drop create_service_account.")
    duration = params.get("token_duration")
    if params.get("token") == "bound" and duration is not None and duration < 600:
        problems.append("token_duration: {0}s is below the API server's minimum of 600s. Fix: use at least 600.".format(duration))
    elif params.get("token") == "bound" and duration is not None and duration <= (params.get("renew_before") or 0):
        problems.append("token_duration: {0}s is not longer than renew_before ({1}s), so every run would mint a new "
                        "token. Fix: make token_duration longer than renew_before.".format(duration, params["renew_before"]))
    if not any(params.get(k) for k in ("remote_kubeconfig", "remote_context", "remote_host")):
        problems.append("remote_kubeconfig: the remote cluster is not given, and the default kubeconfig would be taken "
                        "for it (the reader account and its RBAC would land on the wrong cluster). Fix: set "
                        "remote_kubeconfig (and remote_context), or remote_host and remote_api_key.")
    if params.get("owner") is not None and not is_label_value(params["owner"]):
        problems.append("owner: {0!r} is not a label value. Fix: at most 63 letters, digits, '-', '_' or '.', starting and "
                        "ending with a letter or digit.".format(params["owner"]))
    if params.get("server") and not re.match(r"^https://", params["server"]):
        problems.append("server: {0!r} is not an https:// URL. Fix: give the address istiod uses to reach the remote "
                        "API server, e.g. https://10.0.0.5:6443.".format(params["server"]))
    return problems


def secret_name(cluster_name, secret_type, override=None):
    if override:
        return override
    return CONFIG_SECRET if secret_type == "config" else REMOTE_PREFIX + cluster_name


def data_key(cluster_name, secret_type):
    return CONFIG_KEY if secret_type == "config" else cluster_name


def is_loopback(server):
    return bool(_LOOPBACK.match(server or ""))


def build_kubeconfig(cluster_name, server, ca_data, token, tls_server_name=None):
    """The kubeconfig istioctl writes: cluster, context and user all named after the cluster."""
    cluster = {"certificate-authority-data": ca_data, "server": server}
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "preferences": {},
        "users": [{"name": cluster_name, "user": {"token": token}}],
    }


def kubeconfig_text(kubeconfig):
    import yaml  # controller and host both have PyYAML with ansible-core

    return yaml.safe_dump(kubeconfig, default_flow_style=False, sort_keys=True)


def marks(owner=None):
    """Labels and annotations that say this module (and, with an owner, which inventory) created an object."""
    return ownership_labels(owner), {CREATED_BY: "remote_secret"}


def not_ours(obj, owner=None):
    """Why an existing object (a dict) was not created by this module for this owner, or None when it was."""
    meta = (obj or {}).get("metadata") or {}
    if (meta.get("annotations") or {}).get(CREATED_BY) != "remote_secret":
        return "not created by multimesh.istio (no {0} annotation)".format(CREATED_BY)
    found = (meta.get("labels") or {}).get(OWNER_LABEL)
    if owner and found != owner:
        return "created by {0}, not by this inventory ({1})".format(
            "inventory " + repr(found) if found else "remote_secret without an owner", owner)
    return None


def build_secret(name, namespace, cluster_name, key, kubeconfig, owner=None):
    labels, annotations = marks(owner)
    labels[MULTICLUSTER_LABEL] = "true"
    annotations[CLUSTER_ANNOTATION] = cluster_name
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "type": "Opaque",
        "stringData": {key: kubeconfig_text(kubeconfig)},
    }


def parse_kubeconfig(secret, key):
    """The kubeconfig stored in an existing secret (data is base64), or None."""
    import yaml

    data = ((secret or {}).get("data") or {}).get(key)
    if not data:
        return None
    try:
        return yaml.safe_load(base64.b64decode(data).decode("utf-8"))
    except Exception:  # a hand-edited or foreign secret: treated as absent, so it is replaced
        return None


def jwt_claims(token):
    """Claims of a service account token, decoded without verification (the API server verifies it)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except Exception:
        return None


def token_problem(token, namespace, service_account, sa_uid, now, renew_before, bound=True):
    """Why an existing token cannot be kept (None when it can): wrong account, account recreated, near expiry, or a
    legacy token (no expiry) where a bound token is wanted."""
    claims = jwt_claims(token or "")
    if not claims:
        return "no readable token"
    if claims.get("sub") != "system:serviceaccount:{0}:{1}".format(namespace, service_account):
        return "token is for {0}".format(claims.get("sub"))
    bound_uid = ((claims.get("kubernetes.io") or {}).get("serviceaccount") or {}).get("uid") or claims.get(
        "kubernetes.io/serviceaccount/service-account.uid")
    if sa_uid and bound_uid and bound_uid != sa_uid:
        return "service account was recreated"
    exp = claims.get("exp")
    if exp is None and bound:
        return "a legacy token (it never expires) is replaced by a bound token (token: bound)"
    if exp is not None and exp - now < renew_before:
        return "token expires in {0}s (renewed below {1}s)".format(int(exp - now), renew_before)
    return None


def token_expiry(token):
    claims = jwt_claims(token or "") or {}
    return claims.get("exp")


def same_secret(existing, wanted, key):
    """Whether the stored secret already says what `wanted` says (its labels, annotations and kubeconfig)."""
    if existing is None:
        return False
    meta = existing.get("metadata") or {}
    for field in ("labels", "annotations"):
        have = meta.get(field) or {}
        if any(have.get(k) != v for k, v in wanted["metadata"][field].items()):
            return False
    import yaml

    return parse_kubeconfig(existing, key) == yaml.safe_load(wanted["stringData"][key])


# Every field of a kubeconfig user that authenticates (client-go's AuthInfo), masked in diffs, results and errors.
CREDENTIAL_FIELDS = ("token", "tokenFile", "client-key-data", "client-key", "client-certificate-data", "password",
                     "username")


def mask_credentials(user):
    """Mask, in place, every credential of a kubeconfig user entry: the fields above, auth-provider config and the
    environment of an exec plugin."""
    if not isinstance(user, dict):
        return
    for field in CREDENTIAL_FIELDS:
        if user.get(field):
            user[field] = REDACTED
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and isinstance(provider.get("config"), dict):
        provider["config"] = dict((k, REDACTED) for k in provider["config"])
    plugin = user.get("exec")
    if isinstance(plugin, dict):
        for entry in plugin.get("env") or []:
            if isinstance(entry, dict) and "value" in entry:
                entry["value"] = REDACTED
        if plugin.get("args"):
            plugin["args"] = [REDACTED for dummy in plugin["args"]]


def redacted(secret, key):
    """The secret with every credential of its kubeconfig masked, for diffs and return values."""
    if secret is None:
        return None
    out = copy.deepcopy(secret)
    kubeconfig = parse_kubeconfig(out, key) if "data" in out else None
    if kubeconfig is None and "stringData" in out:
        import yaml

        kubeconfig = yaml.safe_load(out["stringData"][key])
    for user in (kubeconfig or {}).get("users") or []:
        mask_credentials(user.get("user"))
    out.pop("data", None)
    out["stringData"] = {key: kubeconfig_text(kubeconfig) if kubeconfig else REDACTED}
    meta = out.get("metadata") or {}
    for field in SERVER_METADATA:
        meta.pop(field, None)
    return out
