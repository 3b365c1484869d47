# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a pod's injected sidecar says: its container, the revision whose injector wrote it, the istiod it calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re


def sidecar_container(pod):
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        if container.get("name") == "istio-proxy":
            return container
    for container in spec.get("initContainers") or []:
        # Native sidecar (Kubernetes >= 1.29): an init container that keeps running.
        if container.get("name") == "istio-proxy" and container.get("restartPolicy") == "Always":
            return container
    return None


def discovery_address(container):
    for env in container.get("env") or []:
        if env.get("name") == "PROXY_CONFIG":
            # The injector writes the proxy config as JSON ({"discoveryAddress":"istiod-x.ns.svc:15012",...}).
            match = re.search(r"\"?discoveryAddress\"?\s*:\s*\"?([^\s,}\"]+)", env.get("value") or "")
            if match:
                return match.group(1)
    args = container.get("args") or []
    for index, arg in enumerate(args):
        if arg == "--discoveryAddress" and index + 1 < len(args):
            return args[index + 1]
    return None


def injected_revision(pod):
    """The revision whose injector wrote the sidecar: the `revision` of the injector's sidecar.istio.io/status
    annotation, which every injection writes; the pod's istio.io/rev label only where that annotation has none."""
    meta = pod.get("metadata") or {}
    try:
        status = json.loads((meta.get("annotations") or {}).get("sidecar.istio.io/status") or "{}")
    except ValueError:
        status = {}
    return (status.get("revision") if isinstance(status, dict) else None) or (meta.get("labels") or {}).get("istio.io/rev")
