# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The sample apps of Istio's samples/ (curl, sleep, httpbin, helloworld) in each member namespace of a mesh: the
objects of the stage 40-samples, built in Python because a Jinja template cost about 45 ms per namespace, and read by
pre-flight (planned_objects) too, so the two cannot disagree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NETWORKING = "networking.istio.io/v1"
# Istio's samples as the collection deploys them: the Service's port and the container (named as the sample unless
# given; its image is a key of the images the role resolves), one Deployment per version.
_SLEEPER = {"port": {"name": "http", "port": 80}, "image": "curl", "command": ["/bin/sleep", "infinity"]}
SAMPLES = {
    "curl": _SLEEPER,
    "sleep": _SLEEPER,
    "httpbin": {"port": {"name": "http", "port": 8000, "targetPort": 8080}, "container": "httpbin", "image": "httpbin",
                "container_port": 8080},
    "helloworld": {"port": {"name": "http", "port": 5000, "targetPort": 5000}, "container": "helloworld",
                   "image": "helloworld-{version}", "container_port": 5000, "versions": ("v1", "v2")},
}


def _container(sample, spec, version, images):
    container = {"name": spec.get("container", sample), "image": images[spec["image"].format(version=version)]}
    if spec.get("command"):
        container["command"] = list(spec["command"])
    else:
        container["ports"] = [{"containerPort": spec["container_port"]}]
    return container


def _deployment(sample, spec, version, namespace, images, ownership):
    selector = dict({"app": sample}, **({"version": version} if version else {}))
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": sample + ("-" + version if version else ""), "namespace": namespace,
                         "labels": dict(ownership, app=sample)},
            "spec": {"replicas": 1, "selector": {"matchLabels": selector}, "template": {
                "metadata": {"labels": dict(selector)},
                "spec": {"serviceAccountName": sample, "terminationGracePeriodSeconds": 0,
                         "containers": [_container(sample, spec, version, images)]}}}}


def _one_sample(sample, namespace, images, ownership):
    """ServiceAccount, Service and Deployment(s) of one sample in one namespace."""
    spec = SAMPLES[sample]
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": sample, "namespace": namespace, "labels": dict(ownership, app=sample)}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": sample, "namespace": namespace, "labels": dict(ownership, app=sample, service=sample)},
         "spec": {"selector": {"app": sample}, "ports": [dict(spec["port"])]}},
    ]
    return objects + [_deployment(sample, spec, version, namespace, images, ownership)
                      for version in spec.get("versions") or (None,)]


# What a mesh's ingress gateway routes to, by the first sample the mesh runs: (sample, port, path prefix or None).
GATEWAY_ROUTES = (("httpbin", 8000, None), ("helloworld", 5000, "/hello"))


def gateway_target(mesh):
    """(sample, port, path) the mesh's ingress gateway routes to in its first member - httpbin, else helloworld's
    /hello as the external control plane procedure routes it - or None without such a gateway, sample or member."""
    gateway = mesh.get("ingress_gateway")
    if not (gateway and gateway.get("http_ports") and mesh["members"]):
        return None
    return next((route for route in GATEWAY_ROUTES if route[0] in mesh["samples"]), None)


def _gateway_route(mesh, ownership):
    """The mesh's ingress gateway serves the first member's httpbin (or helloworld's /hello): what the verification
    probes from inside the mesh. None without such a gateway, sample or member."""
    target = gateway_target(mesh)
    if not target:
        return None
    sample, port, path = target
    gateway = mesh["ingress_gateway"]
    host = "{0}.{1}.svc.cluster.local".format(sample, mesh["members"][0]["name"])
    route = {"route": [{"destination": {"host": host, "port": {"number": port}}}]}
    if path:
        route = dict({"match": [{"uri": {"prefix": path}}]}, **route)
    return {"apiVersion": NETWORKING, "kind": "VirtualService",
            "metadata": {"name": gateway["name"] + "-" + sample, "namespace": gateway["namespace"],
                         "labels": dict(ownership, app=sample)},
            "spec": {"hosts": ["*"], "gateways": [gateway["name"]], "http": [route]}}


def sample_objects(model, images):
    """[{group, object}] of the stage 40-samples, in apply order: each mesh's samples in each member namespace, then
    the route of its ingress gateway to httpbin. images: {curl, httpbin, helloworld-v1, helloworld-v2: image}."""
    ownership = model["ownership_labels"]
    entries = []
    for mesh in model["meshes"]:
        objects = [obj for member in mesh["members"] for sample in mesh["samples"]
                   for obj in _one_sample(sample, member["name"], images, ownership)]
        route = _gateway_route(mesh, ownership)
        entries += [{"group": mesh["name"], "object": obj} for obj in objects + ([route] if route else [])]
    return entries
