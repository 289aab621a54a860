"""Credentials from a secret store (Vault, AWS Secrets Manager, ...) through External Secrets.

Every credential in this library is a ``SecretRef``: a key of a Kubernetes Secret. That
Secret can be created by hand, or by the External Secrets operator from a store, so that
nobody runs ``kubectl create secret`` and no value is ever in git. This construct renders
the ``ExternalSecret`` (external-secrets.io/v1) and hands out the ``SecretRef``s::

    oidc = ExternalSecretSource(chart, "oidc", secret_name="jupyterhub-oidc",
                                store="vault", keys={"client-secret": "jupyterhub/oidc#secret"})
    OidcAuth(..., client_secret=oidc.ref("client-secret"))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt, chart_namespace
from jupyter_constructs.core.rules import (
    GO_DURATION_RULE,
    check,
    check_choice,
    check_dns_subdomain,
    is_clean_text,
)
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.core.sync_waves import (
    SKIP_DRY_RUN_ON_MISSING_RESOURCE,
    SYNC_OPTIONS_ANNOTATION,
    SyncWave,
)
from jupyter_constructs.crds.external_secrets import ExternalSecret
from jupyter_constructs.hub.hub import JupyterHub

if TYPE_CHECKING:
    from jupyter_constructs.crds.external_secrets.externalsecret import (
        ExternalSecretSpec,
        ExternalSecretSpecDatum,
        ExternalSecretSpecDatumRemoteRef,
    )

_STORE_KINDS: dict[str, Literal["ClusterSecretStore", "SecretStore"]] = {
    "ClusterSecretStore": "ClusterSecretStore",
    "SecretStore": "SecretStore",
}


class ExternalSecretSource(Construct):
    """A Kubernetes Secret kept in sync from a secret store by the External Secrets operator.

    Supported: External Secrets 0.16 (the first release serving ``external-secrets.io/v1``)
    and later. Every field that one of those releases defaults is rendered explicitly
    (``conversionStrategy: Default``, ``decodingStrategy: None``, ``metadataPolicy:
    None`` in each ``data`` entry; ``deletionPolicy: Retain``), so that the live object
    equals the manifest and ArgoCD does not report it OutOfSync.

    ``ref(key)`` gives the ``SecretRef`` to pass to other constructs. It is a hub add-on
    that may stay unattached: built before the hub (its refs go into ``auth=``), then
    optionally ``hub.attach_addon(source)``.

    Args:
        scope: The hub's chart.
        id: Construct id.
        secret_name: The Secret it creates (and owns) in the chart's namespace.
        store: Name of the (Cluster)SecretStore.
        keys: Secret key -> remote key in the store, ``"path"`` or ``"path#property"``.
        store_kind: ``"ClusterSecretStore"`` or ``"SecretStore"``. Default:
            ``"ClusterSecretStore"``.
        refresh_interval: How often values are re-read (a Go duration). Default: ``"1h"``.

    Raises:
        ConfigurationError: A value is invalid.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        secret_name: str,
        store: str,
        keys: Mapping[str, str],
        store_kind: str = "ClusterSecretStore",
        refresh_interval: str = "1h",
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        check_dns_subdomain(self, "secret_name", secret_name)
        check_dns_subdomain(self, "store", store)
        check_choice(
            self,
            "store_kind",
            store_kind,
            tuple(_STORE_KINDS),
            fix="use 'ClusterSecretStore' for a store shared by namespaces",
        )
        check(self, "refresh_interval", refresh_interval, GO_DURATION_RULE, fix="e.g. '1h'")
        if not isinstance(keys, Mapping) or not keys:
            raise invalid(
                self,
                "keys",
                dict(keys),
                allowed="at least one Secret key",
                fix='map each Secret key to a remote key, e.g. {"password": "db#password"}',
            )
        data: list[ExternalSecretSpecDatum] = []
        for key, remote in sorted(keys.items()):
            SecretRef(secret_name, key)  # same key rules as every reference to it
            path, _, prop = remote.partition("#") if isinstance(remote, str) else ("", "", "")
            if not path or not is_clean_text(remote) or (remote.endswith("#")):
                raise invalid(
                    self,
                    f"remote key for {key!r}",
                    remote,
                    allowed="'path' or 'path#property'",
                    fix="name the entry in the store",
                )
            # Every field the CRDs default, given explicitly: External Secrets 0.16 to 2.8
            # default these three inside spec.data, an atomic list, so a manifest
            # without them differs from the live object as a whole list and ArgoCD
            # shows the ExternalSecret OutOfSync forever.
            remote_ref: ExternalSecretSpecDatumRemoteRef = {
                "key": path,
                "conversionStrategy": "Default",
                "decodingStrategy": "None",
                "metadataPolicy": "None",
            }
            if prop:
                remote_ref["property"] = prop
            data.append({"secretKey": key, "remoteRef": remote_ref})
        self.secret_name = secret_name
        self.keys = frozenset(keys)
        spec: ExternalSecretSpec = {
            "refreshInterval": refresh_interval,
            "secretStoreRef": {"name": store, "kind": _STORE_KINDS[store_kind]},
            "target": {
                "name": secret_name,
                "creationPolicy": "Owner",
                "deletionPolicy": "Retain",
            },
            "data": data,
        }
        self.external_secret = ExternalSecret(
            self,
            "Resource",
            name=secret_name,
            # The Secret must exist before the pods that read it: CRD-typed objects go
            # last by default (wave 1), after the hub, whose health ArgoCD would wait for
            # forever. Still safe on a cluster without the CRD.
            wave=SyncWave.CONFIGURATION,
            annotations={SYNC_OPTIONS_ANNOTATION: SKIP_DRY_RUN_ON_MISSING_RESOURCE},
            spec=spec,
        )

    def bind(self, hub: JupyterHub) -> None:
        """Attach to ``hub`` (``hub.attach_addon(source)``): checks it is in the hub's namespace.

        Attaching is optional; it lets the hub list this source among its add-ons.

        Raises:
            ConfigurationError: The source's chart is not in the hub's namespace.
        """
        namespace = chart_namespace(self)
        if namespace != hub.namespace:
            raise invalid(
                self,
                "chart namespace",
                namespace,
                allowed=f"{hub.namespace!r}, the hub's namespace (pods read Secrets of "
                "their own namespace only)",
                fix="create the ExternalSecretSource in the hub's chart",
            )

    def ref(self, key: str) -> SecretRef:
        """The ``SecretRef`` for ``key`` of the Secret this source creates."""
        if key not in self.keys:
            raise invalid(
                self,
                "key",
                key,
                allowed=", ".join(sorted(self.keys)),
                fix="add the key to keys= or use one of those",
            )
        return SecretRef(self.secret_name, key)
