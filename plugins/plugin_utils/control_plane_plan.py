# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The order in which the control_plane role installs, or removes, this cluster's control planes: one plan, whose
removal is the installation reversed, instead of two task lists kept in step by hand.

Installation: intermediate CAs before any istiod starts; this cluster's own istiods (then, for RevisionBased Sail
meshes, their tags, which the operator writes once the Istio is Ready); remote and config clusters; the remote
secrets; an external istiod, which needs its config cluster's secret to start; last the gateways, once every
revision's injector exists. Removal: the reverse, with the earlier revisions of istioctl RevisionBased meshes
uninstalled just before the current one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

def _names(meshes):
    return [mesh["name"] for mesh in meshes]


def _stage(stage, label, meshes, wait, template=None):
    return {"step": "stage", "stage": stage, "label": label, "meshes": _names(meshes), "wait": wait,
            "template": template}


def _install(model):
    """The installation order, each step present only when it has something to do on this cluster."""
    meshes, render = model["meshes"], model["render"]
    primaries = [m for m in meshes if m["role"] == "primary"]
    remotes = [m for m in meshes if m["role"] in ("remote", "config")]
    external = [m for m in meshes if m["role"] == "external"]
    gateways = [m for m in meshes if m["gateways"]]
    ca_meshes = [m for m in meshes if m["multicluster"] and m["role"] in ("primary", "external")]
    revision_based = [m for m in primaries if m["update_strategy"]["type"] == "RevisionBased"]
    readers = [r for m in meshes for r in m["readers"]]
    plan = [
        {"step": "cacerts", "label": "intermediate CAs of multicluster meshes"} if ca_meshes and not render else None,
        _stage("20-control-plane", "control planes of this cluster's own istiods", primaries, True) if primaries else None,
        {"step": "tag_wait", "label": "tags of RevisionBased meshes", "meshes": _names(revision_based)}
        if revision_based and model["backend"] == "sail" else None,
        # Sail reports remote and config clusters Ready only once the serving istiod answers: nothing waits for them.
        _stage("21-remote-control-plane", "remote and config clusters (served by an istiod elsewhere)", remotes, False)
        if remotes else None,
        {"step": "remote_secrets", "label": "remote secrets"} if readers and not render else None,
        _stage("22-external-control-plane", "external control planes (after their config cluster's secret)", external,
               True) if external else None,
        _stage("23-gateways", "gateways of multicluster meshes (after every injector)", gateways, False,
               "gateways.yml.j2") if gateways else None,
    ]
    return [step for step in plan if step]


def control_plane_plan(model, state):
    """[{step, label, ...}] for state present (the installation) or absent (its reverse). A stage step names its
    stage, its meshes (by name), whether it waits for their Istios, and its template (None: the role's default)."""
    if state not in ("present", "absent"):
        raise ValueError("state must be present or absent, got {0!r}".format(state))
    plan = _install(model)
    if state == "present":
        return plan
    removal = [step for step in reversed(plan) if step["step"] != "tag_wait"]
    revision_based = [m for m in model["meshes"] if m["role"] == "primary"
                      and m["update_strategy"]["type"] == "RevisionBased"]
    if model["backend"] == "istioctl" and not model["render"] and revision_based:
        # The current revision goes with its IstioOperator (stage 20); the earlier ones first.
        at = [i for i, step in enumerate(removal) if step.get("stage") == "20-control-plane"][0]
        removal.insert(at, {"step": "earlier_revisions", "label": "earlier revisions of istioctl RevisionBased meshes"})
    return removal
