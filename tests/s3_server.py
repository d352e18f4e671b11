"""A real S3 API for the tests (bench/s3.py: moto's standalone server on 127.0.0.1 on a free port,
stopped and started again by PID), and stores on it holding real pickled models.

The test process reaches it as the server does: through s3fs, with credentials and the endpoint from
the ``AWS_*`` variables only. The credentials are fake, and the tests check that they never appear
in any output.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from bench.harness import free_port
from bench.s3 import CREDENTIALS, MOTO, S3Server


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One moto server for the session; this process's ``AWS_*`` variables point at it meanwhile."""
    if not MOTO.exists():
        pytest.skip("moto[server] is not installed (pip install -e '.[dev]')")
    server = S3Server(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    saved = {k: os.environ.get(k) for k in [*CREDENTIALS, "AWS_ENDPOINT_URL"]}
    os.environ.update(CREDENTIALS, AWS_ENDPOINT_URL=server.endpoint)
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def s3fs_client() -> Any:
    """A fresh s3fs filesystem (no listing cache carried over) on the variables' endpoint."""
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)


_buckets = iter(range(1, 10**6))


def new_bucket(prefix: str = "models") -> str:
    """``s3://<a new bucket>/<prefix>``."""
    bucket = f"test-{os.getpid()}-{next(_buckets)}"
    s3fs_client().mkdir(bucket)
    return f"s3://{bucket}/{prefix}"


def put(url: str, data: bytes) -> None:
    """Write an object with no condition (what a careless writer does)."""
    s3fs_client().pipe_file(url, data)


def get(url: str) -> bytes:
    return s3fs_client().cat_file(url)


def upload_config(store: str, models: dict[str, Any], name: str = "config.yaml", **top: Any) -> str:
    """Write ``config.yaml`` (``store: model_store`` unless given) under ``store``'s parent prefix."""
    url = f"{store.rsplit('/', 1)[0]}/{name}"
    put(url, yaml.safe_dump({"store": "model_store", **top, "models": models}, sort_keys=False).encode())
    return url
