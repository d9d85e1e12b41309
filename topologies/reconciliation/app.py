"""The reconciler (``escrow-streams run reconciler``; seeds: "Reconciliation"): every
``RECONCILE_EVERY_S`` the hourly pass (``hourly.py``), at ``RECONCILE_DAILY_AT`` the daily pass
(``daily.py``) for every provider. It reads its own copies of ``escrow.views.v1`` and
``ledger.postings.v1`` (``state_stores``) and produces recovered webhooks and discrepancies
(``output.py``). Not a Quix application: it consumes no stream, it asks providers on a clock;
what it produces is idempotent by id, so one instance is enough and a second one harmless.
"""

from __future__ import annotations

import logging
import signal
import threading
import time as clock
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from connectors.kafka_serdes import schema_registry
from connectors.payment_rail import PaymentRail
from kernel.model import Rail
from state_stores.discrepancy_table import DiscrepancyTable
from state_stores.kafka_table import KafkaTable
from state_stores.ledger_table import LedgerTable
from state_stores.view_table import ViewTable
from topologies.reconciliation.compare import Discrepancy
from topologies.reconciliation.daily import MovedLedger, daily_pass
from topologies.reconciliation.hourly import HourlyPolicy, WaitingViews, hourly_pass
from topologies.reconciliation.output import KafkaOutput, Reported, count_from_zero, provider_of
from topologies.reconciliation.recovery import RecoveredWebhook
from topologies.reconciliation.schedule import Schedule
from topologies.settings import RailSettings

logger = logging.getLogger(__name__)

NAME = "reconciler"


class ReconcilerSettings(RailSettings):
    """The providers (``RailSettings``) and: ``RECONCILE_EVERY_S`` (3600),
    ``RECONCILE_AWAIT_FUNDS_AFTER_S`` (86400: seeds, 24 h), ``RECONCILE_PAYOUT_PENDING_AFTER_S``
    (3600), ``RECONCILE_LOOKBACK_S`` (604800: a week; older waits are left to the funding timeout
    and the daily pass),
    ``RECONCILE_DAILY_AT`` (02:00 UTC), ``RECONCILE_DAILY_EVERY_S`` (0 = daily at that time; else
    every that many seconds, first at start), ``RECONCILE_DAILY_WINDOW_S`` (172800: what the
    daily pass reads, two days so consecutive passes overlap), ``RECONCILE_LEDGER_GRACE_S`` (900:
    how long the ledger may take to record what a provider made), ``RECONCILE_PROVIDERS``
    ("stripe,custodian"), ``RECONCILE_TABLES_DIR`` (default ``<STATE_DIR>/reconciler``)."""

    reconcile_every_s: float = 3600
    reconcile_await_funds_after_s: float = 86_400
    reconcile_payout_pending_after_s: float = 3600
    reconcile_lookback_s: float = 604_800
    reconcile_daily_at: time = time(2, 0)
    reconcile_daily_every_s: float = 0
    reconcile_daily_window_s: float = 172_800
    reconcile_ledger_grace_s: float = 900
    reconcile_providers: str = "stripe,custodian"
    reconcile_tables_dir: Path | None = None

    def tables_dir(self) -> Path:
        return self.reconcile_tables_dir or self.state_dir / NAME

    def providers(self) -> dict[Rail, PaymentRail]:
        """The rails of the providers named in ``RECONCILE_PROVIDERS``."""
        wanted = {name.strip() for name in self.reconcile_providers.split(",")}
        return {rail: p for rail, p in self.rails().items() if provider_of(rail) in wanted}

    def schedule(self) -> Schedule:
        daily_every = self.reconcile_daily_every_s
        return Schedule(
            timedelta(seconds=self.reconcile_every_s),
            self.reconcile_daily_at,
            timedelta(seconds=daily_every) if daily_every else None,
        )

    def policy(self) -> HourlyPolicy:
        return HourlyPolicy(
            timedelta(seconds=self.reconcile_await_funds_after_s),
            timedelta(seconds=self.reconcile_payout_pending_after_s),
            timedelta(seconds=self.reconcile_lookback_s),
        )


