from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from connectors.topics import (
    CatalogDriftError,
    TopicSpec,
    apply_catalog,
    dlq_topic,
    load_catalog,
)
from tests.builders import random_topic
from tests.eventually import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def catalog(tmp_path: Path, admin: AdminClient) -> Iterator[list[TopicSpec]]:
    """A two-topic catalog with random names, shaped like infra/kafka/topics.yaml."""
    events, views = random_topic("events"), random_topic("views")
    path = tmp_path / "topics.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "defaults": {"partitions": 3},
                "dlq": {"retention_ms": 2592000000},
                "topics": [
                    {
                        "name": events,
                        "retention_ms": 7776000000,
                        "cleanup_policy": "delete",
                        "dlq": True,
                    },
                    {"name": views, "retention_ms": -1, "cleanup_policy": "compact"},
                ],
            }
        )
    )
    specs = load_catalog(path)
    yield specs
    existing = admin.list_topics(timeout=10).topics
    shown = [spec.name for spec in specs if spec.name in existing]
    if shown:  # the metadata may not show topics created a moment ago; delete_topics([]) raises
        for future in admin.delete_topics(shown).values():
            future.result()


def _describe(admin: AdminClient, topic: str) -> tuple[int, dict[str, str]]:
    partitions = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    resource = ConfigResource(ResourceType.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result()
    return partitions, {name: entry.value for name, entry in configs.items()}


def wait_for_retention(admin: AdminClient, topic: str, expected: str) -> None:
    """A config change reaches the broker through the controller: it shows a moment later."""
    eventually(
        lambda: _describe(admin, topic)[1]["retention.ms"] == expected,
        30,
        interval_s=0.1,
        what=f"{topic}: retention.ms becoming {expected}",
    )


def test_the_broker_shows_every_topic_as_the_catalog_says(
    admin: AdminClient, catalog: list[TopicSpec]
) -> None:
    changes = apply_catalog(admin, catalog, replication_factor=1)

    assert {c.topic for c in changes} == {spec.name for spec in catalog}
    assert len(catalog) == 3  # events, its .dlq twin, views
    assert dlq_topic(catalog[0].name) == catalog[1].name
    for spec in catalog:
        partitions, configs = _describe(admin, spec.name)
        assert partitions == spec.partitions == 3
        assert configs["retention.ms"] == str(spec.retention_ms)
        assert configs["cleanup.policy"] == spec.cleanup_policy


def test_a_second_apply_changes_nothing(admin: AdminClient, catalog: list[TopicSpec]) -> None:
    apply_catalog(admin, catalog, replication_factor=1)

    assert apply_catalog(admin, catalog, replication_factor=1) == []


def test_apply_corrects_a_drifted_config(admin: AdminClient, catalog: list[TopicSpec]) -> None:
    apply_catalog(admin, catalog, replication_factor=1)
    events = catalog[0]
    drifted = [TopicSpec(events.name, events.partitions, 1000, "delete")]
    apply_catalog(admin, drifted, replication_factor=1)
    wait_for_retention(admin, events.name, "1000")

    changes = apply_catalog(admin, catalog, replication_factor=1)

    assert [(c.topic, c.action) for c in changes] == [(events.name, "alter")]
    wait_for_retention(admin, events.name, str(events.retention_ms))


def test_a_partition_count_mismatch_is_reported_not_changed(
    admin: AdminClient, catalog: list[TopicSpec]
) -> None:
    apply_catalog(admin, catalog, replication_factor=1)
    views = catalog[2]
    wider = [TopicSpec(views.name, 6, views.retention_ms, views.cleanup_policy)]

    with pytest.raises(CatalogDriftError, match="has 3 partitions, the catalog says 6"):
        apply_catalog(admin, wider, replication_factor=1)
    assert _describe(admin, views.name)[0] == 3


def test_the_repository_catalog_is_applied_on_the_broker(admin: AdminClient) -> None:
    specs = load_catalog()
    apply_catalog(admin, specs, replication_factor=1)

    assert apply_catalog(admin, specs, replication_factor=1) == []
    for spec in specs:
        partitions, configs = _describe(admin, spec.name)
        assert (partitions, configs["cleanup.policy"]) == (spec.partitions, spec.cleanup_policy)
        assert configs["retention.ms"] == str(spec.retention_ms)
