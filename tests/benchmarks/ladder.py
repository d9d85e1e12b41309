"""The benchmark ladder (issue 9): on one broker in one run, the inputs/s each rung turns into
outputs visible under read_committed, and its ratio to the Quix rung, the floor every topology
here is compared to (the machine is shared and noisy: compare ratios, not absolute rates).

    .venv/bin/python -m tests.benchmarks.ladder [--inputs 20000] [--payment-inputs 2000]

Rungs, one process each, 12 partitions, exactly-once:
  a  a bare confluent-kafka transactional loop, 3 records out per input (``bare_loop``)
  b  Quix exactly-once + a RocksDB get/set + 3 records out, no domain logic (``quix_floor``)
  c  ``escrow-streams run escrow``: CreateEscrow -> EscrowAwaitFunds on escrow.events.v1
  d  ``escrow-streams run payments`` against stripe-mock (``STRIPE_API_BASE``):
     CreatePaymentIntent -> PaymentIntentCreated on payments.events.v1
  e  ``escrow-streams run projections``: EscrowCreated + EscrowAwaitFunds -> escrow.views.v1
(a) and (b) use scratch topics of their own, deleted afterwards; (c)-(e) the real topics.

Each rung runs in a fresh consumer group committed at the end of its inputs (history skipped);
a generator process preloads its inputs before the rung's process starts, and the rate is the
inputs whose outputs became readable after the first output did, divided by the time from the
first to the last. A rung that commits big transactions (rung a) needs many inputs to be
measured well: its first transaction alone can hold 10,000 inputs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Message

from connectors.topics import (
    ESCROW_COMMANDS,
    ESCROW_EVENTS,
    ESCROW_VIEWS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
)
from tests.benchmarks.harness import (
    OutputReader,
    bootstrap,
    commit_at_end,
    create_topics,
    delete_run,
    in_own_process,
    machine_load,
    module_process,
    run_prefix,
)
from tests.benchmarks.loadgen import (
    CREATE_ESCROW,
    CREATE_PAYMENT_INTENT,
    NEW_ESCROW_EVENTS,
    preload,
    templates,
)
from tests.processes import TopologyProcess
from topologies.settings import TopologySettings

QUIX_RUNG = "b"


class RungFailed(Exception):
    """The rung produced no measurable rate; the message says why."""


@dataclass(frozen=True)
class Rung:
    """One rung: its load, its consumer group and inputs, the output that is counted."""

    name: str
    title: str
    load: str  # a loadgen kind
    load_topic: str
    group: str
    group_inputs: tuple[str, ...]
    output_topic: str
    output_variant: str | None  # None: every record of the rung's keys counts
    outputs_per_escrow: int
    start: Callable[[], TopologyProcess]


def rungs(prefix: str, workdir: Path) -> list[Rung]:
    scratch = f"{prefix}.input"
    env = {"CONSUMER_GROUP_PREFIX": prefix, "LOG_LEVEL": "WARNING"}

    def module(module: str, *args: str) -> Callable[[], TopologyProcess]:
        return lambda: module_process(module, list(args), workdir, **env).start()

    def topology(name: str) -> Callable[[], TopologyProcess]:
        return lambda: TopologyProcess(name, workdir / name, workdir / f"{name}.log", **env).start()

    bare_out, quix_out = f"{prefix}.bare.output", f"{prefix}.quix.output"
    bare, quix = f"{prefix}.bare", f"{prefix}.quix-floor"
    return [
        Rung("a", "bare confluent-kafka transactional loop, 3 out", CREATE_ESCROW, scratch,
             bare, (scratch,), bare_out, None, 3,
             module("tests.benchmarks.bare_loop", "--input", scratch, "--output", bare_out,
                    "--group", bare)),
        Rung("b", "Quix exactly-once + RocksDB get/set, 3 out", CREATE_ESCROW, scratch,
             quix, (scratch,), quix_out, None, 3,
             module("tests.benchmarks.quix_floor", "--input", scratch, "--output", quix_out)),
        Rung("c", "escrow topology (CreateEscrow)", CREATE_ESCROW, ESCROW_COMMANDS,
             f"{prefix}.escrow", (ESCROW_COMMANDS, PAYMENTS_EVENTS), ESCROW_EVENTS,
             "escrow_await_funds", 1, topology("escrow")),
        Rung("d", "payments topology (stripe-mock)", CREATE_PAYMENT_INTENT, PAYMENTS_COMMANDS,
             f"{prefix}.payments", (PAYMENTS_COMMANDS,), PAYMENTS_EVENTS,
             "payment_intent_created", 1, topology("payments")),
        Rung("e", "projections topology (escrow events)", NEW_ESCROW_EVENTS, ESCROW_EVENTS,
             f"{prefix}.projections", (ESCROW_EVENTS, PAYMENTS_EVENTS), ESCROW_VIEWS,
             None, 2, topology("projections")),
    ]  # fmt: skip


def climb(rung: Rung, inputs: int, servers: str, prefix: str, stall_s: float) -> float:
    """The rung's inputs/s over ``inputs`` inputs (rounded down to whole escrows)."""
    per_escrow = len(templates(rung.load))
    escrows = inputs // per_escrow
    keys = f"{prefix}-{rung.name}"
    commit_at_end(servers, rung.group, list(rung.group_inputs))
    generator = in_own_process(preload, servers, rung.load_topic, rung.load, keys, escrows)
    generator.join()
    if generator.exitcode != 0:
        raise RungFailed(f"the load generator exited with {generator.exitcode}")
    reader = OutputReader(servers, [rung.output_topic])
    process = rung.start()
    try:
        times = readable_times(reader, rung, keys, escrows * rung.outputs_per_escrow, stall_s)
    finally:
        process.stop()
        reader.close()
    # The outputs readable at the first instant have no start time to measure from: count
    # what became readable after it.
    after_first = sum(t > times[0] for t in times)
    if not after_first:
        raise RungFailed("every output became readable at once: use more inputs")
    return after_first / rung.outputs_per_escrow * per_escrow / (times[-1] - times[0])


