"""STAND-IN for the Sail Operator, for the test harness only. It is not the operator.

The real operator (github.com/istio-ecosystem/sail-operator) cannot be built here: the only reachable Go module
proxy answers 403 for that module. This stand-in does the smallest part of its job that the collection's waits
and checks observe, against the real API server:

- for each Istio: a Deployment istiod-<revision> (istiod for 'default') in spec.namespace, its ServiceAccount, the
  mesh ConfigMap istio-<revision> (`mesh`: spec.values.meshConfig with the defaults the istiod chart adds) and its
  Service, owned by the Istio so that the garbage collector removes them with the Istio; for the IstioCNI: a
  DaemonSet istio-cni-node. With the harness's istiod runner, a real istiod then runs per Istio from that ConfigMap
  (root certificates, discovery);
- for an Istio with profile `remote` (a cluster served by an istiod elsewhere) no Deployment: the injector webhook
  istio-sidecar-injector-<revision>[-<namespace>] calling the istiod Service at values.istiodRemote.injectionPath, and,
  with values.global.configCluster, the istiod ServiceAccount the external istiod's config secret is made for. It is
  Ready once they exist (the real operator also waits until the serving istiod answers the injector);
- the status the real operator writes: observedGeneration, state, activeRevisionName/revisions (Istio), and the
  conditions Reconciled and Ready, with reason IstiodNotReady / CNINotReady / ReconcileError and a message while
  not ready. kwok makes the pods Ready, so Ready follows the Deployment's or DaemonSet's real status.

Usage: python sail_standin.py KUBECONFIG   (runs until killed; polls once a second)
"""

import copy
import datetime
import sys
import time

import yaml

from kubernetes import client, config
from kubernetes.client.rest import ApiException

GROUP, VERSION = "sailoperator.io", "v1"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(previous, reconciled, ready, reason, message):
    """Conditions with lastTransitionTime kept while a condition's status does not change."""
    before = dict((c["type"], c) for c in (previous or {}).get("conditions") or [])
    out = []
    for kind, ok, why, text in (("Reconciled", reconciled, "ReconcileError", message if not reconciled else ""),
                                ("Ready", ready, reason, message if not ready else "")):
        status = "True" if ok else "False"
        old = before.get(kind, {})
        condition = {"type": kind, "status": status,
                     "lastTransitionTime": old.get("lastTransitionTime") if old.get("status") == status else now()}
        if not ok:
            condition.update(reason=why, message=text)
        out.append(condition)
    return out


def owner(obj, kind):
    return [{"apiVersion": GROUP + "/" + VERSION, "kind": kind, "name": obj["metadata"]["name"],
             "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": False}]


def ensure(create, read, namespace, body):
    try:
        return read(body["metadata"]["name"], namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
    return create(namespace, body)


def pod_template(labels, image):
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "discovery", "image": image}]}}


def namespace_missing(core, namespace):
    """The operator's reconcile result when the target namespace does not exist, else None."""
    try:
        core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        return False, False, "ReconcileError", 'namespace "{0}" not found'.format(namespace)
    return None


def mesh_config(istio, service, namespace):
    """The `mesh` key the istiod chart renders: values.meshConfig plus its defaults (discovery address, root namespace)."""
    mesh = copy.deepcopy(((istio.get("spec") or {}).get("values") or {}).get("meshConfig") or {})
    mesh.setdefault("defaultConfig", {}).setdefault("discoveryAddress", "{0}.{1}.svc:15012".format(service, namespace))
    mesh.setdefault("rootNamespace", namespace)
    mesh.setdefault("trustDomain", "cluster.local")
    return yaml.safe_dump(mesh, default_flow_style=False)


def ensure_mesh_config(core, istio, revision, service, namespace):
    name = "istio" if revision == "default" else "istio-" + revision
    data = {"mesh": mesh_config(istio, service, namespace), "meshNetworks": "networks: {}\n"}
    try:
        current = core.read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_config_map(namespace, {"metadata": {
            "name": name, "labels": {"istio.io/rev": revision}, "ownerReferences": owner(istio, "Istio")}, "data": data})
        return
    if current.data != data:
        core.patch_namespaced_config_map(name, namespace, {"data": data})


