"""``escrow-streams reconcile [--since ISO] [--provider stripe|custodian]``: one daily pass now,
with copies of the ledger and of the reported discrepancies read afresh, its new discrepancies
produced and counted like the reconciler's; returns the summary table."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from topologies.reconciliation.app import (
    ReconcilerSettings,
    daily_parts,
    reconcile_daily,
    wait_ready,
)
from topologies.reconciliation.output import provider_of
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
    with tempfile.TemporaryDirectory(prefix="reconcile-") as workdir:
        ledger, reported, output = daily_parts(settings, Path(workdir))
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
