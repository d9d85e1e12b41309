from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient

pytest_plugins = ["tests.fixtures"]


@pytest.fixture(scope="session")
def bootstrap_servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@pytest.fixture(scope="session")
def admin(bootstrap_servers: str) -> Iterator[AdminClient]:
    client = AdminClient({"bootstrap.servers": bootstrap_servers})
    try:
        client.describe_cluster(request_timeout=5).result(timeout=10)
    except Exception as exc:  # a clear message beats 100 timeouts
        pytest.fail(f"no Kafka broker at {bootstrap_servers} ({exc}); run `task kafka:up`")
    yield client
