"""``escrow-streams reconcile [--since ISO] [--provider stripe|custodian]``: one daily pass now,
with copies of the ledger and of the reported discrepancies read afresh, its new discrepancies
produced and counted like the reconciler's; returns the summary table."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from connectors.kafka_serdes import schema_registry
from state_stores.discrepancy_table import DiscrepancyTable
from state_stores.ledger_table import LedgerTable
from topologies.reconciliation.app import ReconcilerSettings, reconcile_daily, wait_ready
from topologies.reconciliation.output import KafkaOutput, provider_of
from topologies.reconciliation.summary import summary_table

PROVIDER_NAMES = ("stripe", "custodian")


def reconcile(since: datetime | None, provider: str | None) -> str:
    """:param since: UTC; None = the daily window before now.
    :param provider: one provider's name, or None for every one in ``RECONCILE_PROVIDERS``.
    :raises TimeoutError | TransientError | PermanentError: the topics or a provider could not
        be read.
    """
    settings = ReconcilerSettings()
    rails = {r: p for r, p in settings.providers().items() if provider in (None, provider_of(r))}
    bootstrap = settings.kafka_bootstrap_servers
    with tempfile.TemporaryDirectory(prefix="reconcile-") as workdir:
        security = settings.kafka_security()
        ledger = LedgerTable(bootstrap, Path(workdir) / "ledger", consumer_config=security)
        reported = DiscrepancyTable(
            bootstrap, Path(workdir) / "discrepancies", consumer_config=security
        )
        output = KafkaOutput(bootstrap, schema_registry(settings.schema_registry_url), security)
        for table in (ledger, reported):
            table.start()
        try:
            wait_ready([ledger, reported])
            now = datetime.now(UTC)
            found, new = reconcile_daily(settings, rails, ledger, reported, output, now, since)
        finally:
            for table in (ledger, reported):
                table.stop()
    return summary_table(found, new)
