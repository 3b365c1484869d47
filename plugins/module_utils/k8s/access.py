# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Which cluster a task names: kubernetes.core's access options (and K8S_AUTH_*), a second cluster's prefixed
options, and the same access given to a tool such as istioctl as a kubeconfig file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the caller through missing_required_lib
    yaml = None

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
except ImportError:  # pragma: no cover - kubernetes.core is a dependency of this collection
    AUTH_ARG_SPEC = {}

# A second cluster named by a prefix (remote_*) in one module: the options kubeconfig-based tools need, without
# environment fallbacks (K8S_AUTH_* describe the first cluster).
_PREFIXED = {
    "kubeconfig": {"type": "path"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path"},
    "validate_certs": {"type": "bool"},
}

# kubernetes.core also reads these names (its AUTH_ARG_MAP's client-side names).
_ENV_ALIASES = {"ca_cert": "K8S_AUTH_SSL_CA_CERT", "validate_certs": "K8S_AUTH_VERIFY_SSL",
                "client_cert": "K8S_AUTH_CERT_FILE", "client_key": "K8S_AUTH_KEY_FILE"}


def cluster_spec(prefix=""):
    """Access options for one cluster: kubernetes.core's (AUTH_ARG_SPEC, documented by this collection's k8s_access doc
    fragment; unset options come from K8S_AUTH_* as in kubernetes.core). A prefix (e.g. 'remote_') names a second
    cluster in the same module with the options of _PREFIXED."""
    if not prefix:
        return dict((key, dict(value)) for key, value in AUTH_ARG_SPEC.items())
    return dict((prefix + key, dict(value)) for key, value in _PREFIXED.items())


def auth_options(args):
    """The kubernetes.core access options among args (unset ones left out, so K8S_AUTH_* still apply)."""
    return dict((k, v) for k, v in args.items() if k in AUTH_ARG_SPEC and v is not None)


def _env(key):
    value = os.environ.get("K8S_AUTH_" + key.upper())
    if value is None and key in _ENV_ALIASES:
        value = os.environ.get(_ENV_ALIASES[key])
    if value is not None and (AUTH_ARG_SPEC.get(key) or {}).get("type") == "bool":
        return value.lower() not in ("0", "false", "no")
    if value is not None and (AUTH_ARG_SPEC.get(key) or {}).get("type") == "list":
        return [item for item in value.split(",") if item]
    return value


def access(params, prefix=""):
    """The access options of one cluster; unprefixed ones fall back to K8S_AUTH_* like kubernetes.core's."""
    keys = AUTH_ARG_SPEC if not prefix else _PREFIXED
    found = dict((key, params.get(prefix + key)) for key in keys)
    if not prefix:
        for key, value in found.items():
            if value is None:
                found[key] = _env(key)
    return found


def explicit_kubeconfig(found):
    """A kubeconfig (as a dict) for access given by host (token, client certificate or basic auth) or by an
    in-memory kubeconfig; None when a kubeconfig file is used instead."""
    if isinstance(found.get("kubeconfig"), dict):
        return found["kubeconfig"]
    if not found.get("host"):
        return None
    cluster = {"server": found["host"]}
    if found.get("validate_certs") is False:
        cluster["insecure-skip-tls-verify"] = True
    elif found.get("ca_cert"):
        cluster["certificate-authority"] = found["ca_cert"]
    if found.get("proxy"):
        cluster["proxy-url"] = found["proxy"]
    user = {}
    for key, field in (("api_key", "token"), ("client_cert", "client-certificate"), ("client_key", "client-key"),
                       ("username", "username"), ("password", "password"), ("impersonate_user", "as"),
                       ("impersonate_groups", "as-groups")):
        if found.get(key):
            user[field] = found[key]
    return {"apiVersion": "v1", "kind": "Config", "current-context": "access",
            "clusters": [{"name": "access", "cluster": cluster}],
            "users": [{"name": "access", "user": user}],
            "contexts": [{"name": "access", "context": {"cluster": "access", "user": "access"}}]}


def private_file(module, content, suffix):
    """Write content to a 0600 file in the module's temporary directory; it is removed when the module exits."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir=module.tmpdir)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    module.add_cleanup_file(path)
    return path


def kubeconfig_args(module, prefix=""):
    """Command-line flags (--kubeconfig/--context) that give a tool the same access as the module's options."""
    found = access(module.params, prefix)
    explicit = explicit_kubeconfig(found)
    if explicit is not None:
        args = ["--kubeconfig", private_file(module, yaml.safe_dump(explicit), ".kubeconfig")]
        return args + (["--context", found["context"]] if found.get("context") and not found.get("host") else [])
    args = []
    if found["kubeconfig"]:
        args += ["--kubeconfig", found["kubeconfig"]]
    if found["context"]:
        args += ["--context", found["context"]]
    return args


def describe_access(params, prefix=""):
    """Which cluster the options name, for messages (never a credential)."""
    found = access(params, prefix)
    if found.get("host"):
        return found["host"]
    kubeconfig = found.get("kubeconfig") if isinstance(found.get("kubeconfig"), str) else None
    return "kubeconfig {0}{1}".format(kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config",
                                      ", context " + found["context"] if found.get("context") else "")
