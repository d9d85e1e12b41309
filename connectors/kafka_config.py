"""librdkafka settings every producer of this project shares."""

from __future__ import annotations

# Keys must land on the same partition whoever produces them: the escrow topology joins
# escrow.commands.v1 and payments.events.v1 by partition (co-partitioning), and its output is
# produced by Quix Streams, which partitions with murmur2 (the Java client's algorithm).
# librdkafka's own default (consistent_random, CRC32) would send the same escrow_id elsewhere.
PARTITIONER = "murmur2"


def producer_config(bootstrap_servers: str) -> dict[str, str | int | bool]:
    """Durable, idempotent, Java-compatible partitioning (the same partition for the same key)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "partitioner": PARTITIONER,
        "acks": "all",
        "enable.idempotence": True,
    }
