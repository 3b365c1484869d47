# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What every module that runs istioctl shares: finding the binary, cluster access flags, private temporary files,
the client version and feature gates, and failures that carry rc/stdout/stderr/cmd without secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import subprocess

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec, kubeconfig_args, private_file

ISTIOCTL_SPEC = dict(
    cluster_spec(),
    istioctl_path=dict(type="path"),
    istioctl_timeout=dict(type="int", default=600),
)

# The first istioctl release that has each feature the modules use.
FEATURES = {
    # `proxy-status -o json` (the xDS sync responses) came with the xDS-based proxy-status (istio/istio#47740).
    "proxy_status_json": (1, 21),
    # `proxy-status --verbosity 1`: the table lists per-type states again after the columns became dynamic (#56441).
    "proxy_status_verbosity": (1, 28),
}
MINIMUM_VERSION = (1, 20)
_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


class IstioctlError(Exception):
    """istioctl failed; the module turns this into fail_json with everything a person needs to act."""

    def __init__(self, msg, **details):
        super(IstioctlError, self).__init__(msg)
        self.details = details


def parse_version(text):
    """(major, minor, patch) from `istioctl version -o json` output or any version string such as 1.30-alpha.x."""
    try:
        data = json.loads(text)
        text = (data.get("clientVersion") or {}).get("version") or ""
    except ValueError:
        pass
    match = _VERSION_RE.search(text or "")
    if not match:
        raise IstioctlError("cannot read the istioctl version from: {0!r}".format((text or "")[:200]))
    return tuple(int(part or 0) for part in match.groups())


class Istioctl(object):
    """One istioctl binary used by one module run."""

    def __init__(self, module):
        self.module = module
        self.path = module.params.get("istioctl_path") or module.get_bin_path("istioctl")
        if not self.path:
            module.fail_json(msg="istioctl was not found on PATH. Fix: install istioctl or set istioctl_path.")
        self.timeout = module.params.get("istioctl_timeout") or 600
        self._cluster_args = {}
        self._version = None
        self._secrets = [value for key, value in module.params.items() if key.endswith("api_key") and value]

    def cluster_args(self, prefix=""):
        """Access flags for the cluster the module's options name (prefix 'remote_' for a second cluster)."""
        if prefix not in self._cluster_args:
            self._cluster_args[prefix] = kubeconfig_args(self.module, prefix)
        return list(self._cluster_args[prefix])

    def temp_file(self, content, suffix=".yaml"):
        return private_file(self.module, content, suffix)

    def _redact(self, text):
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def run(self, args, cluster=False, timeout=None, check_rc=True):
        """(rc, stdout, stderr) of istioctl with args; cluster=True adds the access flags, a string the flags of the
        cluster whose options have that prefix."""
        access = self.cluster_args(cluster if isinstance(cluster, str) else "") if cluster is not False else []
        cmd = [self.path] + list(args) + access
        timeout = timeout or self.timeout
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise IstioctlError("istioctl {0} did not finish within {1}s. Fix: raise istioctl_timeout or look at the "
                                "cluster.".format(args[0], timeout), cmd=self._redact(" ".join(cmd)),
                                stdout=self._redact(to_text(exc.stdout or "")), stderr=self._redact(to_text(exc.stderr or "")))
        except OSError as exc:
            raise IstioctlError("cannot run {0}: {1}. Fix: set istioctl_path to an executable istioctl.".format(self.path, exc),
                                cmd=self._redact(" ".join(cmd)))
        rc, out, err = proc.returncode, to_text(proc.stdout), to_text(proc.stderr)
        if check_rc and rc != 0:
            first = (err.strip() or out.strip() or "no output").splitlines()[-1]
            raise IstioctlError("istioctl {0} failed (rc={1}): {2}".format(args[0], rc, self._redact(first)), rc=rc,
                                cmd=self._redact(" ".join(cmd)), stdout=self._redact(out), stderr=self._redact(err))
        return rc, out, err

    def version(self):
        """The client version as (major, minor, patch); istioctl older than MINIMUM_VERSION is refused."""
        if self._version is None:
            _rc, out, _err = self.run(["version", "--remote=false", "-o", "json"])
            self._version = parse_version(out)
            if self._version[:2] < MINIMUM_VERSION:
                found, needed = version_text(self._version), version_text(MINIMUM_VERSION)
                raise IstioctlError("istioctl {0} is too old: this collection needs {1} or newer. Fix: install a newer "
                                    "istioctl or point istioctl_path at one.".format(found, needed))
        return self._version

    def has(self, feature):
        return self.version()[:2] >= FEATURES[feature]

    def fail(self, error, **result):
        result.update(error.details)
        self.module.fail_json(msg=str(error), **result)


def version_text(version):
    return ".".join(str(part) for part in version)
