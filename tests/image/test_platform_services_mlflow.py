"""mlflow.configure() against a real MLflow tracking server (sqlite backend)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from platform_services import mlflow as platform_mlflow

from tests.support.mlflow import Mlflow

pytestmark = pytest.mark.integration


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_logged_run_is_visible_through_the_rest_api(
    mlflow_server: Mlflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mlflow_server
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.tracking_uri)
    monkeypatch.setattr(mlflow.tracking._tracking_service.utils, "_tracking_uri", None)
    assert platform_mlflow.configure(experiment="issue-5-image") == server.tracking_uri
    assert mlflow.get_tracking_uri() == server.tracking_uri

    with mlflow.start_run(run_name="helper-check") as run:
        mlflow.log_param("model", "ridge")
        mlflow.log_metric("rmse", 0.125)

    got = _get(f"{server.tracking_uri}/api/2.0/mlflow/runs/get?run_id={run.info.run_id}")
    data = got["run"]["data"]  # type: ignore[index]
    assert {"key": "model", "value": "ridge"} in data["params"]
    assert [m["value"] for m in data["metrics"] if m["key"] == "rmse"] == [0.125]
    experiment = _get(
        f"{server.tracking_uri}/api/2.0/mlflow/experiments/get-by-name"
        "?experiment_name=issue-5-image"
    )
    assert experiment["experiment"]["experiment_id"] == run.info.experiment_id  # type: ignore[index]
