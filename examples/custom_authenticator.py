"""Your own sign-in option: a self-hosted GitLab on a private network (GitLabOAuthenticator).

Run: ``python examples/custom_authenticator.py`` (writes
``dist-examples/custom_authenticator/``, or ``$CDK8S_OUTDIR`` when set).

Any authenticator class the hub image ships (or one you ship yourself in ``files``) plugs
in as a ``HubAuth`` subclass, without patching rendered objects by hand:

- ``settings`` names the class, its traits, its secrets (``SecretRef``: the values stay in
  the cluster; ``traits_from_env`` sets a trait from the env var in the hub) and says
  whether the hub needs HTTPS egress to the public internet;
- ``bind`` adds what the hub needs beside it through the hub's add-on methods; here the
  hub's egress to GitLab's private addresses (``hub.allow_traffic``, rendered only when the
  hub renders NetworkPolicies).

docs/authentication.md ("Your own authenticator") says what else to check, such as loading
the rendered config into the real class in a test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cdk8s
from constructs import Construct

from jupyter_constructs import AuthSettings, HubAuth, JupyterHub, SecretRef, synthesize
from jupyter_constructs.core.network_policy import cidrs, egress, tcp

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR")
    or Path(__file__).parent.parent / "dist-examples/custom_authenticator"
)


@dataclass(frozen=True)
class GitLabAuth(HubAuth):
    """Sign-in with a self-hosted GitLab; members of ``groups`` may sign in."""

    gitlab_url: str
    gitlab_cidrs: tuple[str, ...]
    client_id: str
    client_secret: SecretRef
    groups: tuple[str, ...]

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """The class, traits and secrets the hub loads (``HubAuth.settings``)."""
        return AuthSettings(
            authenticator_class="oauthenticator.gitlab.GitLabOAuthenticator",
            traits={
                "GitLabOAuthenticator": {
                    "gitlab_url": self.gitlab_url,
                    "client_id": self.client_id,
                    # The hub moves it under base_url when the hub is served under a path.
                    "oauth_callback_url": f"https://{domain}/hub/oauth_callback",
                    "allowed_gitlab_groups": list(self.groups),
                    # Re-check users with GitLab every 5 minutes and before each start.
                    "enable_auth_state": True,
                    "auth_refresh_age": 300,
                    "refresh_pre_spawn": True,
                }
            },
            secret_env={"GITLAB_CLIENT_SECRET": self.client_secret},
            traits_from_env={"GitLabOAuthenticator.client_secret": "GITLAB_CLIENT_SECRET"},
            # GitLab is on a private network: no internet egress, a rule of its own below.
            needs_internet_egress=False,
        )

    def bind(self, scope: Construct, hub: JupyterHub) -> None:
        """The hub's egress to GitLab's private addresses (``HubAuth.bind``)."""
        hub.allow_traffic(
            scope,
            "GitLabEgress",
            name="hub-to-gitlab",
            pod_selector={"matchLabels": hub.selector_labels("hub")},
            egress_rules=[egress(cidrs(list(self.gitlab_cidrs)), [tcp(443)])],
            labels=hub.labels("network-policy"),
        )


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=GitLabAuth(
            gitlab_url="https://gitlab.internal.example.com",
            gitlab_cidrs=("10.30.0.10/32",),
            client_id="jupyterhub",
            client_secret=SecretRef("gitlab-oauth", "client-secret"),
            groups=("data-science",),
        ),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))
