# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""One root of trust per multicluster mesh, checked before any change: the root each cluster's `cacerts` holds and
the root in the controller's CA directory must be one and the same. A lost CA directory (an AWX job's working
directory is gone after the job) would otherwise make plugin_ca mint a second root for a cluster that joins later,
and the mesh's clusters would stop trusting each other."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import re

_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def fingerprint(pem):
    """SHA-256 fingerprint (hex, as plugin_ca's root_fingerprint) of the first certificate in PEM text, or None."""
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    found = _PEM_CERT.search(pem or "")
    if not found:
        return None
    try:
        der = base64.b64decode("".join(found.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return hashlib.sha256(der).hexdigest()


def ca_meshes(model):
    """The meshes whose istiod on this cluster gets an intermediate CA (as the control_plane role's cacerts step)."""
    return [m for m in model["meshes"] if m.get("multicluster") and m.get("role") in ("primary", "external")]


def mesh_ca_dir(model, mesh):
    return os.path.join(model["ca_dir"], mesh["name"])


def _file_fingerprint(path):
    try:
        with open(path, "rb") as handle:
            return fingerprint(handle.read())
    except (IOError, OSError):
        return None


def ca_dir_root(directory):
    """Fingerprint of the root CA kept in directory, or None when it holds none."""
    return _file_fingerprint(os.path.join(directory, "root-cert.pem"))


def held(secret, key):
    """Fingerprint of a certificate in a cacerts Secret (as read from the API: base64 data), or None."""
    data = ((secret or {}).get("data") or {}).get(key)
    if not data:
        return None
    try:
        return fingerprint(base64.b64decode(data))
    except (binascii.Error, ValueError):
        return None


def ca_roots(model, secrets):
    """One entry per CA mesh of this cluster: where its root lives on the controller and which roots (and this
    cluster's intermediate) exist there and in the cluster. Fingerprints only: no key leaves this function.

    secrets: {mesh name: the cacerts Secret of its control-plane namespace here, or None}."""
    entries = []
    cluster = (model.get("cluster") or {}).get("name")
    for mesh in ca_meshes(model):
        directory = mesh_ca_dir(model, mesh)
        secret = secrets.get(mesh["name"])
        entries.append({"mesh": mesh["name"], "cluster": cluster, "namespace": mesh["namespace"],
                        "ca_dir": directory, "ca_dir_root": ca_dir_root(directory),
                        "ca_dir_root_key": os.path.exists(os.path.join(directory, "root-key.pem")),
                        "ca_dir_intermediate": _file_fingerprint(os.path.join(directory, cluster or "", "ca-cert.pem")),
                        "held_root": held(secret, "root-cert.pem"), "held_intermediate": held(secret, "ca-cert.pem"),
                        # Every cluster of the mesh that holds a cacerts (its istiods): those that must report before
                        # a new root may be minted.
                        "ca_clusters": sorted((p["cluster"], p.get("host") or p["cluster"])
                                              for p in mesh.get("placements") or []
                                              if p.get("role") in ("primary", "external"))})
    return entries


def _short(fp):
    return fp[:16]


def _root_problem(name, found, directory):
    """Why the clusters of mesh `name` and its CA directory do not keep one usable root, or None."""
    sources = ["cluster {0} (secret {1}/cacerts) holds root {2}".format(e["cluster"], e["namespace"], _short(e["held_root"]))
               for e in found if e["held_root"]]
    kept = found[0]["ca_dir_root"]
    if kept:
        sources.append("{0} holds root {1}".format(directory, _short(kept)))
    roots = set(e["held_root"] for e in found if e["held_root"]) | ({kept} if kept else set())
    if len(roots) > 1:
        return ("mesh {0}: its clusters do not share one root CA: {1}. Fix: point multimesh_ca_dir at the directory "
                "that issued the clusters' cacerts, or delete the cacerts secrets that hold another root (then restart "
                "those istiods and their workloads).".format(name, "; ".join(sources)))
    if roots and not kept:
        return ("mesh {0}: {1}, but {2} has no root CA (root-cert.pem, root-key.pem): this run would make a second root "
                "and the mesh's clusters would stop trusting each other. Fix: point multimesh_ca_dir at the directory "
                "that holds that root - keep it on persistent storage (an AWX job's working directory is gone after the "
                "job) - or, to start over with a new root, delete the mesh's cacerts secrets on every cluster "
                "first.".format(name, "; ".join(sources), directory))
    if kept and not found[0]["ca_dir_root_key"]:
        return ("mesh {0}: {1} holds root-cert.pem without root-key.pem, so no cluster can get an intermediate. Fix: "
                "restore root-key.pem from where the directory is kept; a new root would break the trust of the "
                "clusters that hold this one.".format(name, directory))
    return None


def _unseen_problem(name, found, directory):
    """Why a new root may not be minted for mesh `name` although nothing seen holds one, or None: some cluster of the
    mesh that holds a cacerts did not report (outside --limit or multimesh_target_hosts, or failed before pre-flight),
    and it may hold the root that a lost CA directory issued."""
    if found[0]["ca_dir_root"] or any(e["held_root"] for e in found):
        return None
    seen = set(e["cluster"] for e in found)
    unseen = sorted(set((c, h) for e in found for c, h in e.get("ca_clusters") or []
                        if c not in seen), key=lambda c: c[0])
    if not unseen:
        return None
    return ("mesh {0}: {1} has no root CA, so this run would make a new one, but cluster(s) {2} of the mesh are not in "
            "this run (--limit, multimesh_target_hosts, or they failed before pre-flight) and may hold the mesh's root "
            "already: a new root would split the mesh's trust. Fix: run without --limit so that pre-flight reads every "
            "cluster of the mesh, or restore {1} (root-cert.pem, root-key.pem) from where it is kept.".format(
                name, directory, ", ".join(c if c == h else "{0} (host {1})".format(c, h) for c, h in unseen)))


def ca_trust_problems(entries):
    """Every reason issuing cacerts would split a mesh's trust, each naming the mesh, the clusters and the fix.

    entries: ca_roots() of every cluster in the play, flattened. A mesh none of whose clusters in the play nor whose CA
    directory holds a root gets a new one only when all its CA clusters reported: one left out may hold the root."""
    meshes = {}
    for entry in entries:
        meshes.setdefault(entry["mesh"], []).append(entry)
    problems = []
    for name in sorted(meshes):
        found = sorted(meshes[name], key=lambda e: e["cluster"])
        directories = sorted(set(e["ca_dir"] for e in found))
        if len(directories) > 1:
            problems.append(
                "mesh {0}: its clusters keep their root CA in different directories ({1}), so each would get a root of "
                "its own and they would not trust each other. Fix: set multimesh_ca_dir once for all clusters of the "
                "mesh (a group variable).".format(name, ", ".join(
                    "{0}: {1}".format(e["cluster"], e["ca_dir"]) for e in found)))
            continue
        root_problem = _root_problem(name, found, directories[0]) or _unseen_problem(name, found, directories[0])
        if root_problem:
            problems.append(root_problem)
            continue
        # One root, in the directory with its key: each cluster's intermediate must be the one kept beside it.
        for entry in found:
            if entry["held_intermediate"] and entry["held_intermediate"] != entry["ca_dir_intermediate"]:
                problems.append(
                    "mesh {0}: cluster {1}'s secret {2}/cacerts holds an intermediate CA that {3} does not. Fix: "
                    "restore that directory, or delete the secret to issue a new intermediate (then restart that "
                    "istiod).".format(name, entry["cluster"], entry["namespace"],
                                      os.path.join(entry["ca_dir"], entry["cluster"] or "")))
    return problems
