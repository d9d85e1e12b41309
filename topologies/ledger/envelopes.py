"""The ledger's records on the wire: a ``Transaction`` as its ``ledger.v1.LedgerPosting`` lines
(``ledger.postings.v1``), a ``Violation`` as a ``ledger.v1.LedgerViolation``
(``ledger.violations.v1``, the finding in the ``violation`` oneof). Fields share their names with
the domain's (``kernel.mapping.fill``)."""

from __future__ import annotations

from kernel.mapping import fill, variant_name
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.violations_pb2 import LedgerViolation
from topologies.ledger.invariants import Violation
from topologies.ledger.model import Transaction


def postings(transaction: Transaction) -> list[LedgerPosting]:
    """One record per posting, in order; together they balance."""
    records = []
    for index, posting in enumerate(transaction.postings):
        record = LedgerPosting(index=index, transaction_size=len(transaction.postings))
        fill(record, transaction, skip=("postings",))
        fill(record, posting)
        records.append(record)
    return records


def violation(found: Violation) -> LedgerViolation:
    record = LedgerViolation()
    fill(record, found, skip=("finding",))
    finding = getattr(record, variant_name(type(found.finding)))
    finding.SetInParent()
    fill(finding, found.finding)
    return record