def readable_times(
    reader: OutputReader, rung: Rung, keys: str, expected: int, stall_s: float
) -> list[float]:
    """When each of the first ``expected`` outputs of the rung's keys became readable.

    :raises RungFailed: no new output for ``stall_s`` seconds.
    """
    prefix = keys.encode()
    times: list[float] = []
    last_news = time.monotonic()
    while len(times) < expected:
        records = reader.poll(0.05)
        now = time.monotonic()
        for record in records:
            if (record.key() or b"").startswith(prefix) and _counts(reader, rung, record):
                times.append(now)
                last_news = now
        if now - last_news > stall_s:
            raise RungFailed(f"{len(times)} of {expected} outputs, then none for {stall_s:.0f} s")
    return times[:expected]


def _counts(reader: OutputReader, rung: Rung, record: Message) -> bool:
    if rung.output_variant is None:
        return True
    envelope = reader.decode(record)
    return bool(envelope.WhichOneof(envelope.DESCRIPTOR.oneofs[0].name) == rung.output_variant)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=20_000, help="inputs per rung")
    parser.add_argument(
        "--payment-inputs",
        type=int,
        default=2_000,
        help="inputs of rung d, which waits for a stripe-mock call per input",
    )
    parser.add_argument("--rungs", default="abcde", help="which rungs to run, e.g. bc")
    parser.add_argument("--stall-s", type=float, default=120, help="give up after no output")
    args = parser.parse_args()
    servers, prefix = bootstrap(), run_prefix("ladder")
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    create_topics(servers, [f"{prefix}.input", f"{prefix}.bare.output", f"{prefix}.quix.output"])
    rates: dict[str, float | str] = {}
    chosen = [r for r in rungs(prefix, workdir) if r.name in args.rungs]
    try:
        for rung in chosen:
            inputs = args.payment_inputs if rung.name == "d" else args.inputs
            try:
                rate = climb(rung, inputs, servers, prefix, args.stall_s)
                rates[rung.name] = rate
                print(f"rung {rung.name}: {rate:,.0f} inputs/s ({machine_load()})", flush=True)
            except RungFailed as exc:
                rates[rung.name] = f"failed: {exc} (logs: {workdir})"
    finally:
        delete_run(servers, prefix)
    print_table(chosen, rates, args)


def print_table(
    chosen: list[Rung], rates: dict[str, float | str], args: argparse.Namespace
) -> None:
    floor = rates.get(QUIX_RUNG)
    interval = TopologySettings().commit_interval_s
    print(
        f"\nladder: {args.inputs:,} inputs per rung (rung d: {args.payment_inputs:,}), "
        f"1 process each, 12 partitions, exactly-once, commit interval {interval} s"
    )
    print(f"{'rung':<52} {'inputs/s':>10} {'÷ Quix rung':>12}")
    for rung in chosen:
        rate = rates[rung.name]
        title = f"({rung.name}) {rung.title}"
        if isinstance(rate, str):
            print(f"{title:<52} {rate}")
            continue
        ratio = f"{rate / floor:.2f}" if isinstance(floor, float) else "-"
        print(f"{title:<52} {rate:>10,.0f} {ratio:>12}")


if __name__ == "__main__":
    main()
