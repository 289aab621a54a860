"""The service-catalog entry for the platform portal (jupyter_constructs.delivery.portal)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from cdk8s_plus_27 import k8s

from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.delivery.portal import (
    ANNOTATION_PREFIX,
    ServiceCatalogEntry,
    write_service_catalog,
)

# Kubernetes annotation key: optional DNS-subdomain prefix, '/', name of at most 63 chars.
_ANNOTATION_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)


def _hub(**options: Any) -> ServiceCatalogEntry:
    return ServiceCatalogEntry.jupyterhub(
        "jupyter.example.com",
        docs_url="https://docs.example.com/jupyterhub",
        dashboard_url="https://grafana.example.com/d/jupyterhub",
        **options,
    )


def test_snapshot(snapshot: Any) -> None:
    entry = _hub()
    assert {"json": entry.to_json(), "annotations": entry.ingress_annotations()} == snapshot


def test_defaults() -> None:
    entry = ServiceCatalogEntry(
        name="Trino", url="https://trino.example.com", icon="database", description="SQL."
    )
    assert entry.category == "Compute & Query"
    assert entry.docs_url is None
    assert entry.dashboard_url is None
    # Unset links are left out of both renderings.
    assert entry.to_json() == {
        "name": "Trino",
        "url": "https://trino.example.com",
        "category": "Compute & Query",
        "icon": "database",
        "description": "SQL.",
    }
    assert sorted(entry.ingress_annotations()) == [
        ANNOTATION_PREFIX + k for k in ("category", "description", "icon", "name", "url")
    ]


def test_jupyterhub_entry_has_the_briefs_facts() -> None:
    record = _hub().to_json()
    assert record["name"] == "JupyterHub"
    assert record["url"] == "https://jupyter.example.com/"
    assert record["category"] == "Compute & Query"
    assert record["icon"] == "jupyter"
    assert record["docsUrl"] == "https://docs.example.com/jupyterhub"
    assert record["dashboardUrl"] == "https://grafana.example.com/d/jupyterhub"
    assert list(record) == [
        "name",
        "url",
        "category",
        "icon",
        "description",
        "docsUrl",
        "dashboardUrl",
    ]


def test_annotations_are_valid_keys_on_a_real_ingress_and_round_trip() -> None:
    entry = _hub()
    annotations = entry.ingress_annotations()
    assert all(_ANNOTATION_KEY.match(key) for key in annotations), annotations
    chart = cdk8s.Testing.chart()
    k8s.KubeIngress(chart, "ingress", metadata={"annotations": annotations})
    (doc,) = cdk8s.Testing.synth(chart)
    found = {**doc["metadata"]["annotations"], "other.example.com/ignored": "x"}
    assert ServiceCatalogEntry.from_annotations(found) == entry


def test_write_is_deterministic_and_keeps_order(tmp_path: Path) -> None:
    trino = ServiceCatalogEntry(
        name="Trino", url="https://trino.example.com", icon="database", description="SQL."
    )
    first = write_service_catalog([_hub(), trino], tmp_path / "catalog" / "services.json")
    content = first.read_bytes()
    second = write_service_catalog([_hub(), trino], tmp_path / "again.json")
    assert second.read_bytes() == content
    assert content.endswith(b"}\n]\n")
    data = json.loads(content)
    assert [e["name"] for e in data] == ["JupyterHub", "Trino"]
    assert data[0] == _hub().to_json()
    assert sorted(p.name for p in (tmp_path / "catalog").iterdir()) == ["services.json"]
    assert oct(first.stat().st_mode & 0o777) == oct(0o644)


def test_fails_when_catalog_path_is_inside_dist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        write_service_catalog([_hub()], "dist/catalog/jupyterhub.json")
    assert str(caught.value) == (
        "write_service_catalog: invalid path 'dist/catalog/jupyterhub.json'. Allowed: a path "
        "outside dist/ (ArgoCD applies every .json file there). Fix: write it next to the "
        "portal sources, e.g. 'catalog/jupyterhub.json'"
    )
    assert not os.path.exists("dist")


def test_fails_when_two_entries_share_a_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        write_service_catalog([_hub(), _hub()], tmp_path / "c.json")
    assert str(caught.value) == (
        "write_service_catalog: invalid duplicate service name 'JupyterHub'. Allowed: each "
        "name once per catalog. Fix: rename one of the entries or drop the duplicate"
    )
    assert not (tmp_path / "c.json").exists()


def test_fails_when_url_is_not_https() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ServiceCatalogEntry(
            name="Hub", url="http://jupyter.example.com", icon="jupyter", description="x"
        )
    assert str(caught.value) == (
        "ServiceCatalogEntry: invalid url 'http://jupyter.example.com'. Allowed: an absolute "
        "https:// URL. Fix: link to the page over HTTPS, e.g. 'https://jupyter.example.com'"
    )


def test_fails_when_docs_url_is_relative() -> None:
    with pytest.raises(ConfigurationError, match=r"invalid docs_url '/docs'\. Allowed: an "):
        ServiceCatalogEntry(
            name="Hub",
            url="https://jupyter.example.com",
            icon="jupyter",
            description="x",
            docs_url="/docs",
        )


@pytest.mark.parametrize("field", ["name", "icon", "description", "category"])
def test_fails_when_a_text_field_is_empty(field: str) -> None:
    values = {"name": "Hub", "url": "https://h.example.com", "icon": "i", "description": "d"}
    values[field] = " "
    with pytest.raises(ConfigurationError) as caught:
        ServiceCatalogEntry(**values)
    assert str(caught.value) == (
        f"ServiceCatalogEntry: invalid {field} ' '. Allowed: a non-empty single-line string. "
        f"Fix: give the card's {field}"
    )


def test_fails_when_annotations_miss_a_required_fact() -> None:
    annotations = _hub().ingress_annotations()
    del annotations[ANNOTATION_PREFIX + "icon"]
    with pytest.raises(ConfigurationError, match=r"Fix: add the missing annotations: icon$"):
        ServiceCatalogEntry.from_annotations(annotations)
