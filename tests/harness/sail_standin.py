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
- `spec.updateStrategy.type: RevisionBased`: an IstioRevision <name>-<version, dots as dashes> per version, owning
  that revision's objects; the Istio's activeRevisionName follows the version, and an inactive revision is deleted
  once nothing uses it (no namespace or pod names it, no tag points at it: condition InUse) for
  inactiveRevisionDeletionGracePeriodSeconds (default 30), the garbage collector taking its istiod;
- IstioRevisionTag: targetRef resolved (an Istio: its active revision), the tag webhook
  istio-revision-tag-<tag>[-<namespace>] pointing at that revision's istiod, status istioRevision/istiodNamespace and
  the conditions Reconciled and InUse; and the trace injection leaves on a pod of a namespace on the tag, the
  annotations sidecar.istio.io/status and istio.io/rev (no proxy), so that pruning and a rolling restart can be observed;
- the status the real operator writes: observedGeneration, state, activeRevisionName/revisions (Istio), and the
  conditions Reconciled and Ready, with reason IstiodNotReady / CNINotReady / ReconcileError and a message while
  not ready. kwok makes the pods Ready, so Ready follows the Deployment's or DaemonSet's real status.

Usage: python sail_standin.py KUBECONFIG   (runs until killed; polls once a second)
"""

import copy
import datetime
import json
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


def ensure_mesh_config(core, istio, revision, service, namespace, owners):
    name = "istio" if revision == "default" else "istio-" + revision
    data = {"mesh": mesh_config(istio, service, namespace), "meshNetworks": "networks: {}\n"}
    try:
        current = core.read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_config_map(namespace, {"metadata": {
            "name": name, "labels": {"istio.io/rev": revision}, "ownerReferences": owners}, "data": data})
        return
    if current.data != data:
        core.patch_namespaced_config_map(name, namespace, {"data": data})


def ensure_injector(istio, name, service, namespace, owners):
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
                         "ownerReferences": owners},
            "webhooks": [{"name": "rev.namespace.sidecar-injector.istio.io", "admissionReviewVersions": ["v1"],
                          "sideEffects": "None", "failurePolicy": "Fail",
                          "clientConfig": {"service": {"name": service, "namespace": namespace, "path": path, "port": 443}},
                          "namespaceSelector": {"matchLabels": {"istio.io/rev": name}},
                          "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                     "resources": ["pods"]}]}]})


def reconcile_istio(core, apps, custom, istio):
    """InPlace: the Istio's objects, owned by it, under its own name. RevisionBased: see reconcile_revisions."""
    if revision_based(istio):
        return reconcile_revisions(core, apps, custom, istio)
    return reconcile_control_plane(core, apps, istio, istio["metadata"]["name"], owner(istio, "Istio"))


def reconcile_control_plane(core, apps, istio, name, owners):
    """One revision's istiod (or a remote's injector), named by revision `name`, owned by `owners`."""
    spec = istio.get("spec") or {}
    namespace = spec.get("namespace", "istio-system")
    deployment = "istiod" if name == "default" else "istiod-" + name
    missing = namespace_missing(core, namespace)
    if missing:
        return missing
    ensure_mesh_config(core, istio, name, deployment, namespace, owners)
    ensure(core.create_namespaced_service, core.read_namespaced_service, namespace, {
        "metadata": {"name": deployment, "labels": {"app": "istiod", "istio.io/rev": name}, "ownerReferences": owners},
        "spec": {"selector": {"app": "istiod", "istio.io/rev": name}, "ports": [
            {"name": "grpc-xds", "port": 15010}, {"name": "https-dns", "port": 15012},
            {"name": "https-webhook", "port": 443, "targetPort": 15017}, {"name": "http-monitoring", "port": 15014}]}})
    remote = spec.get("profile") == "remote"
    if not remote or ((spec.get("values") or {}).get("global") or {}).get("configCluster"):
        ensure(core.create_namespaced_service_account, core.read_namespaced_service_account, namespace, {
            "metadata": {"name": deployment, "labels": {"app": "istiod", "istio.io/rev": name},
                         "ownerReferences": owners}})
    if remote:
        ensure_injector(istio, name, deployment, namespace, owners)
        return True, True, "", ""
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": name}
    image = "docker.io/istio/pilot:{0}".format(spec.get("version", "v0").lstrip("v"))
    found = ensure(apps.create_namespaced_deployment, apps.read_namespaced_deployment, namespace, {
        "metadata": {"name": deployment, "labels": labels, "ownerReferences": owners},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "istiod", "istio.io/rev": name}},
                 "template": pod_template(labels, image)}})
    ready = (found.status.available_replicas or 0) >= 1 if found.status else False
    return True, ready, "IstiodNotReady", "istiod Deployment {0}/{1} is not available".format(namespace, deployment)