def ensure_injector(istio, name, service, namespace):
    """The remote profile's injector webhook, as the istiod-remote chart names and points it."""
    admission = client.AdmissionregistrationV1Api()
    values = (istio.get("spec") or {}).get("values") or {}
    webhook = "istio-sidecar-injector" + ("" if name == "default" else "-" + name) + \
        ("" if namespace == "istio-system" else "-" + namespace)
    path = (values.get("istiodRemote") or {}).get("injectionPath") or "/inject"
    try:
        admission.read_mutating_webhook_configuration(webhook)
    except ApiException as exc:
        if exc.status != 404:
            raise
        admission.create_mutating_webhook_configuration({
            "metadata": {"name": webhook, "labels": {"app": "sidecar-injector", "istio.io/rev": name},
                         "ownerReferences": owner(istio, "Istio")},
            "webhooks": [{"name": "rev.namespace.sidecar-injector.istio.io", "admissionReviewVersions": ["v1"],
                          "sideEffects": "None", "failurePolicy": "Fail",
                          "clientConfig": {"service": {"name": service, "namespace": namespace, "path": path, "port": 443}},
                          "namespaceSelector": {"matchLabels": {"istio.io/rev": name}},
                          "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                     "resources": ["pods"]}]}]})


def reconcile_istio(core, apps, custom, istio):
    meta, spec = istio["metadata"], istio.get("spec") or {}
    name, namespace = meta["name"], spec.get("namespace", "istio-system")
    deployment = "istiod" if name == "default" else "istiod-" + name
    missing = namespace_missing(core, namespace)
    if missing:
        return missing
    ensure_mesh_config(core, istio, name, deployment, namespace)
    ensure(core.create_namespaced_service, core.read_namespaced_service, namespace, {
        "metadata": {"name": deployment, "labels": {"app": "istiod", "istio.io/rev": name}, "ownerReferences": owner(istio, "Istio")},
        "spec": {"selector": {"app": "istiod", "istio.io/rev": name}, "ports": [
            {"name": "grpc-xds", "port": 15010}, {"name": "https-dns", "port": 15012},
            {"name": "https-webhook", "port": 443, "targetPort": 15017}, {"name": "http-monitoring", "port": 15014}]}})
    remote = spec.get("profile") == "remote"
    if not remote or ((spec.get("values") or {}).get("global") or {}).get("configCluster"):
        ensure(core.create_namespaced_service_account, core.read_namespaced_service_account, namespace, {
            "metadata": {"name": deployment, "labels": {"app": "istiod", "istio.io/rev": name},
                         "ownerReferences": owner(istio, "Istio")}})
    if remote:
        ensure_injector(istio, name, deployment, namespace)
        return True, True, "", ""
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": name}
    image = "docker.io/istio/pilot:{0}".format(spec.get("version", "v0").lstrip("v"))
    found = ensure(apps.create_namespaced_deployment, apps.read_namespaced_deployment, namespace, {
        "metadata": {"name": deployment, "labels": labels, "ownerReferences": owner(istio, "Istio")},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "istiod", "istio.io/rev": name}},
                 "template": pod_template(labels, image)}})
    ready = (found.status.available_replicas or 0) >= 1 if found.status else False
    return True, ready, "IstiodNotReady", "istiod Deployment {0}/{1} is not available".format(namespace, deployment)


def reconcile_cni(core, apps, cni):
    namespace = (cni.get("spec") or {}).get("namespace", "istio-cni")
    missing = namespace_missing(core, namespace)
    if missing:
        return missing
    labels = {"k8s-app": "istio-cni-node"}
    found = ensure(apps.create_namespaced_daemon_set, apps.read_namespaced_daemon_set, namespace, {
        "metadata": {"name": "istio-cni-node", "labels": labels, "ownerReferences": owner(cni, "IstioCNI")},
        "spec": {"selector": {"matchLabels": labels}, "template": pod_template(labels, "docker.io/istio/install-cni")}})
    status = found.status
    ready = bool(status and status.desired_number_scheduled and status.number_ready == status.desired_number_scheduled)
    return True, ready, "CNINotReady", "istio-cni-node DaemonSet in {0} is not ready".format(namespace)


def write_status(custom, plural, obj, reconciled, ready, reason, message, extra):
    previous = obj.get("status") or {}
    status = dict(extra, observedGeneration=obj["metadata"].get("generation"),
                  state="Healthy" if ready else ("ReconcileError" if not reconciled else "NotReady"),
                  conditions=conditions(previous, reconciled, ready, reason, message))
    if status != previous:
        custom.patch_cluster_custom_object_status(GROUP, VERSION, plural, obj["metadata"]["name"], {"status": status})


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core, apps, custom = client.CoreV1Api(), client.AppsV1Api(), client.CustomObjectsApi()
    while True:
        try:
            for istio in custom.list_cluster_custom_object(GROUP, VERSION, "istios")["items"]:
                if istio["metadata"].get("deletionTimestamp"):
                    continue
                result = reconcile_istio(core, apps, custom, istio)
                name = istio["metadata"]["name"]
                write_status(custom, "istios", istio, *result, extra={
                    "activeRevisionName": name, "revisions": {"total": 1, "ready": int(result[1]), "inUse": 0}})
            for cni in custom.list_cluster_custom_object(GROUP, VERSION, "istiocnis")["items"]:
                if not cni["metadata"].get("deletionTimestamp"):
                    write_status(custom, "istiocnis", cni, *reconcile_cni(core, apps, cni), extra={})
        except ApiException as exc:
            # CRDs not installed yet, or a conflict with a concurrent write: try again on the next round.
            sys.stderr.write("sail stand-in: {0} {1}\n".format(exc.status, exc.reason))
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
