"""Load the generated hub config into the real JupyterHub, KubeSpawner and authenticator classes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from jupyterhub.app import JupyterHub as JupyterHubApp
from jupyterhub.auth import Authenticator
from jupyterhub.proxy import ConfigurableHTTPProxy
from kubespawner import KubeSpawner
from oauthenticator.generic import GenericOAuthenticator
from traitlets.config import Config, PyFileConfigLoader

from tests.support.hub import FAKE_SECRET_ENV

# Every class our config may configure. A section not listed here is a test failure.
CONFIGURABLE_CLASSES: dict[str, type] = {
    "JupyterHub": JupyterHubApp,
    "KubeSpawner": KubeSpawner,
    "Spawner": KubeSpawner,
    "Authenticator": Authenticator,
    "GenericOAuthenticator": GenericOAuthenticator,
    "ConfigurableHTTPProxy": ConfigurableHTTPProxy,
}


def load_config(config_file: Path, env: dict[str, str] | None = None) -> Config:
    """Run ``jupyterhub_config.py`` exactly as the hub does and return the resulting Config."""
    with mock.patch.dict(os.environ, {**FAKE_SECRET_ENV, **(env or {})}):
        loader = PyFileConfigLoader(config_file.name, path=str(config_file.parent))
        return loader.load_config()


def unknown_traits(config: Config, classes: dict[str, type] | None = None) -> list[str]:
    """Every ``Class.trait`` in ``config`` that is not a configurable trait of the real class."""
    classes = {**CONFIGURABLE_CLASSES, **(classes or {})}
    problems = []
    for section in sorted(config):
        cls = classes.get(section)
        if cls is None:
            problems.append(f"{section} (unknown class)")
            continue
        names = set(cls.class_trait_names(config=True))
        problems += [f"{section}.{t}" for t in sorted(config[section]) if t not in names]
    return problems


def unknown_override_keys(config: Config) -> list[str]:
    """``kubespawner_override`` keys in profile_list that KubeSpawner does not have."""
    names = set(KubeSpawner.class_trait_names(config=True))
    problems = []
    profiles = config.KubeSpawner.get("profile_list", [])
    # Restricted profiles: the hub's ProfileFilter holds the full list.
    for profile in getattr(profiles, "profiles", profiles):
        for key in profile.get("kubespawner_override", {}):
            if key not in names:
                problems.append(f"{profile['slug']}: {key}")
        for option in profile.get("profile_options", {}).values():
            for choice in option.get("choices", {}).values():
                for key in choice.get("kubespawner_override", {}):
                    if key not in names:
                        problems.append(f"{profile['slug']} option: {key}")
    return problems


@contextmanager
def mock_kubespawner(
    config: Config, user_name: str = "alice@example.com", groups: tuple[str, ...] = ()
) -> Iterator[KubeSpawner]:
    """A real KubeSpawner built from ``config``; only the Kubernetes client is mocked.

    ``groups``: the JupyterHub groups of the user (restricted profiles read them).
    """
    with (
        mock.patch("kubespawner.spawner.load_config"),
        mock.patch("kubespawner.spawner.shared_client"),
    ):
        user = SimpleNamespace(
            name=user_name,
            id=7,
            url=f"/user/{user_name}/",
            groups=[SimpleNamespace(name=g) for g in groups],
        )
        # The hub's spawner class: KubeSpawner, or the subclass the config makes of it
        # (renamed profiles: profile_access.renaming_spawner).
        spawner_class = config.JupyterHub.get("spawner_class")
        if not (isinstance(spawner_class, type) and issubclass(spawner_class, KubeSpawner)):
            spawner_class = KubeSpawner
        yield spawner_class(config=config, _mock=True, user=user)


def pod_manifest(spawner: KubeSpawner, profile_slug: str | None = None) -> dict[str, Any]:
    """Select ``profile_slug`` (if any) like the spawn form does, and render the user pod."""
    from kubernetes_asyncio.client import ApiClient

    async def render() -> dict[str, Any]:
        if profile_slug is not None:
            spawner.user_options = {"profile": profile_slug}
            await spawner.load_user_options()
        pod = await spawner.get_pod_manifest()
        return ApiClient().sanitize_for_serialization(pod)  # type: ignore[no-any-return]

    return asyncio.run(render())
