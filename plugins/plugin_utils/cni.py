# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What still needs the shared CNI, decided from objects read from the cluster (roles/cni/tasks/absent.yml).

Users: Istio and ZTunnel resources, istiod Deployments and ztunnel DaemonSets, sidecar injectors (an istioctl
`remote` profile has no istiod and no Istio resource, only its injector webhook) and pods with an injected sidecar.
Not counted: objects being deleted, objects the Sail Operator made for an Istio or ZTunnel resource (that resource
counts; the garbage collector removes them after it), finished pods and pods of namespaces being deleted.
Only names are returned: pod specs hold the tenants' env values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multimesh.istio.plugins.module_utils.names import label

INJECTOR_LABEL = ("app", "sidecar-injector")
INJECTOR_WEBHOOK_SUFFIX = "sidecar-injector.istio.io"
SIDECAR_STATUS = "sidecar.istio.io/status"
# Pods are named up to this many; the others are counted.
MAX_PODS_NAMED = 10


def _meta(obj):
    return obj.get("metadata") or {}


def _gone(obj):
    """Being deleted, or made by the Sail Operator for a resource that is counted on its own."""
    meta = _meta(obj)
    if meta.get("deletionTimestamp"):
        return True
    return any(str(ref.get("apiVersion", "")).startswith("sailoperator.io/") for ref in meta.get("ownerReferences") or [])


def is_injector(webhook_configuration):
    """A MutatingWebhookConfiguration that injects Istio sidecars (an injector or a revision tag)."""
    labels = _meta(webhook_configuration).get("labels") or {}
    if labels.get(INJECTOR_LABEL[0]) == INJECTOR_LABEL[1]:
        return True
    return any(str(hook.get("name", "")).endswith(INJECTOR_WEBHOOK_SUFFIX)
               for hook in webhook_configuration.get("webhooks") or [])


def injected_pods(pods, terminating_namespaces=()):
    """namespace/name of the running pods with an injected sidecar (annotation sidecar.istio.io/status), sorted."""
    skip = set(terminating_namespaces or ())
    found = []
    for pod in pods or []:
        meta = _meta(pod)
        if SIDECAR_STATUS not in (meta.get("annotations") or {}) or meta.get("deletionTimestamp"):
            continue
        if meta.get("namespace") in skip or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        found.append("{0}/{1}".format(meta.get("namespace"), meta.get("name")))
    return sorted(found)


def cni_users(objects, pods=None, terminating_namespaces=None):
    """What still needs the CNI, as 'Kind namespace/name' strings (pods past MAX_PODS_NAMED counted, not named).

    objects: Istio, ZTunnel, Deployment (app=istiod), DaemonSet (app=ztunnel) and MutatingWebhookConfiguration
    objects; webhook configurations that do not inject sidecars are left out. pods: pods that may carry a sidecar.
    terminating_namespaces: names of the namespaces being deleted (their pods go with them)."""
    out = []
    for obj in objects or []:
        if _gone(obj):
            continue
        if obj.get("kind") == "MutatingWebhookConfiguration" and not is_injector(obj):
            continue
        out.append(label(obj))
    names = injected_pods(pods, terminating_namespaces)
    out.extend("Pod " + name for name in names[:MAX_PODS_NAMED])
    if len(names) > MAX_PODS_NAMED:
        out.append("{0} more pod(s) with an injected sidecar".format(len(names) - MAX_PODS_NAMED))
    return out
