# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""An ingress gateway injected by one mesh's revision (Istio's gateway injection): the objects, for every role that
runs one (a mesh's own ingress gateway, seed 004's gateway in front of an external istiod)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Istio's gateway-injection sample: the proxy binds low ports without privileges.
_UNPRIVILEGED_PORTS = {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]}


def gateway_labels(name):
    """The selector labels of a gateway: unique per gateway, so a Gateway resource reaches only its pods."""
    return {"app": name, "istio": name}


def injected_gateway(gateway, ownership_labels):
    """ServiceAccount, Role/RoleBinding (its TLS credentials), Deployment and Service of an ingress gateway.

    gateway: {name, namespace, revision, service_type, ports: [{name, port, target_port, node_port}]}, and for a
    gateway whose only TLS credential is known (seed 004's, in front of an external istiod) 'credential': its secret's
    name, or None when it terminates no TLS - then it gets no Role at all (tenant-hardening point 13)."""
    name, namespace = gateway["name"], gateway["namespace"]
    labels = gateway_labels(name)
    meta = {"name": name, "namespace": namespace, "labels": dict(labels, **ownership_labels)}
    ports = []
    for port in gateway["ports"]:
        entry = {"name": port["name"], "port": port["port"], "targetPort": port.get("target_port") or port["port"]}
        if port.get("node_port"):
            entry["nodePort"] = port["node_port"]
        ports.append(entry)
    # istiod serves the certificates of a gateway's TLS servers (credentialName) by SDS only to a gateway whose
    # service account may list the Secrets of its namespace (a SubjectAccessReview for list secrets, without a name:
    # a Role limited by resourceNames does not pass it). A gateway that terminates no TLS needs no Secret at all.
    reads_secrets = "credential" not in gateway or gateway["credential"] is not None
    rbac = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name}]},
    ] if reads_secrets else []
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}] + rbac + [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                # The revision label picks the mesh's own injector, whatever the namespace says.
                "metadata": {"annotations": {"inject.istio.io/templates": "gateway"},
                             "labels": dict(labels, **{"sidecar.istio.io/inject": "true",
                                                       "istio.io/rev": gateway["revision"]})},
                "spec": {"serviceAccountName": name, "securityContext": _UNPRIVILEGED_PORTS,
                         # image auto: the injector puts the mesh's proxy image in.
                         "containers": [{"name": "istio-proxy", "image": "auto"}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {
            "type": gateway["service_type"], "selector": labels, "ports": ports}},
    ]
