"""Sign-in options for ``JupyterHub(auth=...)``: each implements ``hub.auth.HubAuth``."""
