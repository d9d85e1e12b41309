"""Rung (b) of the ladder, the floor every topology is compared to: Quix Streams exactly-once with
a RocksDB state get/set per record and the escrow topology's fan-out (3 records out per input,
through one output path), and no domain logic. Built by the production wiring
(``topologies.wiring.application`` and ``run``), so it runs with the topologies' settings.

    .venv/bin/python -m tests.benchmarks.quix_floor --input TOPIC --output TOPIC

Consumer group ``<CONSUMER_GROUP_PREFIX>.quix-floor``, state under ``STATE_DIR``; until SIGTERM.
"""

from __future__ import annotations

import argparse

from quixstreams import Application
from quixstreams.state import State

from tests.benchmarks.bare_loop import FAN_OUT
from topologies.settings import TopologySettings
from topologies.wiring import application, input_topic, run

NAME = "quix-floor"
STATE_KEY = "last"


def touch_state(value: bytes, state: State[str, bytes]) -> bytes:
    """One read and one write of the record's key in the store, as a topology's step does."""
    state.get_bytes(STATE_KEY)
    state.set_bytes(STATE_KEY, value)
    return value


def fan_out(value: bytes) -> list[bytes]:
    return [value] * FAN_OUT


def build(settings: TopologySettings, source: str, destination: str) -> Application:
    app = application(settings, NAME)
    output = app.topic(destination, key_serializer="bytes", value_serializer="bytes")
    sdf = app.dataframe(input_topic(app, source))
    sdf = sdf.apply(touch_state, stateful=True)
    sdf = sdf.apply(fan_out, expand=True)
    sdf.to_topic(lambda value, key, timestamp, headers: output)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    settings = TopologySettings()
    run(lambda: build(settings, args.input, args.output), settings)


if __name__ == "__main__":
    main()
