"""The ledger topology: ``escrow.events.v1`` + ``payments.events.v1`` -> one ledger per escrow
in a state store -> balanced double-entry postings on ``ledger.postings.v1`` and the invariants
they break on ``ledger.violations.v1`` (both keyed by escrow_id), exactly-once (DESIGN.md §2).

The chart of accounts is ``model.py``, the posting rules ``postings.py``, the invariants
``invariants.py``; a violation is also counted in ``ledger_invariant_violations_total``.
"""

from __future__ import annotations

import logging
from typing import Any

from quixstreams import Application
from quixstreams.state import State

from connectors.topics import ESCROW_EVENTS, LEDGER_POSTINGS, LEDGER_VIOLATIONS, PAYMENTS_EVENTS
from kernel import mapping
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.violations_pb2 import LedgerViolation
from topologies import metrics
from topologies.ledger import envelopes
from topologies.ledger.step import step
from topologies.records import Decoder, Output, Record, decoded
from topologies.settings import TopologySettings
from topologies.wiring import (
    application,
    input_topic,
    route_outputs,
    serve,
)

logger = logging.getLogger(__name__)

NAME = "ledger"
DECODERS = {
    ESCROW_EVENTS: Decoder(ESCROW_EVENTS, mapping.EVENTS, lambda e: e.meta.escrow_id),
    PAYMENTS_EVENTS: Decoder(PAYMENTS_EVENTS, mapping.PAYMENT_EVENTS, lambda e: e.meta.escrow_id),
}


def _handle(event: Any, record: Record, state: State[str, bytes]) -> Output:
    audited = step(event, state)
    for violation in audited.violations:
        logger.error("ledger invariant %s broken: %s", violation.invariant, violation.detail)
        metrics.LEDGER_VIOLATIONS.labels(violation.invariant).inc()
    return Output(
        {
            LEDGER_POSTINGS: [p for t in audited.transactions for p in envelopes.postings(t)],
            LEDGER_VIOLATIONS: [envelopes.violation(v) for v in audited.violations],
        }
    )


handle_record = decoded(DECODERS, _handle)


def build(settings: TopologySettings, registry: Any) -> Application:
    app = application(settings, NAME)
    events = app.dataframe(input_topic(app, ESCROW_EVENTS))
    sdf = events.concat(app.dataframe(input_topic(app, PAYMENTS_EVENTS)))
    sdf = sdf.apply(handle_record, stateful=True, metadata=True)
    outputs = {LEDGER_POSTINGS: LedgerPosting, LEDGER_VIOLATIONS: LedgerViolation}
    route_outputs(sdf, app, outputs, registry, [ESCROW_EVENTS, PAYMENTS_EVENTS])
    return app


def main() -> None:
    serve(build)


if __name__ == "__main__":
    main()
