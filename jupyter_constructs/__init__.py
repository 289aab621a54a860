"""jupyter-constructs: a production JupyterHub on Kubernetes as cdk8s constructs.

This module only re-exports; each concept lives in its own module. The re-exports are
resolved on first use (PEP 562), so importing a pure-Python module of the package, such
as ``jupyter_constructs.binding_contract``, does not load cdk8s and node.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .argocd import ArgoCdApplication
    from .auth import AuthSettings, HubAuth, OidcAuth
    from .bindings import (
        KafkaSaslMechanism,
        KafkaSecurityProtocol,
        PlatformServiceBinding,
        PostgresSslMode,
    )
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

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "ArgoCdApplication": "argocd",
    "AuthSettings": "auth",
    "CloudflareAccessAuth": "cloudflare",
    "CloudflareTunnel": "cloudflare",
    "ConfigurationError": "errors",
    "ContainerLimits": "quota",
    "Environment": "synth",
    "ExternalSecretSource": "external_secrets",
    "Gpu": "profiles",
    "HubAuth": "auth",
    "HubDatabase": "database",
    "HubNetworkPolicies": "network",
    "IdleCuller": "culler",
    "IngressOptions": "ingress",
    "JupyterHub": "hub",
    "KafkaSaslMechanism": "bindings",
    "KafkaSecurityProtocol": "bindings",
    "NamespaceQuota": "quota",
    "NetworkOptions": "network",
    "NotebookProfile": "profiles",
    "ObservabilityBundle": "observability",
    "OidcAuth": "auth",
    "PlatformServiceBinding": "bindings",
    "PostgresSslMode": "bindings",
    "Resources": "quantities",
    "SecretRef": "secrets",
    "SharedData": "storage",
    "Toleration": "profiles",
    "UserStorage": "storage",
    "synthesize": "synth",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


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
    "KafkaSaslMechanism",
    "KafkaSecurityProtocol",
    "NamespaceQuota",
    "NetworkOptions",
    "NotebookProfile",
    "ObservabilityBundle",
    "OidcAuth",
    "PlatformServiceBinding",
    "PostgresSslMode",
    "Resources",
    "SecretRef",
    "SharedData",
    "Toleration",
    "UserStorage",
    "synthesize",
]
