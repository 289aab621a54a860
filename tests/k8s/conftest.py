"""The API-server fixtures live in the plugin ``tests/support/kube/fixtures.py`` (loaded by
``tests/conftest.py``, shared with ``tests/consumers/``).

This module only re-exports that plugin's plain helpers under their former import path,
for test modules written before the move; import them from the plugin in new code. It
defines no fixture (a fixture re-exported here would be a second definition).
"""

from tests.support.kube.fixtures import (
    CRDS_DIR,
    DIST,
    IMAGES,
    IN_CLUSTER_ENV,
    ROOT,
    apply_product,
    crd_files,
    delete_namespace,
    install_crds,
    load_manifests_file,
)

__all__ = [
    "CRDS_DIR",
    "DIST",
    "IMAGES",
    "IN_CLUSTER_ENV",
    "ROOT",
    "apply_product",
    "crd_files",
    "delete_namespace",
    "install_crds",
    "load_manifests_file",
]
