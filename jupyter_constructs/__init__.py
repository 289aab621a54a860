"""jupyter-constructs: a production JupyterHub on Kubernetes as cdk8s constructs.

This module only re-exports; each concept lives in its own module.
"""

from .argocd import ArgoCdApplication
from .auth import AuthSettings, HubAuth, OidcAuth
from .cloudflare import CloudflareAccessAuth, CloudflareTunnel
from .culler import IdleCuller
from .database import HubDatabase
from .errors import ConfigurationError
from .external_secrets import ExternalSecretSource
from .hub import JupyterHub
from .ingress import IngressOptions
from .network import HubNetworkPolicies, NetworkOptions
from .observability import ObservabilityBundle
from .profiles import Gpu, NotebookProfile, Toleration
from .quantities import Resources
from .quota import ContainerLimits, NamespaceQuota
from .secrets import SecretRef
from .storage import SharedData, UserStorage
from .synth import Environment, synthesize

__all__ = [
    "ArgoCdApplication",
    "AuthSettings",
    "CloudflareAccessAuth",
    "CloudflareTunnel",
    "ConfigurationError",
    "ContainerLimits",
    "Environment",
    "ExternalSecretSource",
    "Gpu",
    "HubAuth",
    "HubDatabase",
    "HubNetworkPolicies",
    "IdleCuller",
    "IngressOptions",
    "JupyterHub",
    "NamespaceQuota",
    "NetworkOptions",
    "NotebookProfile",
    "ObservabilityBundle",
    "OidcAuth",
    "Resources",
    "SecretRef",
    "SharedData",
    "Toleration",
    "UserStorage",
    "synthesize",
]
