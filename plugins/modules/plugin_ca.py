#!/usr/bin/python
# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE), or at your option the GNU General Public License v3.0+
# (see https://www.gnu.org/licenses/gpl-3.0.txt). SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: plugin_ca
short_description: A root CA and one intermediate CA per cluster or mesh, installed as Istio's cacerts secret
version_added: 0.1.0
description:
  - Keeps a root CA in O(ca_dir) and issues one intermediate CA for O(name) (a cluster or a mesh), with
    C(cryptography), as Istio's C(tools/certs) Makefiles do - intermediate with C(pathlen:0), C(L=<name>) and the
    SAN C(istiod.<namespace>.svc).
  - Installs it as the C(cacerts) secret (C(ca-cert.pem), C(ca-key.pem), C(root-cert.pem), C(cert-chain.pem)) in the
    control-plane namespace, where istiod picks it up at start.
  - Existing material is reused, never regenerated - a second run changes nothing. A C(cacerts) secret that holds
    other material is not overwritten; the module fails and says so.
  - The same tool serves both needs - separate O(ca_dir) (roots) for meshes that must not trust each other, one
    O(ca_dir) for the clusters of one mesh.
author:
  - multimesh.istio maintainers (@multimesh-istio)
extends_documentation_fragment:
  - multimesh.istio.k8s_access
attributes:
  check_mode:
    support: full
    description: Writes no file and no secret.
  diff_mode:
    support: none
    description: Keys and certificates are not shown; RV(changes) says what would be created.
