# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The order in which the control_plane role installs, or removes, the control planes: one list of steps, whose
removal is the installation reversed, instead of two task lists kept in step by hand.

Installation: intermediate CAs before any istiod starts; this cluster's own istiods (then, for RevisionBased Sail
meshes, their tags, which the operator writes once the Istio is Ready); remote and config clusters; the remote
secrets; an external istiod, which needs its config cluster's secret to start; last the gateways, once every
revision's injector exists. Removal: the reverse, with the earlier revisions of istioctl RevisionBased meshes
uninstalled just before the current one.

The steps are the same on every cluster (control_plane_steps): the role includes them one at a time, and Ansible runs
one include of the same step for all hosts together, so that every cluster finishes a step before any starts the
next - a remote secret needs the namespace another cluster's previous step made. What each cluster does at each step
comes from its own model (control_plane_plan); a step with nothing to do there is skipped there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# name, the role's task file that runs it, what the run says; a stage step's name is its stage. state: the only
# direction the step runs in.
STEPS = (
    {"name": "cacerts", "file": "cacerts.yml", "label": "intermediate CAs of multicluster meshes"},
    {"name": "20-control-plane", "file": "stage.yml", "label": "control planes of this cluster's own istiods",
     "wait": True},
    {"name": "tag_wait", "file": "tag_wait.yml", "label": "tags of RevisionBased meshes", "state": "present"},
    {"name": "earlier_revisions", "file": "earlier_revisions.yml",
     "label": "earlier revisions of istioctl RevisionBased meshes", "state": "absent"},
    # Sail reports remote and config clusters Ready only once the serving istiod answers: nothing waits for them.
    {"name": "21-remote-control-plane", "file": "stage.yml",
     "label": "remote and config clusters (served by an istiod elsewhere)", "wait": False},
    {"name": "remote_secrets", "file": "remote_secrets.yml", "label": "remote secrets"},
    {"name": "22-external-control-plane", "file": "stage.yml",
     "label": "external control planes (after their config cluster's secret)", "wait": True},
    {"name": "23-gateways", "file": "stage.yml", "label": "gateways of multicluster meshes (after every injector)",
     "wait": False, "template": "gateways.yml.j2"},
)


def _check(state):
    if state not in ("present", "absent"):
        raise ValueError("state must be present or absent, got {0!r}".format(state))


def control_plane_steps(state):
    """The steps of state present (the installation) or absent (its reverse), the same on every cluster:
    [{name, file, label, wait, template}] (wait and template only for stages; template None: the role's default)."""
    _check(state)
    steps = [dict({"wait": False, "template": None}, **step) for step in STEPS if step.get("state", state) == state]
    for step in steps:
        step.pop("state", None)
    return steps if state == "present" else list(reversed(steps))


def control_plane_plan(model, state):
    """{step name: [mesh names]} for the steps with something to do on this cluster (model: its multimesh_model)."""
    _check(state)
    meshes, render = model["meshes"], model["render"]
    primaries = [m for m in meshes if m["role"] == "primary"]
    revision_based = [m for m in primaries if m["update_strategy"]["type"] == "RevisionBased"]
    by_step = {
        # Remote and config clusters run no istiod: their workloads get certificates from the serving one.
        "cacerts": [] if render else [m for m in meshes if m["multicluster"] and m["role"] in ("primary", "external")],
        "20-control-plane": primaries,
        "tag_wait": revision_based if model["backend"] == "sail" and state == "present" else [],
        "earlier_revisions": revision_based if model["backend"] == "istioctl" and not render and state == "absent" else [],
        "21-remote-control-plane": [m for m in meshes if m["role"] in ("remote", "config")],
        "remote_secrets": [] if render else [m for m in meshes if m["readers"]],
        "22-external-control-plane": [m for m in meshes if m["role"] == "external"],
        "23-gateways": [m for m in meshes if m["gateways"]],
    }
    return dict((name, [m["name"] for m in found]) for name, found in by_step.items() if found)
