"""The ``escrow-streams`` command: ``run <topology>``, ``topics apply``, ``status``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from confluent_kafka.admin import AdminClient

from connectors import topics
from topologies.settings import KafkaSettings

logger = logging.getLogger(__name__)

# Every process `escrow-streams run <name>` starts: the module whose main() runs it.
PROCESSES = {
    "escrow": "topologies.escrow.app",
    "contracts": "topologies.contracts.app",
    "payments": "topologies.payments.app",
    "webhooks": "topologies.webhooks.app",
    "projections": "topologies.projections.app",
    "gateway": "gateway.app",
}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = _parser().parse_args(argv)
    settings = KafkaSettings()
    return int(args.handler(args, settings))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="escrow-streams")
    commands = parser.add_subparsers(required=True, metavar="command")

    apply = commands.add_parser("topics", help="manage topics").add_subparsers(required=True)
    apply_cmd = apply.add_parser("apply", help="create missing topics, correct drifted configs")
    apply_cmd.add_argument("--catalog", type=Path, default=topics.DEFAULT_CATALOG)
    apply_cmd.add_argument("--replication-factor", type=int, default=None)
    apply_cmd.set_defaults(handler=_topics_apply)

    status = commands.add_parser("status", help="is the cluster up, are the topics there")
    status.set_defaults(handler=_status)

    run = commands.add_parser("run", help="run one topology (or the gateway) until SIGTERM")
    run.add_argument("process", choices=PROCESSES)
    run.set_defaults(handler=_run)
    return parser


def _run(args: argparse.Namespace, settings: KafkaSettings) -> int:
    importlib.import_module(PROCESSES[args.process]).main()
    return 0


def _admin(settings: KafkaSettings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})


def _topics_apply(args: argparse.Namespace, settings: KafkaSettings) -> int:
    replication = args.replication_factor or settings.kafka_replication_factor
    specs = topics.load_catalog(args.catalog)
    try:
        changes = topics.apply_catalog(_admin(settings), specs, replication)
    except topics.CatalogDriftError as exc:
        logger.error("catalog drift: %s", exc)
        return 1
    for change in changes:
        logger.info("%s %s: %s", change.action, change.topic, change.detail)
    logger.info("%d topics as the catalog says (%d changed)", len(specs), len(changes))
    return 0


def _status(args: argparse.Namespace, settings: KafkaSettings) -> int:
    admin = _admin(settings)
    try:
        cluster = admin.describe_cluster(request_timeout=5).result(timeout=10)
    except Exception as exc:
        print(f"Kafka at {settings.kafka_bootstrap_servers}: unreachable ({exc})")
        return 1
    existing = admin.list_topics(timeout=10).topics
    specs = topics.load_catalog()
    missing = [s.name for s in specs if s.name not in existing]
    print(
        f"Kafka at {settings.kafka_bootstrap_servers}: up, cluster {cluster.cluster_id}, "
        f"{len(cluster.nodes)} broker(s)"
    )
    print(
        f"topics: {len(specs) - len(missing)}/{len(specs)} of the catalog present"
        + (f"; missing: {', '.join(missing)}" if missing else "")
    )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
