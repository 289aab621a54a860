"""Pinned upstream images. One place to bump them.

An image is pinned by its digest where the digest is verified: a tag can be moved to other
content by whoever controls the repository, a digest cannot. The tag stays beside it for
humans (``PinnedImage.tag``). A digest is written here only when it was checked against a
source named in ``PinnedImage.digest_source``; an image whose digest could not be verified
yet keeps its tag, says so in ``digest_source`` (a TODO), and the objects running it carry
a scoped scanner exception naming the image (``unpinned_reason``). Never write a digest
that was not verified: a wrong digest stops every pod that uses it.

The hub image is the Zero to JupyterHub release image: it already contains JupyterHub,
KubeSpawner, oauthenticator, the idle culler, pyjwt and psycopg2. The test environment
pins the same library versions (requirements-dev.txt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class PinnedImage:
    """An upstream image: its tag for humans, its digest (when verified) for the cluster.

    Attributes:
        repository: ``registry/name``, e.g. ``"registry.k8s.io/pause"``.
        tag: The release, e.g. ``"3.10.1"``.
        digest: The multi-platform index digest ``sha256:<64 hex>``, or ``None`` while it
            is not verified.
        digest_source: How the digest was verified, or, without one, what is to be done.
    """

    repository: str
    tag: str
    digest: str | None
    digest_source: str

    def __post_init__(self) -> None:
        if self.digest is not None and not _DIGEST.match(self.digest):
            raise ValueError(f"{self.repository}: malformed digest {self.digest!r}")

    @property
    def reference(self) -> str:
        """``repository:tag@digest``, or ``repository:tag`` without a verified digest."""
        pinned = f"{self.repository}:{self.tag}"
        return f"{pinned}@{self.digest}" if self.digest else pinned


_TODO = (
    "TODO: not verified. The digest of this tag could not be checked where this release "
    "was prepared (no registry access, no published digest found); run "
    "`crane digest {ref}` (or `docker buildx imagetools inspect {ref}`) and write it here"
)


def _todo(repository: str, tag: str) -> str:
    return _TODO.format(ref=f"{repository}:{tag}")


# quay.io/jupyterhub/k8s-hub 4.4.0: jupyterhub 5.5.0, kubespawner 7.0.0, oauthenticator 17.4.0.
HUB = PinnedImage(
    "quay.io/jupyterhub/k8s-hub", "4.4.0", None, _todo("quay.io/jupyterhub/k8s-hub", "4.4.0")
)
PROXY = PinnedImage(
    "quay.io/jupyterhub/configurable-http-proxy",
    "5.2.0",
    None,
    _todo("quay.io/jupyterhub/configurable-http-proxy", "5.2.0"),
)
# The default notebook image when a profile names none (z2jh's sample image, same release).
NOTEBOOK = PinnedImage(
    "quay.io/jupyterhub/k8s-singleuser-sample",
    "4.4.0",
    None,
    _todo("quay.io/jupyterhub/k8s-singleuser-sample", "4.4.0"),
)
PAUSE = PinnedImage(
    "registry.k8s.io/pause",
    "3.10.1",
    "sha256:278fb9dbcca9518083ad1e11276933a2e96f23de604a3a08cc3c80002767d24c",
    "the same index digest pinned for registry.k8s.io/pause:3.10.1 in several independent "
    "public repositories (checked 2026-11); not pulled here",
)
CLOUDFLARED = PinnedImage(
    "cloudflare/cloudflared",
    "2025.8.0",
    None,
    _todo("cloudflare/cloudflared", "2025.8.0"),
)

#: Every image the library runs by default.
PINNED_IMAGES = (HUB, PROXY, NOTEBOOK, PAUSE, CLOUDFLARED)

HUB_IMAGE = HUB.reference
PROXY_IMAGE = PROXY.reference
DEFAULT_NOTEBOOK_IMAGE = NOTEBOOK.reference
PAUSE_IMAGE = PAUSE.reference
CLOUDFLARED_IMAGE = CLOUDFLARED.reference

# Users and groups the images run as.
HUB_UID = 1000
PROXY_UID = 65534
NOTEBOOK_UID = 1000
NOTEBOOK_FS_GID = 100


def has_digest(image: str) -> bool:
    """True when the image reference names a digest (``...@sha256:...``)."""
    return "@sha256:" in image


def unpinned_reason(images: list[str]) -> str | None:
    """The scanner-exception reason for running ``images`` without a digest.

    Returns:
        The reason, or ``None`` when every image has a digest (no exception is needed).
    """
    tagged = sorted({image for image in images if not has_digest(image)})
    if not tagged:
        return None
    known = {image.reference: image for image in PINNED_IMAGES}
    if all(image in known for image in tagged):
        return (
            f"{', '.join(tagged)} pinned by tag only: the digest is not verified yet (a TODO "
            "in jupyter_constructs/core/images.py)"
        )
    return (
        f"{', '.join(tagged)} as configured (pinned by tag, never latest); give an image "
        "with its sha256 digest to pin it"
    )
