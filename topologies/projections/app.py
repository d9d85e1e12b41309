"""The projections topology: ``escrow.events.v1`` + ``payments.events.v1`` -> one view per escrow
in a state store -> ``escrow.views.v1`` (compacted), exactly-once (DESIGN.md §1, §7).

Rebuild: run it under a new consumer group prefix (``CONSUMER_GROUP_PREFIX``) with an empty
``STATE_DIR``; it replays both topics from the start and emits every view again (compaction then
keeps the newest). The README has the procedure.
"""

from __future__ import annotations

from typing import Any

from quixstreams import Application
from quixstreams.state import State

from connectors.topics import ESCROW_EVENTS, ESCROW_VIEWS, PAYMENTS_EVENTS
from kernel import mapping
from schemas.escrow.v1.views_pb2 import EscrowView
from topologies.projections.project import project
from topologies.records import Decoder, Output, Record, decoded
from topologies.settings import TopologySettings
from topologies.wiring import (
    application,
    input_topic,
    route_outputs,
    serve,
)

NAME = "projections"
VIEW_KEY = "view"
DECODERS = {
    ESCROW_EVENTS: Decoder(ESCROW_EVENTS, mapping.EVENTS, lambda e: e.meta.escrow_id),
    PAYMENTS_EVENTS: Decoder(PAYMENTS_EVENTS, mapping.PAYMENT_EVENTS, lambda e: e.meta.escrow_id),
}


def _handle(event: Any, record: Record, state: State[str, bytes]) -> Output:
    raw = state.get_bytes(VIEW_KEY)
    before = EscrowView.FromString(raw) if raw is not None else None
    after = project(before, event)
    if after is None or after == before:
        return Output()
    state.set_bytes(VIEW_KEY, after.SerializeToString(deterministic=True))
    return Output({ESCROW_VIEWS: [after]})


handle_record = decoded(DECODERS, _handle)


def build(settings: TopologySettings, registry: Any) -> Application:
    app = application(settings, NAME)
    events = app.dataframe(input_topic(app, ESCROW_EVENTS))
    sdf = events.concat(app.dataframe(input_topic(app, PAYMENTS_EVENTS)))
    sdf = sdf.apply(handle_record, stateful=True, metadata=True)
    route_outputs(sdf, app, {ESCROW_VIEWS: EscrowView}, registry, [ESCROW_EVENTS, PAYMENTS_EVENTS])
    return app


def main() -> None:
    serve(build)


if __name__ == "__main__":
    main()
