"""Cloudflare Access as the hub sees it: signed tokens, and a hub configured for them.

Cloudflare itself cannot run here; what reaches the hub from it is an RS256 token in
the ``Cf-Access-Jwt-Assertion`` header (and the ``CF_Authorization`` cookie), signed with
a key published at ``https://<team>/cdn-cgi/access/certs``. ``SigningKey`` signs such
tokens with keys generated here, ``claims_for`` gives their claims, and
``tests/support/jwks.py`` serves the public halves.

``write_hub_files`` lays out a hub's configuration folder as the hub ConfigMap does (the
library's ``jupyterhub_config.py``, a ``hub_config.json`` beside it, the authenticator's
files), so ``tests/support/hub.py`` runs the product's own config file on it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TEAM = "test-team.cloudflareaccess.com"
ISSUER = f"https://{TEAM}"
#: The hub's Access application's AUD tag (a 64-hex-digit tag, as Cloudflare issues).
AUD = "a3c5e0d1f2b4" * 5 + "abcd"
HEADER = "Cf-Access-Jwt-Assertion"
COOKIE = "CF_Authorization"


class SigningKey:
    """An RSA key that signs Access-like tokens; ``jwk()`` is its public half for the JWKS."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())
        )
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


def claims_for(email: str | None, **overrides: Any) -> dict[str, Any]:
    """Claims of an Access token for ``email`` (None: no email claim), valid for 10 minutes."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": [AUD],
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "sub": str(uuid.uuid4()),
        "type": "app",
        "identity_nonce": uuid.uuid4().hex,
    }
    if email is not None:
        claims["email"] = email
    claims.update(overrides)
    return claims


def write_hub_files(
    workdir: Path,
    auth: Any,
    *,
    extra_traits: Mapping[str, Mapping[str, Any]] | None = None,
    extra_settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the hub ConfigMap's layout for an ``AuthSettings`` into ``workdir``.

    The library's ``jupyterhub_config.py``, a ``hub_config.json`` (the authenticator class,
    its traits, then ``extra_traits``; ``extra_settings`` as top-level keys) and the
    authenticator's files. Start the hub with ``start_hub(workdir)`` (its default
    ``base_config`` is that file). Returns the config file's path.
    """
    for name, text in auth.files.items():
        (workdir / name).write_text(text, encoding="utf-8")
    config = workdir / "jupyterhub_config.py"
    config.write_text(
        resources.files("jupyter_constructs.hub.files")
        .joinpath("jupyterhub_config.py")
        .read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    traits: dict[str, dict[str, Any]] = {
        "JupyterHub": {"authenticator_class": auth.authenticator_class}
    }
    for cls, values in [*auth.traits.items(), *(extra_traits or {}).items()]:
        traits.setdefault(cls, {}).update(values)
    hub_config = {"traits": traits, **(extra_settings or {})}
    (workdir / "hub_config.json").write_text(json.dumps(hub_config), encoding="utf-8")
    return config


def load_authenticator(auth: Any, directory: Path) -> Any:
    """The ``cloudflare_access`` module of an ``AuthSettings``, imported from ``directory``
    as the hub imports it from its ConfigMap folder (with ``cloudflare_access_names``)."""
    import importlib
    import sys

    for name, text in auth.files.items():
        (directory / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        for name in ("cloudflare_access", "cloudflare_access_names"):
            sys.modules.pop(name, None)
        return importlib.import_module("cloudflare_access")
    finally:
        sys.path.remove(str(directory))
        for name in ("cloudflare_access", "cloudflare_access_names"):
            sys.modules.pop(name, None)
