"""Write an inventory with N meshes of M member namespaces each (for render tests and the benchmark).

Usage: python scripts/inventory_gen.py MESHES NAMESPACES_PER_MESH OUTPUT.yml
"""
import sys

import yaml


def inventory(meshes, per_mesh):
    return {"multimesh_clusters": {
        "hosts": {"cluster-1": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "vars": {"multimesh_backend": "sail", "multimesh_samples": ["sleep", "httpbin"], "multimesh_meshes": [
            {"name": "mesh-{0}".format(m), "namespace": "istio-system-{0}".format(m),
             "members": ["mesh-{0}-app-{1}".format(m, n) for n in range(1, per_mesh + 1)]}
            for m in range(1, meshes + 1)]}}}


def main():
    meshes, per_mesh, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path, "w") as handle:
        handle.write("---\n")
        yaml.safe_dump(inventory(meshes, per_mesh), handle, default_flow_style=False, sort_keys=False)


if __name__ == "__main__":
    main()