# ------------------------------------------------------------------ RevisionBased and revision tags

DEFAULT_VERSION = "v1.30.3"


def revision_based(istio):
    return (((istio.get("spec") or {}).get("updateStrategy") or {}).get("type") or "InPlace") == "RevisionBased"


def active_revision(istio):
    """Sail's name for an Istio's active revision: the Istio's name (InPlace), or the name and the version with dots
    turned into dashes (RevisionBased: mesh-1 at v1.30.3 is mesh-1-v1-30-3)."""
    spec = istio.get("spec") or {}
    if not revision_based(istio):
        return istio["metadata"]["name"]
    return istio["metadata"]["name"] + "-" + spec.get("version", DEFAULT_VERSION).replace(".", "-")


def ensure_istio_revision(custom, istio, name):
    """The cluster-scoped IstioRevision `name` of an Istio, owned by it (the operator makes them; users do not)."""
    spec = istio.get("spec") or {}
    namespace = spec.get("namespace", "istio-system")
    values = copy.deepcopy(spec.get("values") or {})
    values["revision"] = "" if name == "default" else name
    values.setdefault("global", {})["istioNamespace"] = namespace
    try:
        return custom.get_cluster_custom_object(GROUP, VERSION, "istiorevisions", name)
    except ApiException as exc:
        if exc.status != 404:
            raise
    return custom.create_cluster_custom_object(GROUP, VERSION, "istiorevisions", {
        "apiVersion": GROUP + "/" + VERSION, "kind": "IstioRevision",
        "metadata": {"name": name, "ownerReferences": owner(istio, "Istio")},
        "spec": {"namespace": namespace, "version": spec.get("version", DEFAULT_VERSION), "values": values}})


def users(core, custom, revision):
    """Why a revision (or tag) is in use, or []: namespaces and pods that name it, and tags that point at it."""
    found = ["namespace " + n.metadata.name for n in core.list_namespace(label_selector="istio.io/rev=" + revision).items]
    for pod in core.list_pod_for_all_namespaces().items:
        meta = pod.metadata
        if (meta.labels or {}).get("app") == "istiod":  # the revision's own control plane is not a user of it
            continue
        if revision in ((meta.labels or {}).get("istio.io/rev"), (meta.annotations or {}).get("istio.io/rev")):
            found.append("pod {0}/{1}".format(meta.namespace, meta.name))
    for tag in custom.list_cluster_custom_object(GROUP, VERSION, "istiorevisiontags")["items"]:
        if (tag.get("status") or {}).get("istioRevision") == revision and not tag["metadata"].get("deletionTimestamp"):
            found.append("tag " + tag["metadata"]["name"])
    return found


def in_use_condition(previous, found):
    """The InUse condition, its lastTransitionTime kept while its status does not change."""
    old = dict((c["type"], c) for c in (previous or {}).get("conditions") or []).get("InUse", {})
    status = "True" if found else "False"
    return {"type": "InUse", "status": status,
            "reason": "ReferencedByWorkloads" if found else "NotReferencedByAnything",
            "message": ", ".join(found[:5]),
            "lastTransitionTime": old.get("lastTransitionTime") if old.get("status") == status else now()}


