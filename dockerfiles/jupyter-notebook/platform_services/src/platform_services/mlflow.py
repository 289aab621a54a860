"""MLflow: point the ``mlflow`` client at the bound tracking server."""

from __future__ import annotations

from . import _env

SERVICE = "mlflow"


def configure(experiment: str | None = None) -> str:
    """Set the tracking URI from ``MLFLOW_TRACKING_URI`` and return it.

    MLflow itself reads ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` and
    ``MLFLOW_S3_ENDPOINT_URL`` from the environment. ``experiment``: also select (and
    create if missing) that experiment. Default: MLflow's default experiment.
    """
    import mlflow

    uri = _env.read(SERVICE)["MLFLOW_TRACKING_URI"]
    mlflow.set_tracking_uri(uri)
    if experiment is not None:
        mlflow.set_experiment(experiment)
    return uri
