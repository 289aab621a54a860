"""How users sign in to the hub: the ``auth=`` argument of ``JupyterHub``.

Every option is a ``HubAuth``. It renders trait settings for the hub config, the
secrets the hub needs as environment variables, and any Python module the hub must
import. There is deliberately no dummy or open authenticator: a hub built with this
library always checks who is signing in.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.secrets import SecretRef

#: Where ``AuthSettings.secret_files`` appear in the hub container (read-only).
AUTH_FILES_DIR = "/etc/jupyterhub/auth-files"


@dataclass(frozen=True)
class AuthSettings:
    """What an authenticator contributes to the hub.

    Attributes:
        authenticator_class: The value of ``JupyterHub.authenticator_class``.
        traits: Trait settings by class name, merged into the hub config.
        secret_env: Environment variables of the hub container read from Secrets.
        traits_from_env: ``{"Class.trait": "ENV_VAR"}`` set from those variables in the hub.
        files: Python modules placed beside ``jupyterhub_config.py`` (importable).
        secret_files: Files the authenticator reads (a service-account key, a CA
            certificate), by file name, each one key of a Secret; mounted read-only in
            ``AUTH_FILES_DIR`` (``/etc/jupyterhub/auth-files/<name>``). Default: none.
        needs_internet_egress: The hub must reach an identity provider over HTTPS.
            Default: True.
        user_server_domain: User servers are served on hosts of their own,
            ``<name>.<user_server_domain>`` (``JupyterHub.subdomain_host``), beside the
            hub's host; the hub then sets ``public_url`` and ``subdomain_host``, the proxy
            routes by host, and entry points carry ``*.<user_server_domain>`` too.
            Default: none (user servers under the hub's host, ``/user/<name>/``).
        front_door: The edge every request must pass for sign-in to hold, when the
            authenticator trusts something that edge adds to requests (``"Cloudflare"``
            for the Access header). An entry point that does not pass it (an Ingress) is
            refused at synth unless ``other_entry_points_accepted``. Default: none.
        other_entry_points_accepted: The user said, on the sign-in option, that entry
            points bypassing ``front_door`` are intended (a ``ConfigurationWarning`` at
            synth instead of an error). Default: False.
        front_door_fix: How to accept such an entry point, for the error message.
            Default: empty.
    """

    authenticator_class: str
    traits: dict[str, dict[str, Any]]
    secret_env: dict[str, SecretRef] = field(default_factory=dict)
    traits_from_env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    secret_files: dict[str, SecretRef] = field(default_factory=dict)
    needs_internet_egress: bool = True
    user_server_domain: str | None = None
    front_door: str | None = None
    other_entry_points_accepted: bool = False
    front_door_fix: str = ""


class HubAuth(abc.ABC):
    """Base class of the sign-in options: what ``JupyterHub(auth=...)`` takes.

    The hub layer defines it; the implementations (``OidcAuth``, ``GitHubAuth``,
    ``GoogleAuth``, ``AzureAdAuth``, ``LdapAuth``, ``CloudflareAccessAuth``) are add-ons
    (``jupyter_constructs.addons.signin``).

    A custom authenticator subclasses this (docs/authentication.md, "Your own
    authenticator"; ``examples/custom_authenticator.py``): ``settings`` says which class
    the hub loads, its traits, its secrets (as ``SecretRef``, never values) and the
    Python module to ship; ``bind`` adds what it needs beside the hub through the hub's
    add-on methods, such as ``hub.allow_traffic`` for a provider on a private network.
    """

    @abc.abstractmethod
    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub served at ``https://<domain>``.

        ``scope`` is the hub construct; errors name its path.
        """

    # ``hub`` is the ``JupyterHub`` (typed ``Any`` here: hub.hub imports this module).
    def bind(self, scope: Construct, hub: Any) -> None:  # noqa: B027 (optional hook)
        """Add what this sign-in needs beside the hub's own objects (default: nothing).

        Called once, after the hub has built its parts, through ``hub.attach_addon``
        (``scope`` is the hub's ``SignIn`` construct: objects made here belong to it).
        Typical use: ``hub.allow_traffic(scope, "ProviderEgress", pod_selector={"matchLabels":
        hub.selector_labels("hub")}, egress_rules=[...])`` for a provider the hub reaches
        outside the public internet (an LDAP server, GitHub Enterprise).

        Args:
            scope: The construct objects made here belong to.
            hub: The hub being built (a ``JupyterHub``).
        """


class SignIn(Construct):
    """The hub's sign-in option as an add-on: attaching it calls ``auth.bind``.

    Args:
        scope: The hub.
        id: Construct id.
        auth: The sign-in option.
    """

    def __init__(self, scope: Construct, id: str, *, auth: HubAuth) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.auth = auth

    def bind(self, hub: Any) -> None:
        """Let the sign-in option add its objects (``HubAuth.bind``); ``hub`` is the hub."""
        self.auth.bind(self, hub)
