"""Sign-in with GitHub: members of an organization's team, admins by login.

Run: ``python examples/github_signin.py`` (writes ``dist-examples/github_signin/``, or
``$CDK8S_OUTDIR`` when set).

Create a GitHub OAuth app with the callback ``https://jupyter.example.com/hub/oauth_callback``,
put its client secret in the Secret ``github-oauth`` (key ``client-secret``), and grant the
app access to the organization (organization settings, "Third-party access"). The hub asks
GitHub again every 5 minutes and before every server start: whoever leaves the team loses
hub access within that time.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import GitHubAuth, JupyterHub, SecretRef, synthesize

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/github_signin"
)


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=GitHubAuth(
            client_id="Iv1.0123456789abcdef",
            client_secret=SecretRef("github-oauth", "client-secret"),
            # A whole organization ("my-org") or one team ("my-org:team-slug").
            allowed_organizations=["example-org:data-science"],
            admin_users=["octocat"],
        ),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))
