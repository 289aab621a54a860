"""The hub's entry in a platform portal's service catalog.

A platform portal lists its services as cards (name, link, category, icon, description,
documentation and dashboard links). ``ServiceCatalogEntry`` holds those facts once and
gives them two ways:

- ``to_json()``: one catalog record in the shape of a portal's TypeScript service list
  (camelCase keys: ``name``, ``url``, ``category``, ``icon``, ``description``,
  ``docsUrl``, ``dashboardUrl``; unset links are left out). ``write_service_catalog``
  writes a list of them to a JSON file the portal build reads (e.g.
  ``catalog/jupyterhub.json``). That file is *not* under ``dist/``: ArgoCD's directory
  source would try to apply every ``.json`` file there as a Kubernetes object.
- ``ingress_annotations()``: the same facts as Ingress annotations under
  ``service-catalog.jupyter-constructs.io/``, for portals that discover services from
  the cluster. ``from_annotations`` reads them back.

Example::

    entry = ServiceCatalogEntry.jupyterhub(
        "jupyter.example.com", docs_url="https://docs.example.com/jupyterhub")
    write_service_catalog([entry], "catalog/jupyterhub.json")
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import stable_json
from jupyter_constructs.core.rules import is_clean_text, is_url
from jupyter_constructs.hub.hub import check_base_url

ANNOTATION_PREFIX = "service-catalog.jupyter-constructs.io/"
"""Prefix of the Ingress annotations written by ``ingress_annotations``."""

DEFAULT_CATEGORY = "Compute & Query"

# Record key -> (attribute, annotation name). The order is the order of the output.
_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "name", "name"),
    ("url", "url", "url"),
    ("category", "category", "category"),
    ("icon", "icon", "icon"),
    ("description", "description", "description"),
    ("docsUrl", "docs_url", "docs-url"),
    ("dashboardUrl", "dashboard_url", "dashboard-url"),
)
_URL_FIELDS = ("url", "docs_url", "dashboard_url")


def _is_https_url(value: object) -> bool:
    return is_url(value, ("https",))


@dataclass(frozen=True)
class ServiceCatalogEntry:
    """One service card of the portal's catalog.

    - ``name``: display name, e.g. ``"JupyterHub"``; unique within a catalog.
    - ``url``: where the card links to (https://).
    - ``icon``: icon name as the portal knows it, e.g. ``"jupyter"``.
    - ``description``: one sentence for the card.
    - ``category``: the catalog section. Default: ``"Compute & Query"``.
    - ``docs_url``, ``dashboard_url``: optional https:// links (user docs, Grafana
      dashboard). Default: none, the card shows no such link.
    """

    name: str
    url: str
    icon: str
    description: str
    category: str = DEFAULT_CATEGORY
    docs_url: str | None = None
    dashboard_url: str | None = None

    def __post_init__(self) -> None:
        for attr in ("name", "icon", "description", "category"):
            value = getattr(self, attr)
            if not is_clean_text(value) or not value:
                raise invalid(
                    "ServiceCatalogEntry",
                    attr,
                    value,
                    allowed="a non-empty single-line string",
                    fix=f"give the card's {attr}",
                )
        for attr in _URL_FIELDS:
            value = getattr(self, attr)
            if value is None and attr != "url":
                continue
            if not _is_https_url(value):
                raise invalid(
                    "ServiceCatalogEntry",
                    attr,
                    value,
                    allowed="an absolute https:// URL" + ("" if attr == "url" else " or None"),
                    fix="link to the page over HTTPS, e.g. 'https://jupyter.example.com'",
                )

    @classmethod
    def jupyterhub(
        cls,
        domain: str,
        *,
        docs_url: str | None = None,
        dashboard_url: str | None = None,
        category: str = DEFAULT_CATEGORY,
        base_url: str = "/",
    ) -> ServiceCatalogEntry:
        """The JupyterHub card for a hub served at ``https://<domain><base_url>``.

        ``base_url`` is the hub's (``JupyterHub(base_url=...)``). Default: ``"/"``.

        Raises:
            ConfigurationError: ``base_url`` is not ``/`` or a ``/path/`` (``check_base_url``),
                or a field is not valid.
        """
        check_base_url("ServiceCatalogEntry", base_url)
        return cls(
            name="JupyterHub",
            url=f"https://{domain}{base_url}",
            icon="jupyter",
            description="Interactive Jupyter notebooks with the data platform's services "
            "(Trino, object storage, MLflow, Ray, Kafka) already connected.",
            category=category,
            docs_url=docs_url,
            dashboard_url=dashboard_url,
        )

    def to_json(self) -> dict[str, str]:
        """The catalog record: camelCase keys, links that are not set left out."""
        record: dict[str, str] = {}
        for key, attr, _ in _FIELDS:
            value = getattr(self, attr)
            if value is not None:
                record[key] = value
        return record

    def ingress_annotations(self) -> dict[str, str]:
        """The same facts as Ingress annotations ``service-catalog.jupyter-constructs.io/*``."""
        annotations: dict[str, str] = {}
        for _, attr, annotation in _FIELDS:
            value = getattr(self, attr)
            if value is not None:
                annotations[ANNOTATION_PREFIX + annotation] = value
        return annotations

    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str]) -> ServiceCatalogEntry:
        """Read an entry back from annotations written by ``ingress_annotations``.

        Annotations without our prefix are ignored; a missing required one raises.
        """
        values: dict[str, Any] = {}
        for _, attr, annotation in _FIELDS:
            key = ANNOTATION_PREFIX + annotation
            if key in annotations:
                values[attr] = annotations[key]
        missing = [a for a in ("name", "url", "icon", "description") if a not in values]
        if missing:
            raise invalid(
                "ServiceCatalogEntry",
                "annotations",
                sorted(k for k in annotations if k.startswith(ANNOTATION_PREFIX)),
                allowed="all of "
                + ", ".join(ANNOTATION_PREFIX + m for m in ("name", "url", "icon", "description")),
                fix=f"add the missing annotations: {', '.join(missing)}",
            )
        return cls(**values)


def write_service_catalog(
    entries: Iterable[ServiceCatalogEntry],
    path: str | Path,
    *,
    dist: str | Path = "dist",
) -> Path:
    """Write ``entries`` as a JSON list to ``path``; same entries, same bytes.

    Entries keep the order given (the portal shows them in that order); names must be
    unique. The file is replaced in one step (a reader never sees half a file). Paths
    inside ``dist`` (default ``dist``, relative to the working directory) are refused,
    because ArgoCD would apply the file as a manifest. Returns ``path``.
    """
    items = list(entries)
    seen: set[str] = set()
    for entry in items:
        if not isinstance(entry, ServiceCatalogEntry):
            raise invalid(
                "write_service_catalog",
                "entry",
                entry,
                allowed="ServiceCatalogEntry objects",
                fix="build each card with ServiceCatalogEntry(...)",
            )
        if entry.name in seen:
            raise invalid(
                "write_service_catalog",
                "duplicate service name",
                entry.name,
                allowed="each name once per catalog",
                fix="rename one of the entries or drop the duplicate",
            )
        seen.add(entry.name)
    target = Path(path)
    if target.resolve().is_relative_to(Path(dist).resolve()):
        raise invalid(
            "write_service_catalog",
            "path",
            str(path),
            allowed=f"a path outside {dist}/ (ArgoCD applies every .json file there)",
            fix="write it next to the portal sources, e.g. 'catalog/jupyterhub.json'",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    content = stable_json([entry.to_json() for entry in items])
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
