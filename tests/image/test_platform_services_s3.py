"""s3.filesystem() and s3.client() against a real S3 API server (moto) on loopback."""

from __future__ import annotations

import pytest
from platform_services import s3

from tests.support.s3 import S3

pytestmark = pytest.mark.integration


@pytest.fixture
def bound(empty_s3: S3, monkeypatch: pytest.MonkeyPatch) -> S3:
    for name, value in empty_s3.env(bucket="notebooks").items():
        monkeypatch.setenv(name, value)
    return empty_s3


def test_client_and_filesystem_share_objects(bound: S3) -> None:
    client = s3.client()
    client.create_bucket(Bucket="notebooks")
    client.put_object(Bucket="notebooks", Key="raw/a.csv", Body=b"x,y\n1,2\n")

    fs = s3.filesystem()
    assert fs.cat("notebooks/raw/a.csv") == b"x,y\n1,2\n"
    with fs.open("notebooks/out/b.txt", "wb") as handle:
        handle.write(b"written by s3fs")

    body = client.get_object(Bucket="notebooks", Key="out/b.txt")["Body"].read()
    assert body == b"written by s3fs"
    assert sorted(fs.ls("notebooks/raw")) == ["notebooks/raw/a.csv"]


def test_client_uses_the_bound_endpoint_and_path_style(bound: S3) -> None:
    client = s3.client()
    assert client.meta.endpoint_url == bound.endpoint_url
    assert client.meta.region_name == "us-east-1"
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "notebooks", "Key": "k"}, ExpiresIn=60
    )
    assert url.startswith(f"{bound.endpoint_url}/notebooks/k?")


def test_default_bucket(bound: S3) -> None:
    assert s3.default_bucket() == "notebooks"


def test_fails_when_endpoint_is_unreachable(bound: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from tests.support.process import closed_port

    monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    client = s3.client(
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            retries={"max_attempts": 1, "mode": "standard"},
        )
    )
    with pytest.raises(EndpointConnectionError, match=r"127\.0\.0\.1"):
        client.list_buckets()
