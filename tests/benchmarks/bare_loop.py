"""Rung (a) of the ladder: a bare confluent-kafka transactional consume-transform-produce loop,
what one Python process gets from the broker under exactly-once with no framework at all.

    .venv/bin/python -m tests.benchmarks.bare_loop --input TOPIC --output TOPIC --group GROUP

Reads ``--input`` under read_committed in consumer group ``--group``, produces 3 records per
input (the escrow topology's fan-out: 2 events + 1 payment command) and commits them with the
consumed offsets in one transaction every 50 ms (the topologies' commit interval), until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import time
from types import FrameType

from confluent_kafka import Consumer, Message, Producer

from connectors.kafka_config import producer_config
from tests.benchmarks.harness import bootstrap

FAN_OUT = 3
COMMIT_INTERVAL_S = 0.05


class Loop:
    def __init__(self, servers: str, source: str, destination: str, group: str) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": servers,
                "group.id": group,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self._producer = Producer({**producer_config(servers), "transactional.id": group})
        self._destination = destination
        self._consumer.subscribe([source])
        self.stopping = False

    def run(self) -> None:
        self._producer.init_transactions()
        self._producer.begin_transaction()
        pending = False
        commit_at = time.monotonic() + COMMIT_INTERVAL_S
        while not self.stopping:
            # Batches small enough that a commit is never far past its 50 ms.
            for record in self._consumer.consume(1_000, 0.02):
                if not record.error():
                    self._transform(record)
                    pending = True
            if pending and time.monotonic() >= commit_at:
                self._commit()
                pending, commit_at = False, time.monotonic() + COMMIT_INTERVAL_S
        if pending:
            self._commit()
        self._consumer.close()

    def _transform(self, record: Message) -> None:
        for _ in range(FAN_OUT):
            while True:
                try:
                    self._producer.produce(self._destination, record.value(), record.key())
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    self._producer.poll(0.01)

    def _commit(self) -> None:
        positions = self._consumer.position(self._consumer.assignment())
        metadata = self._consumer.consumer_group_metadata()
        self._producer.send_offsets_to_transaction(positions, metadata)
        self._producer.commit_transaction()
        self._producer.begin_transaction()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    args = parser.parse_args()
    loop = Loop(bootstrap(), args.input, args.output, args.group)

    def stop(signum: int, frame: FrameType | None) -> None:
        loop.stopping = True

    signal.signal(signal.SIGTERM, stop)
    loop.run()


if __name__ == "__main__":
    main()
