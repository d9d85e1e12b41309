"""The topic catalog (DESIGN.md §2) and its idempotent application to a cluster.

The catalog is data (``infra/kafka/topics.yaml``); ``apply_catalog`` creates missing topics and
corrects drifted configs, and reports what it changed, so a second run changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

logger = logging.getLogger(__name__)

ESCROW_COMMANDS = "escrow.commands.v1"
ESCROW_EVENTS = "escrow.events.v1"
ESCROW_REMINDERS = "escrow.reminders.v1"
PAYMENTS_COMMANDS = "payments.commands.v1"
PAYMENTS_EVENTS = "payments.events.v1"
WEBHOOK_EVENTS = "webhook.events.v1"
CONTRACTS_EVENTS = "contracts.events.v1"
ESCROW_VIEWS = "escrow.views.v1"
LEDGER_POSTINGS = "ledger.postings.v1"
LEDGER_VIOLATIONS = "ledger.violations.v1"
RECONCILIATION_DISCREPANCIES = "reconciliation.discrepancies.v1"

DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / "infra" / "kafka" / "topics.yaml"
ADMIN_TIMEOUT_S = 30.0


def dlq_topic(topic: str) -> str:
    """The dead-letter twin of ``topic`` (DESIGN.md §6)."""
    return f"{topic}.dlq"


class CatalogDriftError(Exception):
    """A topic differs from the catalog in a way that must not be corrected automatically."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as the catalog wants it. ``retention_ms`` -1 = keep forever."""

    name: str
    partitions: int
    retention_ms: int
    cleanup_policy: str

    def configs(self, replication_factor: int) -> dict[str, str]:
        # Production (3 replicas) tolerates one broker down without losing acknowledged writes.
        min_isr = 2 if replication_factor >= 3 else 1
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": str(min_isr),
        }


@dataclass(frozen=True)
class Change:
    topic: str
    action: str  # "create" | "alter"
    detail: str


def load_catalog(path: Path = DEFAULT_CATALOG, partitions: int | None = None) -> list[TopicSpec]:
    """Every topic of the catalog file, ``.dlq`` twins included.

    :param path: the catalog YAML.
    :param partitions: overrides the catalog's partition count for every topic (e.g. tests).
    """
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    count = partitions or int(raw["defaults"]["partitions"])
    specs: list[TopicSpec] = []
    for entry in raw["topics"]:
        specs.append(
            TopicSpec(entry["name"], count, int(entry["retention_ms"]), entry["cleanup_policy"])
        )
        if entry.get("dlq"):
            dlq_retention = int(raw["dlq"]["retention_ms"])
            specs.append(TopicSpec(dlq_topic(entry["name"]), count, dlq_retention, "delete"))
    return specs


def apply_catalog(
    admin: AdminClient, specs: Iterable[TopicSpec], replication_factor: int
) -> list[Change]:
    """Creates missing topics and sets drifted configs; returns what changed ([] if nothing).

    :raises CatalogDriftError: an existing topic's partition count differs from the catalog.
        Changing it would move keys to other partitions (and away from their state), so it is
        left to an operator.
    """
    specs = list(specs)
    existing = admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics
    created, raced = _create(
        admin, [s for s in specs if s.name not in existing], replication_factor
    )
    present = [spec for spec in specs if spec.name in existing] + raced
    for spec in present:
        actual = _partition_count(admin, spec.name)
        if actual != spec.partitions:
            raise CatalogDriftError(
                f"{spec.name} has {actual} partitions, the catalog says {spec.partitions}"
            )
    return created + _correct_configs(admin, present, replication_factor)


def _partition_count(admin: AdminClient, topic: str) -> int:
    """The topic's partition count once the broker's metadata shows it: right after a topic is
    created, its metadata can still carry an error and no partitions, which is not drift."""

    def count() -> int:
        metadata = admin.list_topics(topic, timeout=ADMIN_TIMEOUT_S).topics[topic]
        return 0 if metadata.error is not None else len(metadata.partitions)

    retrying = Retrying(
        retry=retry_if_result(lambda n: n == 0),
        stop=stop_after_delay(ADMIN_TIMEOUT_S),
        wait=wait_fixed(0.1),
        retry_error_callback=lambda state: 0,
    )
    return int(retrying(count))


def _create(
    admin: AdminClient, specs: list[TopicSpec], replication_factor: int
) -> tuple[list[Change], list[TopicSpec]]:
    """Creates ``specs``; returns the changes and the specs whose topic already existed after all
    (metadata lags behind a recent creation, or another process created it meanwhile)."""
    if not specs:
        return [], []
    new_topics = [
        NewTopic(s.name, s.partitions, replication_factor, config=s.configs(replication_factor))
        for s in specs
    ]
    futures = admin.create_topics(new_topics, request_timeout=ADMIN_TIMEOUT_S)
    changes: list[Change] = []
    raced: list[TopicSpec] = []
    for spec, future in zip(specs, futures.values(), strict=True):
        try:
            future.result()
            changes.append(Change(spec.name, "create", f"{spec.partitions} partitions"))
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            raced.append(spec)
    return changes, raced


def _correct_configs(
    admin: AdminClient, specs: list[TopicSpec], replication_factor: int
) -> list[Change]:
    if not specs:
        return []
    resources = [ConfigResource(ResourceType.TOPIC, s.name) for s in specs]
    described = admin.describe_configs(resources, request_timeout=ADMIN_TIMEOUT_S)
    changes: list[Change] = []
    for spec, future in zip(specs, described.values(), strict=True):
        actual = {name: entry.value for name, entry in future.result().items()}
        wanted = spec.configs(replication_factor)
        drifted = {k: v for k, v in wanted.items() if actual.get(k) != v}
        if drifted:
            _set_configs(admin, spec.name, drifted)
            detail = ", ".join(f"{k}: {actual.get(k)} -> {v}" for k, v in drifted.items())
            changes.append(Change(spec.name, "alter", detail))
    return changes


def _set_configs(admin: AdminClient, topic: str, configs: dict[str, str]) -> None:
    entries = [
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()
    ]
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    for future in admin.incremental_alter_configs([resource]).values():
        future.result()
