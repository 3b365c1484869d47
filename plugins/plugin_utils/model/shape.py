# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The shape of the model build_model returns (the fact multimesh_model): every top-level key and every key of a
mesh's view, each with what it holds. tests/unit/plugins/plugin_utils/test_model_shape.py checks that models have
exactly these keys, that roles and plugins read no other, and that the module's RETURN documents MODEL_KEYS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MODEL_KEYS = {
    "backend": "sail or istioctl (multimesh_backend).",
    "platform": "kubernetes or openshift (multimesh_platform).",
    "istio_version": "The inventory's Istio version, without a leading v (multimesh_istio_version).",
    "cni": "The shared CNI: enabled, namespace, version, values.",
    "sail_operator": "The Sail Operator's Helm release: install, version, namespace, chart_repo_url, values, chart_ref.",
    "samples": "The default sample apps of a member namespace (multimesh_samples).",
    "meshes": "The meshes this cluster takes part in, each as this cluster's view of it (MESH_VIEW_KEYS).",
    "cluster": "This cluster: host, name, network.",
    "clusters": "Every cluster of the inventory, as 'cluster'.",
    "render_dir": "Where render mode writes manifests (per cluster with several), None when applying.",
    "render": "Whether this run renders manifests instead of applying them.",
    "verify_report_dir": "Where the verification writes its reports (per cluster with several).",
    "ca_dir": "The controller directory with each multicluster mesh's root CA.",
    "owner": "The inventory's identity on its clusters (label multimesh.istio/owner).",
    "field_manager": "The server-side apply field manager, named after the owner.",
    "ownership_labels": "The labels that mark what this inventory created.",
    "owner_label": "The owner label alone, for member namespaces the collection labels but may not have created.",
    "default_mesh": "The mesh whose revision is the cluster's default, or None.",
}

MESH_VIEW_KEYS = {
    # From the inventory, with defaults filled in.
    "name": "The mesh's name.",
    "namespace": "The control-plane namespace.",
    "revision": "The revision member namespaces are labelled with (a tag when RevisionBased).",
    "version": "The mesh's Istio version, without a leading v.",
    "discovery_labels": "The labels that put a namespace in the mesh.",
    "mtls_mode": "STRICT or PERMISSIVE.",
    "members": "The member namespaces, each {name, owned}.",
    "member_names": "The names of the mesh's member namespaces wherever they run (an external istiod serves them "
                    "on other clusters, so its view has no members of its own).",
    "samples": "The sample apps of each member namespace.",
    "values": "The inventory's control-plane Helm values.",
    "topology": "single, primary-remote, multi-primary or external.",
    "mesh_id": "values.global.meshID.",
    "placements": "The clusters of the mesh and their roles; None when it runs on every cluster on its own.",
    "update_strategy": "{type, inactive_revision_deletion_grace_period_seconds}.",
    "ingress_gateway": "The mesh's ingress gateway on this cluster, or None.",
    # Derived from the inventory.
    "control_plane_revision": "The revision istiod runs as (per version when RevisionBased).",
    "ingress_gateway_name": "The name its ingress gateway has (also when it has none, for removal).",
    "labelled_namespaces": "Every namespace labelled into the mesh: members and the gateway's namespace.",
    "discovery_selectors": "meshConfig.discoverySelectors.",
    "member_labels": "The labels of a member namespace (discovery labels and istio.io/rev).",
    "sidecar_egress_hosts": "The egress hosts of the Sidecar 'default' of each member namespace; [] when off.",
    # This cluster's part in the mesh (topology.local_view, link_gateways).
    "role": "primary, remote, config or external.",
    "cluster": "This cluster's name.",
    "network": "The network this cluster's istiod treats as its own.",
    "multicluster": "Whether the mesh spans clusters.",
    "istiod_service": "The name of the mesh's istiod Service.",
    "holds_config": "Whether the mesh's configuration lives here (a primary, a config cluster).",
    "readers": "The remote secrets this cluster's istiod needs, one per cluster it reads.",
    "served_by": "{cluster, address} of the istiod that serves a remote or config cluster, else None.",
    "multi_network": "Whether the mesh's data plane spans networks.",
    "eastwest_gateway": "Whether this cluster runs the mesh's east-west gateway.",
    "expose_istiod": "Whether this cluster exposes its istiod to other clusters.",
    "istiod_gateway": "The ingress gateway that exposes an external istiod here, or None.",
    "expose_address": "The address at which the other clusters reach this cluster's istiod, or None.",
    "gateways": "Whether the gateways stage has anything to do here.",
    "install_profile": "The istioctl profile of a remote, config or external cluster, else None.",
    "istiod_cluster": "The cluster ID of the istiod that serves this cluster's proxies.",
    "control_plane_clusters": "The clusters whose istiod serves a remote's control-plane namespace.",
    "fronted_namespaces": "Namespaces of external istiods this mesh's ingress gateway fronts and so discovers.",
    # Completed by build_model.
    "cluster_objects": "What the mesh's install creates outside any namespace.",
    "default": "Whether the mesh is multimesh_default_mesh.",
    "control_plane_values": "The control plane's finished Helm values.",
}
