"""The ``escrow-streams`` command: ``run <process>|all``, ``topics apply``, ``status``,
``rebuild-view``, ``reconcile``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka.admin import AdminClient
from pythonjsonlogger.json import JsonFormatter

from connectors import topics
from connectors.kafka_config import KafkaSettings
from topologies.projections import rebuild
from topologies.reconciliation import on_demand
from topologies.run_all import PROCESSES, run_all

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    handler = logging.StreamHandler()
    # Structured logs (DESIGN.md §8): one JSON object per line.
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for chatty in ("httpx", "stripe"):  # not a line per provider request
        logging.getLogger(chatty).setLevel(logging.WARNING)
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

    rebuild_cmd = commands.add_parser("rebuild-view", help="rebuild one escrow's view from events")
    rebuild_cmd.add_argument("escrow_id")
    rebuild_cmd.add_argument("--publish", action="store_true", help="produce it to escrow.views.v1")
    rebuild_cmd.set_defaults(handler=_rebuild_view)

    reconcile = commands.add_parser(
        "reconcile", help="one daily reconciliation pass now: the ledger against the providers"
    )
    reconcile.add_argument("--since", type=_utc, default=None, help="ISO time (default: window)")
    reconcile.add_argument("--provider", choices=on_demand.PROVIDER_NAMES, default=None)
    reconcile.set_defaults(handler=_reconcile)

    run = commands.add_parser("run", help="run one topology (or the gateway) until SIGTERM")
    run.add_argument("process", choices=[*PROCESSES, "all"])
    run.set_defaults(handler=_run)
    return parser


def _rebuild_view(args: argparse.Namespace, settings: KafkaSettings) -> int:
    view = rebuild.rebuild_view(settings, args.escrow_id)
    rebuild.print_view(view)
    if view is not None and args.publish:
        rebuild.publish_view(settings, view)
    return 0 if view is not None else 1


def _utc(text: str) -> datetime:
    """An ISO 8601 time; UTC when it names no zone."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _reconcile(args: argparse.Namespace, settings: KafkaSettings) -> int:
    print(on_demand.reconcile(args.since, args.provider))
    return 0


def _run(args: argparse.Namespace, settings: KafkaSettings) -> int:
    if args.process == "all":
        return run_all()
    importlib.import_module(PROCESSES[args.process]).main()
    return 0


def _admin(settings: KafkaSettings) -> AdminClient:
    return AdminClient(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, **settings.kafka_security()}
    )


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
