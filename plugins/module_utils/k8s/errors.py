# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a call to a cluster can raise, and how a message says it: one line, what was done, the fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from kubernetes.client.rest import ApiException
except ImportError:  # pragma: no cover - depends on the host; reported when a cluster is needed

    class ApiException(Exception):
        status = None

try:
    from urllib3.exceptions import HTTPError as _Urllib3Error
except ImportError:  # pragma: no cover - urllib3 comes with the kubernetes library
    _Urllib3Error = OSError


class ClusterError(Exception):
    pass


class NotServed(ClusterError):
    """The cluster does not serve the kind (its CRD is not installed), so no object of it can exist."""


class Unreachable(ClusterError):
    """The API server did not answer (refused, timed out, no route): nothing is known of what it holds."""


class UnmarkedWrite(ClusterError):
    """A write of an object that carries none of this collection's marks: cleanup and pre-flight could not tell it
    from a tenant's, so it is never sent."""


def one_line(exc):
    """An exception's text on one line (the kubernetes library's messages span several)."""
    return " ".join(str(exc).split())


def is_api_error(exc):
    """What a call to the API server raises when the server cannot be reached or refuses the call."""
    return isinstance(exc, (ApiException, _Urllib3Error, OSError))


def api_failure(exc, what):
    """A one-line message for an API error: what was being done, the server's answer or why it is unreachable, and
    the fix (instead of a traceback)."""
    status = getattr(exc, "status", None)
    if status:
        return "{0}: the API server answered {1} {2}. Fix: check that these credentials may do this.".format(
            what, status, getattr(exc, "reason", "") or "")
    return ("{0}: the API server cannot be reached ({1}). Fix: check kubeconfig/context (or host) and that the API "
            "server runs.".format(what, one_line(exc)[:300]))
