"""``KubeObject``, the one object builder: it writes what cdk8s itself would write.

Each object is rendered in Python (two round-trips to cdk8s's Node.js process instead
of dozens); these tests hold the result to cdk8s's own rendering of the same data.
"""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest
from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.core import _names
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.sync_waves import SYNC_WAVE_ANNOTATION

DATA = {"10": "ten", "2": "two", "b": "bee", "a": "a", "B": "upper"}
LABELS = {"app": "hub", "z": "last", "a": "first"}


def _chart(hashes: bool = True, **options: Any) -> cdk8s.Chart:
    return cdk8s.Chart(
        cdk8s.Testing.app(), "test", disable_resource_name_hashes=not hashes, **options
    )


@pytest.mark.parametrize(
    "chart_options", [{}, {"namespace": "jupyter"}, {"labels": {"team": "data", "app": "x"}}]
)
def test_renders_like_cdk8s(chart_options: dict[str, Any]) -> None:
    """The same ConfigMap and Service, built by cdk8s's typed L1 classes and by KubeObject."""
    chart = _chart(**chart_options)
    meta = {"labels": LABELS, "annotations": {"note": "kept"}}
    pairs = [
        (
            KubeObject(
                chart,
                "cm",
                api_version="v1",
                kind="ConfigMap",
                name="cm",
                body={"data": DATA},
                wave=None,
                **meta,
            ),
            k8s.KubeConfigMap(
                chart, "their-cm", metadata=k8s.ObjectMeta(name="cm", **meta), data=DATA
            ),
        ),
        (
            KubeObject(
                chart,
                "svc",
                api_version="v1",
                kind="Service",
                name="svc",
                wave=None,
                body={
                    "spec": {
                        "selector": {"b": "2", "a": "1"},
                        "ports": [{"port": 80, "name": "http", "targetPort": "http"}],
                        "type": None,
                    }
                },
                **meta,
            ),
            k8s.KubeService(
                chart,
                "their-svc",
                metadata=k8s.ObjectMeta(name="svc", **meta),
                spec=k8s.ServiceSpec(
                    selector={"b": "2", "a": "1"},
                    ports=[
                        k8s.ServicePort(
                            port=80, name="http", target_port=k8s.IntOrString.from_string("http")
                        )
                    ],
                ),
            ),
        ),
    ]
    for ours, theirs in pairs:
        mine, reference = ours.to_json(), theirs.to_json()
        assert mine == reference
        # Same key order at every level: integer-like keys first, as JavaScript sorts.
        assert repr(mine) == repr(reference)
    assert list(pairs[0][0].to_json()["data"]) == ["2", "10", "B", "a", "b"]


def test_the_wave_of_the_kind_is_stamped_when_built() -> None:
    obj = KubeObject(_chart(), "cm", api_version="v1", kind="ConfigMap", body={"data": {}})
    assert obj.to_json()["metadata"]["annotations"] == {SYNC_WAVE_ANNOTATION: "-2"}


def test_a_late_body_sees_later_changes() -> None:
    items: list[str] = []
    obj = KubeObject(
        _chart(),
        "cm",
        api_version="v1",
        kind="ConfigMap",
        body=lambda: {"data": {"n": str(len(items))}},
    )
    items += ["a", "b"]
    assert obj.to_json()["data"] == {"n": "2"}


@pytest.mark.parametrize("hashes", [True, False])
@pytest.mark.parametrize(
    "ids",
    [
        ["a"],
        ["Binding", "config"],
        ["tunnel", "Resource"],
        ["Default", "x", "Default"],
        ["same", "same", "Same"],
        ["UPPER_case.dots", "with spaces and $ymbols"],
        ["a-very-long-construct-id-" * 3, "and-another-rather-long-one", "x" * 70],
    ],
)
def test_generated_names_match_cdk8s(ids: list[str], hashes: bool) -> None:
    """Names of unnamed objects are worked out in Python, exactly as cdk8s does."""
    chart = _chart(hashes)
    scope: Any = chart
    for id in ids[:-1]:
        scope = Construct(scope, id)
    first = KubeObject(chart, "probe", api_version="v1", kind="ConfigMap")
    assert first.name == cdk8s.ApiObject.of(first).name  # learns the chart's hash mode
    obj = KubeObject(scope, ids[-1], api_version="v1", kind="ConfigMap")
    node_name = cdk8s.ApiObject.name.fget(obj)  # type: ignore[attr-defined]
    assert obj.name == node_name
    assert _names.dns_label(obj.node.path, include_hash=hashes) == node_name


def test_cron_job_names_are_shorter() -> None:
    chart = _chart()
    KubeObject(chart, "probe", api_version="v1", kind="ConfigMap").name  # noqa: B018
    long = KubeObject(Construct(chart, "x" * 40), "y" * 30, api_version="batch/v1", kind="CronJob")
    assert long.name == cdk8s.ApiObject.name.fget(long)  # type: ignore[attr-defined]
    assert len(long.name) <= 52