options:
  state:
    description:
      - V(absent) deletes the C(cacerts) secret if this module created it - it carries
        C(app.kubernetes.io/managed-by=multimesh.istio) and, with O(owner), C(multimesh.istio/owner=<owner>) - and it
        holds this material, or O(ca_dir) holds none (files are kept). The delete is conditional on the secret that
        was checked (uid and resourceVersion); one changed in between is kept and the task fails, saying so.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description:
      - Identity of the inventory (a label value, for example C(multimesh_model.owner)). The secret the module creates
        carries the label C(multimesh.istio/owner) with it, besides C(app.kubernetes.io/managed-by=multimesh.istio),
        and O(state=absent) removes only a secret with both.
    type: str
  name:
    description: The cluster or mesh the intermediate CA is for (a DNS-1123 label); names its directory in O(ca_dir).
    type: str
    required: true
  namespace:
    description:
      - The control-plane namespace that receives the C(cacerts) secret. With O(state=present) and O(install_secret),
        a missing one is created with the same labels as the secret (istiod must find the secret when it starts,
        before the namespace's other objects are applied); an existing one is not changed.
    type: str
    required: true
  ca_dir:
    description:
      - Directory on the host that runs the module holding C(root-key.pem), C(root-cert.pem) and one sub-directory per
        O(name). Created with mode 0700, with any missing parent; every file is written 0600.
    type: path
    required: true
  install_secret:
    description: Install the C(cacerts) secret; V(false) only keeps the files.
    type: bool
    default: true
  organization:
    description: Organization (O=) of both certificates.
    type: str
    default: Istio
  root_common_name:
    description: Common name of the root CA.
    type: str
    default: Root CA
  root_validity_days:
    description: Lifetime of a new root CA.
    type: int
    default: 3650
  validity_days:
    description: Lifetime of a new intermediate CA (never beyond the root's).
    type: int
    default: 730
  key_size:
    description: RSA key size of new keys.
    type: int
    default: 4096
  warn_days:
    description: Warn when the intermediate or the root expires within this many days.
    type: int
    default: 30
requirements:
  - kubernetes.core >= 6.0.0
  - kubernetes >= 24.2.0 (the Python client) on the host the module runs on
  - cryptography >= 42
"""

EXAMPLES = r"""
- name: One root for the clusters of mesh-1, an intermediate for cluster-1 (plug-in CA of a mesh across clusters)
  multimesh.istio.plugin_ca:
    ca_dir: "{{ playbook_dir }}/ca/mesh-1"
    name: cluster-1
    namespace: istio-system
    kubeconfig: ~/.kube/cluster-1
"""

RETURN = r"""
root_fingerprint:
  description: SHA-256 fingerprint of the root certificate; equal for clusters that share trust. Null in check mode before the root exists.
  returned: always
  type: str
  sample: 3f1c0e5a9b27d4c86e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f
intermediate_expires:
  description: Expiry of the intermediate CA (ISO 8601).
  returned: when the material exists
  type: str
  sample: "2027-12-07T13:33:28+00:00"
root_expires:
  description: Expiry of the root CA (ISO 8601).
  returned: when the material exists
  type: str
  sample: "2036-12-05T13:33:28+00:00"
files:
  description: Paths of the cacerts files of O(name), by the key each has in the C(cacerts) secret.
  returned: always
  type: dict
  sample:
    ca-cert.pem: /srv/multimesh-ca/cluster-1/ca-cert.pem
    ca-key.pem: /srv/multimesh-ca/cluster-1/ca-key.pem
    root-cert.pem: /srv/multimesh-ca/cluster-1/root-cert.pem
    cert-chain.pem: /srv/multimesh-ca/cluster-1/cert-chain.pem
changes:
  description: What was (or in check mode would be) done.
  returned: always
  type: list
  elements: str
  sample: ["create root CA in /srv/multimesh-ca", "issue intermediate CA for cluster-1", "create secret istio-system/cacerts"]
"""

import base64
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.multimesh.istio.plugins.module_utils import plugin_ca as ca
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.access import cluster_spec
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.cluster import connect_module, ref
from ansible_collections.multimesh.istio.plugins.module_utils.k8s.errors import api_failure, is_api_error
from ansible_collections.multimesh.istio.plugins.module_utils.names import DNS1123_LABEL
from ansible_collections.multimesh.istio.plugins.module_utils.ownership import carries_marks, ownership_labels

ARGUMENT_SPEC = dict(
    cluster_spec(),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    owner=dict(type="str"),
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    ca_dir=dict(type="path", required=True),
    install_secret=dict(type="bool", default=True),
    organization=dict(type="str", default="Istio"),
    root_common_name=dict(type="str", default="Root CA"),
    root_validity_days=dict(type="int", default=3650),
    validity_days=dict(type="int", default=730),
    key_size=dict(type="int", default=4096),
    warn_days=dict(type="int", default=30),
)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _write(path, data, mode):
    """Atomically: a new private file beside the target, renamed over it. The rename replaces a symlink instead of
    writing through it, and a reader never sees half a key."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _private_dirs(path):
    """Create path and every missing parent with mode 0700, whatever the umask (os.makedirs would give the parents,
    e.g. multimesh-ca above <mesh>, the umask's mode)."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return
    _private_dirs(os.path.dirname(path))
    os.mkdir(path, 0o700)
    os.chmod(path, 0o700)


def _unsafe_directory(path):
    """Why path may not hold CA keys, or None: it must be a real directory (no symlink) of this user that no one
    else may write to."""
    if os.path.islink(path):
        return "is a symbolic link"
    if not os.path.exists(path):
        return None
    if not os.path.isdir(path):
        return "is not a directory"
    info = os.stat(path)
    if info.st_uid != os.getuid():
        return "belongs to another user (uid {0})".format(info.st_uid)
    if info.st_mode & 0o022:
        return "may be written by others (mode {0:o})".format(info.st_mode & 0o777)
    return None


def check_params(params):
    """Problems with the options, each naming the option and the fix."""
    problems = []
    # The name of a cluster or mesh names a directory under ca_dir, so no '/', no '..'.
    if not DNS1123_LABEL.fullmatch(params["name"] or ""):
        problems.append("name: {0!r} is not a DNS-1123 label. Fix: name the cluster or mesh with lowercase letters, "
                        "digits and '-' (it names a directory under ca_dir).".format(params["name"]))
    if params["key_size"] < ca.MINIMUM_KEY_SIZE:
        problems.append("key_size: {0} bits is too small. Fix: use at least {1} (4096 is the default).".format(
            params["key_size"], ca.MINIMUM_KEY_SIZE))
    for path in (params["ca_dir"], os.path.join(params["ca_dir"], params["name"] or "")):
        why = _unsafe_directory(path)
        if why:
            problems.append("ca_dir: {0} {1}. Fix: keep CA keys in a directory of your own with mode 0700.".format(path, why))
    return problems


def material(module, changes):
    """Root and intermediate from ca_dir, created where missing (not in check mode); None entries in check mode."""
    p = module.params
    root_key, root_cert = os.path.join(p["ca_dir"], "root-key.pem"), os.path.join(p["ca_dir"], "root-cert.pem")
    own = os.path.join(p["ca_dir"], p["name"])
    files = {key: os.path.join(own, key) for key in ca.CACERTS_KEYS}
    if p["state"] == "absent":
        # Removal generates nothing: it compares the secret with material that already exists, if any.
        have = all(os.path.exists(path) for path in files.values())
        return files, ({key: _read(path) for key, path in files.items()} if have else None)
    if not module.check_mode:
        _private_dirs(own)
    if os.path.exists(root_cert) != os.path.exists(root_key):
        module.fail_json(msg="ca_dir: {0} holds only half of the root CA (root-cert.pem and root-key.pem go together). Fix: "
                             "restore the missing file; a new root would break trust with existing clusters.".format(p["ca_dir"]))
    if not os.path.exists(root_cert):
        changes.append("create root CA in " + p["ca_dir"])
        if module.check_mode:
            return files, None
        key_pem, cert_pem = ca.new_root(p["root_common_name"], p["organization"], p["root_validity_days"], p["key_size"])
        _write(root_key, key_pem, 0o600)
        _write(root_cert, cert_pem, 0o600)
    if not all(os.path.exists(path) for path in files.values()):
        changes.append("issue intermediate CA for {0}".format(p["name"]))
        if module.check_mode:
            return files, None
        key_pem, cert_pem = ca.new_intermediate(_read(root_key), _read(root_cert), p["name"], p["namespace"],
                                                p["organization"], p["validity_days"], p["key_size"])
        for key, data in ca.cacerts(key_pem, cert_pem, _read(root_cert)).items():
            _write(files[key], data, 0o600)
    entries = {key: _read(path) for key, path in files.items()}
    if not ca.same_root(entries["root-cert.pem"], _read(root_cert)):
        module.fail_json(msg="ca_dir: the intermediate CA of {0} was issued by another root than {1}. Fix: point ca_dir at "
                             "its root, or remove {2} to issue a new intermediate.".format(p["name"], root_cert, own))
    problems = ca.verify(entries)
    if problems:
        module.fail_json(msg="ca_dir: the material of {0} is unusable: {1}. Fix: remove {2} to issue a new intermediate.".format(
            p["name"], "; ".join(problems), own))
    return files, entries


def created_here(live, owner=None):
    """True when the live secret carries every label this module gives the secret it creates (for this owner)."""
    return carries_marks((live.get("metadata") or {}).get("labels"), owner)


def _delete(module, cluster, live, changes):
    """Delete the secret that was checked, not one replaced or changed since (the API server answers 409 then)."""
    try:
        cluster.delete(live)
    except Exception as exc:  # the 409 of a failed precondition is said; any other error goes to main
        if getattr(exc, "status", None) != 409:
            raise
        module.fail_json(msg="{0}/cacerts changed after its labels and material were checked, so it was not deleted. "
                             "Fix: run again.".format(module.params["namespace"]), changes=changes)


def _namespace(module, cluster, changes):
    """Create the control-plane namespace when it is missing, marked as this inventory's."""
    p = module.params
    if cluster.get(ref("v1", "Namespace", p["namespace"])) is None:
        changes.append("create namespace {0}".format(p["namespace"]))
        if not module.check_mode:
            cluster.create({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": p["namespace"], "labels": ownership_labels(p["owner"])}})


def secret(module, entries, changes):
    p = module.params
    cluster = connect_module(module)
    live = cluster.get(ref("v1", "Secret", "cacerts", p["namespace"]))
    stored = {k: base64.b64decode(v) for k, v in ((live.get("data") or {}) if live else {}).items()}
    ours = entries is not None and all(stored.get(k) == entries[k] for k in ca.CACERTS_KEYS)
    if p["state"] == "absent":
        # Only a secret this module created for this inventory; with no material to compare, the labels alone.
        if live is not None and created_here(live, p["owner"]) and (ours or entries is None):
            changes.append("delete secret {0}/cacerts".format(p["namespace"]))
            if not module.check_mode:
                _delete(module, cluster, live, changes)
        return
    if live is not None and not ours:
        if entries is None and stored:
            module.fail_json(msg="{0}/cacerts already holds CA material this ca_dir did not issue. Fix: use that material's "
                                 "ca_dir, or delete the secret first (and restart istiod).".format(p["namespace"]))
        if entries is not None:
            module.fail_json(msg="{0}/cacerts holds other CA material than {1}. Fix: delete the secret first if it should be "
                                 "replaced (then restart istiod), or point ca_dir at the material it holds.".format(
                                     p["namespace"], os.path.join(p["ca_dir"], p["name"])))
    if live is None:
        _namespace(module, cluster, changes)
        changes.append("create secret {0}/cacerts".format(p["namespace"]))
        if not module.check_mode:
            cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": {"name": "cacerts", "namespace": p["namespace"],
                                         "labels": ownership_labels(p["owner"])},
                            "data": {k: base64.b64encode(v).decode("ascii") for k, v in entries.items()}})


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not ca.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    problems = check_params(module.params)
    if problems:
        module.fail_json(msg=" ".join(problems), problems=problems)
    changes = []
    files, entries = material(module, changes)
    if module.params["install_secret"]:
        try:
            secret(module, entries, changes)
        except Exception as exc:  # only API errors become a message; anything else is a bug to show
            if not is_api_error(exc):
                raise
            module.fail_json(msg=api_failure(exc, "secret {0}/cacerts".format(module.params["namespace"])),
                             changes=changes)
    result = {"changed": bool(changes), "changes": changes, "files": files, "root_fingerprint": None}
    if entries is not None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        root = x509.load_pem_x509_certificate(entries["root-cert.pem"])
        result.update(root_fingerprint=root.fingerprint(hashes.SHA256()).hex(),
                      root_expires=ca.expiry(entries["root-cert.pem"]).isoformat(),
                      intermediate_expires=ca.expiry(entries["ca-cert.pem"]).isoformat())
        for label, key in (("intermediate CA", "ca-cert.pem"), ("root CA", "root-cert.pem")):
            left = ca.days_left(entries[key])
            if left < module.params["warn_days"]:
                module.warn("the {0} of {1} expires in {2} day(s); issue new material before then.".format(label, module.params["name"], left))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
