# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The manifests of a render directory as job artifacts: AWX keeps a job's set_stats data, not its files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

MANIFEST_SUFFIXES = (".yaml", ".yml")


def _manifests(root):
    """(relative path, absolute path) of every manifest file under root, sorted; symbolic links are not followed."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not os.path.islink(os.path.join(directory, d)))
        for name in files:
            path = os.path.join(directory, name)
            if name.endswith(MANIFEST_SUFFIXES) and os.path.isfile(path) and not os.path.islink(path):
                found.append((os.path.relpath(path, root), path))
    return sorted(found)


def _holds_a_secret(content):
    """Whether a document of the file is a Secret (never published, whatever rendered it)."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(content))
    except yaml.YAMLError:
        return True  # unreadable: not published, as it could be one
    return any(isinstance(d, dict) and d.get("kind") == "Secret" for d in documents)


def render_artifacts(render_dir, max_bytes):
    """{dir, files: {relative path: content or None}, bytes, withheld: [reason...]} for the manifests under
    render_dir. Contents are left out (None) for a file holding a Secret, and for every file when together they
    exceed max_bytes (0: names only)."""
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
        raise ValueError("multimesh_render_artifacts_max_bytes: {0!r} is not a number of bytes. Fix: set it to 0 (names "
                         "only) or more.".format(max_bytes))
    root = os.path.realpath(os.path.expanduser(render_dir))
    files, withheld, total = {}, [], 0
    for relative, path in _manifests(root):
        with open(path) as handle:
            files[relative] = handle.read()
        total += len(files[relative].encode("utf-8"))
    secrets = sorted(name for name, content in files.items() if _holds_a_secret(content))
    for name in secrets:
        files[name] = None
    if secrets:
        withheld.append("{0}: holds a Secret (or is not YAML); take it from {1}".format(", ".join(secrets), root))
    if total > max_bytes and files:
        files = dict((name, None) for name in files)
        withheld.append("{0} bytes in all, over multimesh_render_artifacts_max_bytes ({1}): set multimesh_render_dir "
                        "to a persistent volume, or raise the limit".format(total, max_bytes))
    return {"dir": root, "files": files, "bytes": total, "withheld": withheld}
