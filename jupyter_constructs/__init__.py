"""jupyter-constructs: a production JupyterHub on Kubernetes as cdk8s constructs.

This module only re-exports; each concept lives in its own module.
"""

from .auth import AuthSettings, HubAuth, OidcAuth
from .database import HubDatabase
from .errors import ConfigurationError
from .hub import JupyterHub
from .ingress import IngressOptions
from .quantities import Resources
from .secrets import SecretRef

__all__ = [
    "AuthSettings",
    "ConfigurationError",
    "HubAuth",
    "HubDatabase",
    "IngressOptions",
    "JupyterHub",
    "OidcAuth",
    "Resources",
    "SecretRef",
]