class Reconciler:
    """The passes over the reconciler's parts (the composition root gives them).

    :param rails: the providers reconciled, by rail.
    :param views: a started view table; ``ledger``: a started ledger table; ``reported``: the
        discrepancies reported before.
    """

    def __init__(
        self,
        settings: ReconcilerSettings,
        rails: Mapping[Rail, PaymentRail],
        views: WaitingViews,
        ledger: MovedLedger,
        reported: Reported,
        output: KafkaOutput,
    ) -> None:
        self._settings, self._rails, self._views = settings, rails, views
        self._ledger, self._reported, self._output = ledger, reported, output

    def hourly(self, now: datetime) -> None:
        pending: list[RecoveredWebhook] = []
        hourly_pass(self._views, self._rails, pending.append, now, self._settings.policy())
        self._output.recovered(pending, now)
        logger.info("hourly reconciliation: %d webhooks recovered", len(pending))

    def daily(self, now: datetime) -> None:
        parts = self._rails, self._ledger, self._reported, self._output
        reconcile_daily(self._settings, *parts, now)


def reconcile_daily(
    settings: ReconcilerSettings,
    rails: Mapping[Rail, PaymentRail],
    ledger: MovedLedger,
    reported: Reported,
    output: KafkaOutput,
    now: datetime,
    since: datetime | None = None,
) -> tuple[list[Discrepancy], list[Discrepancy]]:
    """The daily pass over ``rails``: every discrepancy since ``since`` (default: the window
    before ``now``), and the new ones, produced and counted."""
    window = timedelta(seconds=settings.reconcile_daily_window_s)
    until = now - timedelta(seconds=settings.reconcile_ledger_grace_s)
    found = []
    for rail, provider in rails.items():
        found += daily_pass(rail, provider, ledger, since or now - window, until)
    new = output.report(found, reported, now)
    logger.info("daily reconciliation: %d discrepancies, %d new", len(found), len(new))
    return found, new


def run(reconciler: Reconciler, schedule: Schedule, stop: threading.Event) -> None:
    """Runs the passes when due until ``stop`` is set; a failed pass is logged and tried again at
    its next time."""
    now = datetime.now(UTC)
    due = {"hourly": now, "daily": now if schedule.daily_every else schedule.next_daily(now)}
    passes: dict[str, Callable[[datetime], Any]] = {
        "hourly": reconciler.hourly,
        "daily": reconciler.daily,
    }
    following = {"hourly": schedule.next_hourly, "daily": schedule.next_daily}
    while not stop.is_set():
        now = datetime.now(UTC)
        for name in [n for n, at in due.items() if at <= now]:
            try:
                passes[name](now)
            except Exception:
                logger.exception("%s reconciliation failed", name)
            due[name] = following[name](now)
        stop.wait(max((min(due.values()) - datetime.now(UTC)).total_seconds(), 0))


def daily_parts(
    settings: ReconcilerSettings, directory: Path
) -> tuple[LedgerTable, DiscrepancyTable, KafkaOutput]:
    """What a daily pass reads and writes: copies of the ledger and of the reported discrepancies
    in ``directory`` (not started), and the output."""
    bootstrap, security = settings.kafka_bootstrap_servers, settings.kafka_security()
    return (
        LedgerTable(bootstrap, directory / "ledger", consumer_config=security),
        DiscrepancyTable(bootstrap, directory / "discrepancies", consumer_config=security),
        KafkaOutput(bootstrap, schema_registry(settings.schema_registry_url), security),
    )


def wait_ready(tables: Sequence[KafkaTable], timeout_s: float = 120) -> None:
    """:raises TimeoutError: a table did not read its topic to the end in time."""
    deadline = clock.monotonic() + timeout_s
    while not all(table.ready for table in tables):
        if clock.monotonic() > deadline:
            raise TimeoutError("reconciler: tables not caught up")
        clock.sleep(0.1)


def main() -> None:
    settings = ReconcilerSettings()
    views = ViewTable(
        settings.kafka_bootstrap_servers,
        settings.tables_dir() / "views",
        consumer_config=settings.kafka_security(),
    )
    ledger, reported, output = daily_parts(settings, settings.tables_dir())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for table in (views, ledger, reported):
        table.start()
    try:
        wait_ready([views, ledger, reported])
        count_from_zero()
        if settings.metrics_port:
            start_http_server(settings.metrics_port)
        reconciler = Reconciler(settings, settings.providers(), views, ledger, reported, output)
        run(reconciler, settings.schedule(), stop)
    finally:
        for table in (views, ledger, reported):
            table.stop()


if __name__ == "__main__":
    main()
