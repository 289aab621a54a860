"""References to Kubernetes Secrets: how every credential enters our manifests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jupyter_constructs.core.errors import invalid

_SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


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
        if not isinstance(self.name, str) or not _SECRET_NAME.match(self.name):
            raise invalid(
                "SecretRef",
                "secret name",
                self.name,
                allowed="a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit, at most 253 characters",
                fix="name the Kubernetes Secret that holds the value, "
                'e.g. SecretRef("trino", "password")',
            )
        if not isinstance(self.key, str) or not _SECRET_KEY.match(self.key):
            raise invalid(
                "SecretRef",
                "secret key",
                self.key,
                allowed="1-253 characters of letters, digits, '-', '_' and '.'",
                fix='name the key inside the Secret, e.g. SecretRef("trino", "password")',
            )

    def env_value_from(self) -> dict[str, Any]:
        """The ``valueFrom`` of a container env var reading this key."""
        return {"secretKeyRef": {"name": self.name, "key": self.key}}
