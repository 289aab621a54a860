"""Whatever synth accepts, the API server accepts (issue 23).

The property, for every app Hypothesis draws from the public API
(``tests/support/strategies.py``): either synth refuses it with the product's error
(``ConfigurationError``: construct path, value, what is allowed, how to fix; the output
folder untouched), or everything it renders is accepted by the real kube-apiserver:

- every object applied wave by wave, as ArgoCD applies it, with no error and no warning
  (the API server's ``Warning`` headers include PodSecurity's verdict on pod templates);
- the user PVC and pod of every profile, rendered by the real KubeSpawner 7 from the
  generated hub config, created with the hub ServiceAccount's own token in the
  namespace, whose labels enforce the restricted Pod Security Standard.

``make test`` runs ``JC_PROPERTY_EXAMPLES`` examples (default 40, derandomized so a run
is reproducible); ``make fuzz`` runs 2,000 with a fresh seed it prints. Hypothesis
shrinks a counterexample to the smallest app that breaks the rule and prints it as the
Python that builds it (``AppSpec.__repr__``). Reproduce with ``make fuzz SEED=<seed>``.
Examples found are kept in ``.hypothesis/`` (not in git) and replayed first.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings

from jupyter_constructs import ConfigurationError, synthesize
from tests.k8s.conftest import delete_namespace
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.product import render_user_pod, user_choices
from tests.support.kube.sync import namespaces_of, retarget, sync
from tests.support.strategies import AppSpec, app_specs, build_app

pytestmark = pytest.mark.k8s

EXAMPLES = int(os.environ.get("JC_PROPERTY_EXAMPLES", "40"))
FUZZING = os.environ.get("JC_FUZZ") == "1"

# The product's error: "<construct path>: invalid <what> <value>. Allowed: ... Fix: ..."
PRODUCT_ERROR = re.compile(r"^[^\n]+?: invalid .+\. Allowed: .+\. Fix: .+", re.DOTALL)
SENTINEL = "what a previous synth wrote\n"


def _synth(spec: AppSpec, outdir: Path) -> list[dict[str, Any]] | None:
    """Synthesize ``spec`` into ``outdir``; ``None`` when synth refused it (as it should)."""
    outdir.mkdir()
    (outdir / "previous.yaml").write_text(SENTINEL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synthesize(lambda app: build_app(spec, app), outdir=outdir)
    except ConfigurationError as error:
        message = str(error)
        assert PRODUCT_ERROR.match(message), f"not the product's error format: {message!r}"
        assert [p.name for p in outdir.iterdir()] == ["previous.yaml"], "output touched"
        assert (outdir / "previous.yaml").read_text() == SENTINEL, "output touched"
        note(f"refused at synth: {message}")
        event("refused at synth", message.split(": invalid ", 1)[-1].split(" ", 1)[0])
        return None
    except Exception as error:  # the property: only the product's error may escape
        raise AssertionError(
            f"synth failed with a raw {type(error).__name__} instead of ConfigurationError: "
            f"{error}"
        ) from error
    return [
        doc
        for path in sorted(outdir.rglob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _accepted(admin: KubeClient, spec: AppSpec, objects: list[dict[str, Any]]) -> None:
    namespace = f"prop-{uuid.uuid4().hex[:8]}"
    moved = retarget(objects, namespace, original=spec.namespace)
    # Namespaces the app only refers to (Prometheus's, a service's) exist in a real cluster.
    for other in sorted(namespaces_of(moved) - {namespace}):
        if not admin.exists(f"/api/v1/namespaces/{other}"):
            admin.post("/api/v1/namespaces", {"metadata": {"name": other}})
    try:
        result = sync(admin, moved)
        assert not result.errors, "the API server refused what synth accepted:\n" + (
            result.report()
        )
        assert not any(result.warnings.values()), (
            "the API server warned about what synth accepted:\n" + result.report()
        )
        quotas = f"/api/v1/namespaces/{namespace}/resourcequotas"
        wait_until(
            lambda: all(q.get("status", {}).get("hard") for q in admin.get(quotas)["items"]),
            30,
            "the quota controller",
        )
        hub = admin.as_service_account(namespace, "hub")
        for index, choice in enumerate(user_choices(moved)):
            pod, pvc = render_user_pod(moved, choice, f"user{index}@example.com")
            for obj in (pvc, pod):
                if obj is None or not obj.get("metadata"):
                    continue
                try:
                    _, warned = hub.create(obj, namespace)
                except ApiError as error:
                    if obj["kind"] == "PersistentVolumeClaim" and error.status == 409:
                        continue  # a shared home claim, or one profile's claim reused
                    raise AssertionError(
                        f"the API server refused the {obj['kind']} KubeSpawner renders for "
                        f"profile {choice.id}: {error.message}"
                    ) from error
                assert not warned, (choice.id, obj["kind"], warned)
    finally:
        delete_namespace(admin, namespace)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FUZZING,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(spec=app_specs())
def test_synth_refuses_or_the_api_server_accepts(
    spec: AppSpec, admin: KubeClient, crds: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        objects = _synth(spec, Path(tmp) / "out")
    if objects is not None:
        event("accepted at synth: judged by the API server")
        _accepted(admin, spec, objects)
