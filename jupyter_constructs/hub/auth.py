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

from jupyter_constructs.core.secrets import SecretRef


@dataclass(frozen=True)
class AuthSettings:
    """What an authenticator contributes to the hub.

    Attributes:
        authenticator_class: The value of ``JupyterHub.authenticator_class``.
        traits: Trait settings by class name, merged into the hub config.
        secret_env: Environment variables of the hub container read from Secrets.
        traits_from_env: ``{"Class.trait": "ENV_VAR"}`` set from those variables in the hub.
        files: Python modules placed beside ``jupyterhub_config.py`` (importable).
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
    needs_internet_egress: bool = True
    user_server_domain: str | None = None
    front_door: str | None = None
    other_entry_points_accepted: bool = False
    front_door_fix: str = ""


class HubAuth(abc.ABC):
    """Base class of the sign-in options: what ``JupyterHub(auth=...)`` takes.

    The hub layer defines it; the implementations (``OidcAuth``,
    ``CloudflareAccessAuth``) are add-ons (``jupyter_constructs.addons.signin``).
    """

    @abc.abstractmethod
    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub served at ``https://<domain>``.

        ``scope`` is the hub construct; errors name its path.
        """
