"""MinIO / S3: an fsspec filesystem and a boto3 client from ``S3_*`` and ``AWS_*``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _contract, _env

if TYPE_CHECKING:
    import s3fs
    from botocore.client import BaseClient

SERVICE = "s3"

# MinIO serves buckets by path (http://minio:9000/bucket/key), not by virtual host.
_ADDRESSING = {"s3": {"addressing_style": "path"}}


def _settings() -> tuple[dict[str, str], bool]:
    values = _env.read(SERVICE)
    verify = _env.choice(SERVICE, values, "S3_VERIFY_TLS", _contract.S3_VERIFY_TLS_VALUES)
    return values, verify == "true"


def filesystem(**overrides: Any) -> s3fs.S3FileSystem:
    """An ``s3fs.S3FileSystem`` on the bound endpoint (path-style addressing).

    TLS certificates are verified when ``S3_VERIFY_TLS`` is ``true``. ``overrides`` go to
    ``S3FileSystem``; everything else keeps s3fs' defaults.
    """
    import s3fs

    values, verify = _settings()
    kwargs: dict[str, Any] = {
        "key": values["AWS_ACCESS_KEY_ID"],
        "secret": values["AWS_SECRET_ACCESS_KEY"],
        "endpoint_url": values["S3_ENDPOINT_URL"],
        "client_kwargs": {"region_name": values["AWS_DEFAULT_REGION"], "verify": verify},
        "config_kwargs": dict(_ADDRESSING),
    }
    kwargs.update(overrides)
    return s3fs.S3FileSystem(**kwargs)


def client(**overrides: Any) -> BaseClient:
    """A boto3 S3 client on the bound endpoint (path-style addressing).

    ``overrides`` go to ``boto3.client``.
    """
    import boto3
    from botocore.config import Config

    values, verify = _settings()
    kwargs: dict[str, Any] = {
        "endpoint_url": values["S3_ENDPOINT_URL"],
        "aws_access_key_id": values["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": values["AWS_SECRET_ACCESS_KEY"],
        "region_name": values["AWS_DEFAULT_REGION"],
        "verify": verify,
        "config": Config(**_ADDRESSING),
    }
    kwargs.update(overrides)
    return boto3.client("s3", **kwargs)


def default_bucket() -> str:
    """``S3_BUCKET``; `BindingMissingError` when the binding names no default bucket."""
    values = _env.read(SERVICE)
    if "S3_BUCKET" not in values:
        raise _env.BindingMissingError(SERVICE, ["S3_BUCKET"])
    return values["S3_BUCKET"]
