"""Pinned upstream images. One place to bump them; every one is pinned by tag.

The hub image is the Zero to JupyterHub release image: it already contains
JupyterHub, KubeSpawner, oauthenticator, the idle culler, pyjwt and psycopg2. The test
environment pins the same library versions (requirements-dev.txt).
"""

# quay.io/jupyterhub/k8s-hub 4.4.0: jupyterhub 5.5.0, kubespawner 7.0.0, oauthenticator 17.4.0.
HUB_IMAGE = "quay.io/jupyterhub/k8s-hub:4.4.0"
PROXY_IMAGE = "quay.io/jupyterhub/configurable-http-proxy:5.2.0"
# The default notebook image when a profile names none (z2jh's sample image, same release).
DEFAULT_NOTEBOOK_IMAGE = "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"

# Users and groups the images run as.
HUB_UID = 1000
PROXY_UID = 65534
NOTEBOOK_UID = 1000
NOTEBOOK_FS_GID = 100
