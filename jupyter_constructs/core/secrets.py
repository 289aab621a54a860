"""References to Kubernetes Secrets: how every credential enters our manifests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.rules import is_config_map_key, is_dns_subdomain


@dataclass(frozen=True)
class SecretRef:
    """One key of a Kubernetes Secret in the chart's namespace.

    Only the reference lands in ``dist/``; the value stays in the cluster (created by
    hand, by External Secrets, or by the hub's bootstrap Job).

    Example: ``SecretRef("trino-credentials", "password")``.

    Attributes:
        name: The Secret's name (a DNS-1123 subdomain).
        key: The key inside the Secret.

    Raises:
        ConfigurationError: ``name`` or ``key`` is not a valid Secret name or key.
    """

    name: str
    key: str

    def __post_init__(self) -> None:
        if not is_dns_subdomain(self.name):
            raise invalid(
                "SecretRef",
                "secret name",
                self.name,
                allowed="a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit, at most 253 characters",
                fix="name the Kubernetes Secret that holds the value, "
                'e.g. SecretRef("trino", "password")',
            )
        if not is_config_map_key(self.key):
            raise invalid(
                "SecretRef",
                "secret key",
                self.key,
                allowed="1-253 characters of letters, digits, '-', '_' and '.', not '.' or "
                "starting with '..' (IsConfigMapKey)",
                fix='name the key inside the Secret, e.g. SecretRef("trino", "password")',
            )

    def env_value_from(self) -> dict[str, Any]:
        """The ``valueFrom`` of a container env var reading this key."""
        return {"secretKeyRef": {"name": self.name, "key": self.key}}


def hidden(value: object) -> str:
    """How a message shows a value that may be a credential: never the value itself."""
    if isinstance(value, SecretRef):
        return repr(value)
    return "<plain str, value hidden>" if isinstance(value, str) else type(value).__name__


def check_secret(
    where: Where, what: str, value: object, *, optional: bool = False
) -> SecretRef | None:
    """Return ``value`` if it is a SecretRef (or None when ``optional``).

    A plain value is refused without echoing it: it is most likely the credential itself.

    Raises:
        ConfigurationError: ``value`` is not a SecretRef.
    """
    if value is None and optional:
        return None
    if isinstance(value, SecretRef):
        return value
    raise invalid(
        where,
        what,
        hidden(value),
        allowed="a SecretRef(name, key) naming the Kubernetes Secret that holds it",
        fix=f'pass {what}=SecretRef("<secret name>", "<key>"); credentials never go in code '
        "or in dist/",
    )
