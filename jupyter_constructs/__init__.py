"""jupyter-constructs: a production JupyterHub on Kubernetes as cdk8s constructs.

The package is laid out in four layers, each using only those below it (checked by
import-linter, ``make lint``):

1. ``core``: values and rules (errors, quantities, ``SecretRef``, security contexts, the
   one object builder ``KubeObject`` and the one NetworkPolicy builder);
2. ``hub``: ``JupyterHub`` and its parts, profiles and user storage (and the typed
   custom resources in ``crds``, generated from the CRD files);
3. ``addons``: sign-in, platform bindings, observability, tunnel, external secrets,
   scheduling (user scheduler, user placeholders), each attached to a hub through ``bind(hub)``;
4. ``delivery``: ``synthesize``, sync waves, ArgoCD, the portal card.

Importing it first also gives jsii (cdk8s's Node.js side) a writable package cache
(``jupyter_constructs.core.toolchain``). This module otherwise only re-exports the public
names. They are resolved on first use (PEP 562),
so importing a pure-Python module of the package, such as
``jupyter_constructs.addons.bindings.contract``, does not load cdk8s and Node.js.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core.toolchain import ensure_jsii_package_cache

# Before anything starts jsii's Node.js process: a writable package cache even where
# $HOME is not writable (read-only CI runners). See jupyter_constructs.core.toolchain.
ensure_jsii_package_cache()

if TYPE_CHECKING:
    from .addons.backups import VeleroBackups
    from .addons.bindings.services import (
        KafkaSaslMechanism,
        KafkaSecurityProtocol,
        PlatformServiceBinding,
        PostgresSslMode,
    )
    from .addons.external_secrets import ExternalSecretSource
    from .addons.observability.bundle import ObservabilityBundle
    from .addons.scheduling import UserPlaceholders, UserScheduler
    from .addons.signin.cloudflare_access import CloudflareAccessAuth
    from .addons.signin.ldap import LdapAuth
    from .addons.signin.oauth_providers import AzureAdAuth, GitHubAuth, GoogleAuth
    from .addons.signin.oidc import OidcAuth
    from .addons.tunnel import CloudflareTunnel
    from .core.errors import ConfigurationError, ConfigurationWarning
    from .core.objects import KubeObject
    from .core.quantities import Resources
    from .core.secrets import SecretRef
    from .delivery.argocd import ArgoCdApplication
    from .delivery.synth import Environment, synthesize
    from .hub.auth import AuthSettings, HubAuth
    from .hub.containers import Mount, UserContainer
    from .hub.culler import IdleCuller
    from .hub.database import HubDatabase
    from .hub.edge import GatewayRoute, PublicService
    from .hub.gpus import GpuIsolation
    from .hub.hub import HubAddon, JupyterHub
    from .hub.ingress import IngressController, IngressOptions
    from .hub.named_servers import NamedServers
    from .hub.network import ClusterDns, Cni, HubNetworkPolicies, NetworkOptions
    from .hub.prepuller import ImagePullerOptions
    from .hub.profile_options import ProfileChoice, ProfileOption, UnlistedChoice
    from .hub.profiles import Gpu, NotebookProfile, Toleration
    from .hub.quota import ContainerLimits, NamespaceQuota
    from .hub.scheduling import NodeAffinity, NodePool
    from .hub.singleuser import SingleUser
    from .hub.storage import HomeStorage, SharedData, SlugScheme, UserStorage
    from .hub.tunables import HubTunables
    from .hub.volumes import ExtraFile, FileItem, NfsExport, UserVolume, VolumeSource

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "ArgoCdApplication": "delivery.argocd",
    "AuthSettings": "hub.auth",
    "AzureAdAuth": "addons.signin.oauth_providers",
    "GitHubAuth": "addons.signin.oauth_providers",
    "GoogleAuth": "addons.signin.oauth_providers",
    "LdapAuth": "addons.signin.ldap",
    "CloudflareAccessAuth": "addons.signin.cloudflare_access",
    "CloudflareTunnel": "addons.tunnel",
    "ClusterDns": "hub.network",
    "Cni": "hub.network",
    "ConfigurationError": "core.errors",
    "ConfigurationWarning": "core.errors",
    "ContainerLimits": "hub.quota",
    "Environment": "delivery.synth",
    "ExternalSecretSource": "addons.external_secrets",
    "ExtraFile": "hub.volumes",
    "FileItem": "hub.volumes",
    "GatewayRoute": "hub.edge",
    "Gpu": "hub.profiles",
    "GpuIsolation": "hub.gpus",
    "ProfileChoice": "hub.profile_options",
    "ProfileOption": "hub.profile_options",
    "UnlistedChoice": "hub.profile_options",
    "HomeStorage": "hub.storage",
    "HubAddon": "hub.hub",
    "HubAuth": "hub.auth",
    "HubDatabase": "hub.database",
    "HubNetworkPolicies": "hub.network",
    "HubTunables": "hub.tunables",
    "IdleCuller": "hub.culler",
    "ImagePullerOptions": "hub.prepuller",
    "IngressController": "hub.ingress",
    "IngressOptions": "hub.ingress",
    "JupyterHub": "hub.hub",
    "KafkaSaslMechanism": "addons.bindings.services",
    "KafkaSecurityProtocol": "addons.bindings.services",
    "KubeObject": "core.objects",
    "Mount": "hub.containers",
    "NamedServers": "hub.named_servers",
    "NamespaceQuota": "hub.quota",
    "NetworkOptions": "hub.network",
    "NfsExport": "hub.volumes",
    "NodeAffinity": "hub.scheduling",
    "NodePool": "hub.scheduling",
    "NotebookProfile": "hub.profiles",
    "ObservabilityBundle": "addons.observability.bundle",
    "OidcAuth": "addons.signin.oidc",
    "PlatformServiceBinding": "addons.bindings.services",
    "PublicService": "hub.edge",
    "PostgresSslMode": "addons.bindings.services",
    "Resources": "core.quantities",
    "SecretRef": "core.secrets",
    "SharedData": "hub.storage",
    "SingleUser": "hub.singleuser",
    "SlugScheme": "hub.storage",
    "Toleration": "hub.profiles",
    "UserContainer": "hub.containers",
    "UserPlaceholders": "addons.scheduling",
    "UserScheduler": "addons.scheduling",
    "UserStorage": "hub.storage",
    "UserVolume": "hub.volumes",
    "VeleroBackups": "addons.backups",
    "VolumeSource": "hub.volumes",
    "synthesize": "delivery.synth",
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
    "AzureAdAuth",
    "CloudflareAccessAuth",
    "CloudflareTunnel",
    "ClusterDns",
    "Cni",
    "ConfigurationError",
    "ConfigurationWarning",
    "ContainerLimits",
    "Environment",
    "ExternalSecretSource",
    "ExtraFile",
    "FileItem",
    "GatewayRoute",
    "GitHubAuth",
    "GoogleAuth",
    "Gpu",
    "GpuIsolation",
    "HomeStorage",
    "HubAddon",
    "HubAuth",
    "HubDatabase",
    "HubNetworkPolicies",
    "HubTunables",
    "IdleCuller",
    "ImagePullerOptions",
    "IngressController",
    "IngressOptions",
    "JupyterHub",
    "KafkaSaslMechanism",
    "KafkaSecurityProtocol",
    "KubeObject",
    "LdapAuth",
    "Mount",
    "NamedServers",
    "NamespaceQuota",
    "NetworkOptions",
    "NfsExport",
    "NodeAffinity",
    "NodePool",
    "NotebookProfile",
    "ObservabilityBundle",
    "OidcAuth",
    "PlatformServiceBinding",
    "PostgresSslMode",
    "ProfileChoice",
    "ProfileOption",
    "PublicService",
    "Resources",
    "SecretRef",
    "SharedData",
    "SingleUser",
    "SlugScheme",
    "Toleration",
    "UnlistedChoice",
    "UserContainer",
    "UserPlaceholders",
    "UserScheduler",
    "UserStorage",
    "UserVolume",
    "VeleroBackups",
    "VolumeSource",
    "synthesize",
]
