"""A reconciliation pass for people: counts per provider and kind, then each discrepancy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from topologies.reconciliation.compare import Discrepancy
from topologies.reconciliation.output import provider_of


def summary_table(found: Sequence[Discrepancy], new: Sequence[Discrepancy]) -> str:
    """``found``: every discrepancy of the pass; ``new``: those no pass had reported before."""
    new_ids = {d.discrepancy_id for d in new}
    counts = Counter((provider_of(d.rail), d.kind.name.lower()) for d in found)
    lines = [f"{'provider':<10} {'kind':<20} {'count':>5}"]
    lines += [f"{p:<10} {k:<20} {n:>5}" for (p, k), n in sorted(counts.items())]
    lines.append(f"{len(found)} discrepancies, {len(new_ids)} new")
    for d in found:
        mark = "new" if d.discrepancy_id in new_ids else "   "
        kind, escrow_id = d.kind.name.lower(), d.escrow_id or "-"
        lines.append(f"{mark} {provider_of(d.rail):<10} {kind:<20} {escrow_id}  {d.detail}")
    return "\n".join(lines)
