# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The manifests of a render directory as job artifacts: AWX keeps a job's set_stats data, not its files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The names render mode gives its files (plugin_utils/manifests.py manifest_files: <NN-stage>-<group>.yaml, IstioOperator
# inputs under istioctl/): nothing else in the directory - an inventory, a kubeconfig - is published.
STAGE_FILE = re.compile(r"^(istioctl/)?[0-9]{2}-[a-z0-9][a-z0-9.-]*\.yaml$")
# Documents never published with their content, whatever put them there.
SECRET_KINDS = ("Secret", "Config")


def _stage_files(root):
    """(relative path, absolute path) of the stage files under root, sorted; symbolic links are not followed."""
    found = []
    for directory in (root, os.path.join(root, "istioctl")):
        if not os.path.isdir(directory) or os.path.islink(directory):
            continue
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if STAGE_FILE.match(relative) and os.path.isfile(path) and not os.path.islink(path):
                found.append((relative, path))
    return sorted(found)


def _secret(document):
    if not isinstance(document, dict):
        return False
    return document.get("kind") in SECRET_KINDS or any(_secret(item) for item in document.get("items") or [])


def _withheld(content):
    """Why a file's content is not published, or None."""
    import yaml

    if "-----BEGIN" in content:
        return "holds PEM data"
    try:
        documents = list(yaml.safe_load_all(content))
    except yaml.YAMLError:
        return "is not YAML"
    return "holds a Secret or a kubeconfig" if any(_secret(d) for d in documents) else None


def render_artifacts(render_dir, max_bytes):
    """{dir, files: {relative path: content or None}, bytes, withheld: [reason...]} for the stage files under
    render_dir. Contents are left out (None) for a file holding a Secret, a kubeconfig or PEM data, or that cannot be
    read as UTF-8 YAML, and for every file when together they exceed max_bytes (0: names only)."""
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
        raise ValueError("multimesh_render_artifacts_max_bytes: {0!r} is not a number of bytes. Fix: set it to 0 (names "
                         "only) or more.".format(max_bytes))
    root = os.path.realpath(os.path.expanduser(render_dir))
    files, withheld, total = {}, [], 0
    for relative, path in _stage_files(root):
        total += os.path.getsize(path)
        try:
            with open(path, encoding="utf-8") as handle:
                content = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            files[relative] = None
            withheld.append("{0}: cannot be read ({1}); take it from {2}".format(relative, exc.__class__.__name__, root))
            continue
        reason = _withheld(content)
        files[relative] = None if reason else content
        if reason:
            withheld.append("{0}: {1}; take it from {2}".format(relative, reason, root))
    if total > max_bytes and files:
        files = dict((name, None) for name in files)
        withheld.append("{0} bytes in all, over multimesh_render_artifacts_max_bytes ({1}): set multimesh_render_dir "
                        "to a persistent volume, or raise the limit".format(total, max_bytes))
    return {"dir": root, "files": files, "bytes": total, "withheld": withheld}