def reconcile_revisions(core, apps, custom, istio):
    """RevisionBased: one IstioRevision per version, each owning its istiod; the inactive ones are deleted once
    nothing uses them for inactiveRevisionDeletionGracePeriodSeconds (the garbage collector takes their istiod)."""
    active = active_revision(istio)
    grace = ((istio.get("spec") or {}).get("updateStrategy") or {}).get("inactiveRevisionDeletionGracePeriodSeconds", 30)
    revision = ensure_istio_revision(custom, istio, active)
    result = reconcile_control_plane(core, apps, istio, active, owner(revision, "IstioRevision"))
    counts = {"total": 0, "ready": 0, "inUse": 0}
    for rev in custom.list_cluster_custom_object(GROUP, VERSION, "istiorevisions")["items"]:
        if not any(ref.get("uid") == istio["metadata"]["uid"] for ref in rev["metadata"].get("ownerReferences") or []):
            continue
        name = rev["metadata"]["name"]
        deployments = apps.list_namespaced_deployment(rev["spec"]["namespace"], label_selector="istio.io/rev=" + name).items
        ready = result[1] if name == active else any((d.status.available_replicas or 0) >= 1 for d in deployments)
        in_use = in_use_condition(rev.get("status"), users(core, custom, name))
        status = {"observedGeneration": rev["metadata"].get("generation"), "state": "Healthy" if ready else "NotReady",
                  "conditions": conditions(rev.get("status"), True, ready, "IstiodNotReady", "istiod is not available")
                  + [in_use]}
        if status != rev.get("status"):
            custom.patch_cluster_custom_object_status(GROUP, VERSION, "istiorevisions", name, {"status": status})
        idle_since = datetime.datetime.strptime(in_use["lastTransitionTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        idle = in_use["status"] == "False" and (
            datetime.datetime.now(datetime.timezone.utc) - idle_since).total_seconds() >= grace
        if name != active and idle and not rev["metadata"].get("deletionTimestamp"):
            custom.delete_cluster_custom_object(GROUP, VERSION, "istiorevisions", name)
            continue
        counts["total"] += 1
        counts["ready"] += int(ready)
        counts["inUse"] += int(in_use["status"] == "True")
    return result + (counts,)


def tag_webhook(tag, revision, namespace):
    """The MutatingWebhookConfiguration a revision tag installs: the namespaces and pods labelled with the tag are
    injected by the revision's istiod. failurePolicy Ignore: in the harness nothing may serve it (no istiod runner)."""
    name = "istio-revision-tag-" + tag["metadata"]["name"] + ("" if namespace == "istio-system" else "-" + namespace)
    service = {"name": "istiod" if revision == "default" else "istiod-" + revision, "namespace": namespace,
               "path": "/inject", "port": 443}
    hooks = []
    for kind, selector in (("namespace", "namespaceSelector"), ("object", "objectSelector")):
        hooks.append({"name": "rev.{0}.sidecar-injector.istio.io".format(kind), "admissionReviewVersions": ["v1"],
                      "sideEffects": "None", "failurePolicy": "Ignore", "clientConfig": {"service": service},
                      selector: {"matchExpressions": [{"key": "istio.io/rev", "operator": "In",
                                                       "values": [tag["metadata"]["name"]]}]},
                      "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]})
    return {"metadata": {"name": name, "labels": {"app": "sidecar-injector", "istio.io/tag": tag["metadata"]["name"],
                                                  "istio.io/rev": revision},
                         "ownerReferences": owner(tag, "IstioRevisionTag")}, "webhooks": hooks}


def reconcile_tag(core, custom, tag):
    """An IstioRevisionTag: resolve its target (an Istio follows its active revision), keep its webhook pointing there."""
    ref = tag["spec"]["targetRef"]
    try:
        if ref["kind"] == "Istio":
            istio = custom.get_cluster_custom_object(GROUP, VERSION, "istios", ref["name"])
            revision = (istio.get("status") or {}).get("activeRevisionName") or active_revision(istio)
            namespace = (istio.get("spec") or {}).get("namespace", "istio-system")
        else:
            target = custom.get_cluster_custom_object(GROUP, VERSION, "istiorevisions", ref["name"])
            revision, namespace = ref["name"], target["spec"]["namespace"]
    except ApiException as exc:
        if exc.status != 404:
            raise
        return False, "RefNotFound", "{0} {1} not found".format(ref["kind"], ref["name"]), None, None
    admission = client.AdmissionregistrationV1Api()
    body = tag_webhook(tag, revision, namespace)
    try:
        current = admission.read_mutating_webhook_configuration(body["metadata"]["name"])
        if current.metadata.labels.get("istio.io/rev") != revision:
            admission.patch_mutating_webhook_configuration(body["metadata"]["name"], {
                "metadata": {"labels": body["metadata"]["labels"]}, "webhooks": body["webhooks"]})
    except ApiException as exc:
        if exc.status != 404:
            raise
        admission.create_mutating_webhook_configuration(body)
    return True, "", "", revision, namespace


def write_tag_status(core, custom, tag, reconciled, reason, message, revision, namespace):
    previous = tag.get("status") or {}
    reconciled_condition = {"type": "Reconciled", "status": "True" if reconciled else "False"}
    if not reconciled:
        reconciled_condition.update(reason=reason, message=message)
    old = dict((c["type"], c) for c in previous.get("conditions") or []).get("Reconciled", {})
    reconciled_condition["lastTransitionTime"] = old.get("lastTransitionTime") \
        if old.get("status") == reconciled_condition["status"] else now()
    status = {"observedGeneration": tag["metadata"].get("generation"), "istioRevision": revision or "",
              "istiodNamespace": namespace or "", "state": "Healthy" if reconciled else reason,
              "conditions": [reconciled_condition, in_use_condition(previous, users(core, custom, tag["metadata"]["name"]))]}
    if status != previous:
        custom.patch_cluster_custom_object_status(GROUP, VERSION, "istiorevisiontags", tag["metadata"]["name"],
                                                  {"status": status})


def mark_injected_pods(core, tag):
    """What injection through a tag records on a pod created in a namespace on the tag, which the revision's pruning
    and a rolling restart read: the annotations sidecar.istio.io/status (its revision) and istio.io/rev, as the
    injector writes them - no proxy (kwok runs no container). Pods that opt out (sidecar.istio.io/inject=false) and
    pods already annotated (really injected: the harness's istiod runner behind the tag's webhook) are left alone.
    Unlike the webhook, it also marks pods created before the namespace joined the tag."""
    revision = (tag.get("status") or {}).get("istioRevision")
    if not revision:
        return
    for namespace in core.list_namespace(label_selector="istio.io/rev=" + tag["metadata"]["name"]).items:
        for pod in core.list_namespaced_pod(namespace.metadata.name).items:
            meta = pod.metadata
            if meta.deletion_timestamp or "sidecar.istio.io/status" in (meta.annotations or {}) or \
                    (meta.labels or {}).get("sidecar.istio.io/inject") == "false":
                continue
            core.patch_namespaced_pod(meta.name, namespace.metadata.name, {"metadata": {"annotations": {
                "sidecar.istio.io/status": json.dumps({"revision": revision}), "istio.io/rev": revision}}})


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
                counts = result[4] if len(result) > 4 else {"total": 1, "ready": int(result[1]), "inUse": 0}
                write_status(custom, "istios", istio, *result[:4], extra={
                    "activeRevisionName": active_revision(istio), "revisions": counts})
            for tag in custom.list_cluster_custom_object(GROUP, VERSION, "istiorevisiontags")["items"]:
                if not tag["metadata"].get("deletionTimestamp"):
                    write_tag_status(core, custom, tag, *reconcile_tag(core, custom, tag))
                    mark_injected_pods(core, tag)
            for cni in custom.list_cluster_custom_object(GROUP, VERSION, "istiocnis")["items"]:
                if not cni["metadata"].get("deletionTimestamp"):
                    write_status(custom, "istiocnis", cni, *reconcile_cni(core, apps, cni), extra={})
        except ApiException as exc:
            # CRDs not installed yet, or a conflict with a concurrent write: try again on the next round.
            sys.stderr.write("sail stand-in: {0} {1}\n".format(exc.status, exc.reason))
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
