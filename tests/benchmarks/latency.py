"""Latency at a constant arrival rate, beside the seeds' targets (issue 9).

    .venv/bin/python -m tests.benchmarks.latency [--rate 1000] [--seconds 60]
        [--webhook-every 10] [--view-every 50]

Starts the escrow, projections and webhooks topologies and the gateway (one process each, consumer
groups committed at the end of their inputs, LOG_LEVEL=WARNING), sends one escrow through every
path to warm them up, then two generator processes start together, open loop:
  - CreateEscrow at ``--rate``/s for ``--seconds`` to escrow.commands.v1;
  - a signed Stripe ``payment_intent.succeeded`` POSTed to the gateway for every
    ``--webhook-every``-th escrow, one second after its command.
This process reads escrow.events.v1 and payments.events.v1 under read_committed and reports
p50/p95/p99/max of
  command->event   the CreateEscrow produce call -> its EscrowAwaitFunds readable;
  event->view      that event readable -> GET /api/escrow/{id} answering with its version, for
                   every ``--view-every``-th escrow (polled every 10 ms or 5% of the wait
                   so far, whichever is longer: the figure includes up to that much);
  webhook->PaymentSucceeded   the webhook POSTed -> PaymentSucceeded readable (of the webhooks
                   the gateway accepted, 2xx; "webhook POST->2xx answer" is that answer's time);
and how far behind its schedule each generator fell (if far, the rate was not offered).
The payments topology does not run: its CreatePaymentIntent commands wait unread.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer

from connectors.kafka_config import producer_config
from connectors.topics import (
    ESCROW_COMMANDS,
    ESCROW_EVENTS,
    PAYMENTS_EVENTS,
    WEBHOOK_EVENTS,
)
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from tests.benchmarks.harness import (
    OutputReader,
    bootstrap,
    commit_at_end,
    delete_run,
    in_own_process,
    machine_load,
    percentile,
    run_prefix,
    summary_ms,
)
from tests.benchmarks.loadgen import (
    AMOUNT_CENTS,
    CREATE_ESCROW,
    Records,
    index_of,
    paced_commands,
    paced_webhooks,
)
from tests.eventually import eventually
from tests.platform import wait_ready
from tests.processes import TopologyProcess
from tests.provider_fakes.provider_webhooks import JSON, stripe_event, stripe_signature

# topology -> the topics its consumer group reads
TOPOLOGIES = {
    "escrow": (ESCROW_COMMANDS, PAYMENTS_EVENTS),
    "projections": (ESCROW_EVENTS, PAYMENTS_EVENTS),
    "webhooks": (WEBHOOK_EVENTS,),
}
VIEW_POLL_S = 0.01
DRAIN_S = 60  # after the last send, how long late outputs may take


class ViewWatcher:
    """From a thread of its own, GETs an escrow's view until it shows a version, timing
    event->view."""

    def __init__(self, gateway_url: str, token: str) -> None:
        self.lags_s: list[float] = []
        self.watched = self._done = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        headers = {"Authorization": f"Bearer {token}"}
        self._client = self._call(self._open(gateway_url, headers))

    @property
    def busy(self) -> bool:
        return self._done < self.watched

    def forget(self) -> None:
        """Drops what was timed so far (the warm-up); call when not ``busy``."""
        self.lags_s.clear()
        self.watched = self._done = 0

    def watch(self, escrow: str, version: int, since: float) -> None:
        self.watched += 1
        asyncio.run_coroutine_threadsafe(self._watch(escrow, version, since), self._loop)

    def close(self) -> None:
        self._call(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    async def _watch(self, escrow: str, version: int, since: float) -> None:
        try:
            while time.monotonic() < since + DRAIN_S:
                answer = await self._client.get(f"/api/escrow/{escrow}")
                if answer.status_code == 200 and answer.json()["version"] >= version:
                    self.lags_s.append(time.monotonic() - since)
                    return
                # Every 10 ms, or 5% of the wait so far: a figure at most 5% late, and a view
                # that is seconds behind does not draw hundreds of GETs from the gateway.
                await asyncio.sleep(max(VIEW_POLL_S, 0.05 * (time.monotonic() - since)))
        finally:
            self._done += 1

    @staticmethod
    async def _open(url: str, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, headers=headers, timeout=10)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)


class Observer:
    """Times when this run's EscrowAwaitFunds and PaymentSucceeded become readable, and hands
    every ``view_every``-th escrow's event to the view watcher."""

    def __init__(
        self, reader: OutputReader, prefix: str, view_every: int, views: ViewWatcher
    ) -> None:
        self.event_at: dict[str, float] = {}
        self.paid_at: dict[str, float] = {}
        self._reader, self._prefix, self._views = reader, prefix.encode(), views
        self._view_every = view_every

    def read(self, timeout_s: float = 0.002) -> None:
        records = self._reader.poll(timeout_s)
        now = time.monotonic()
        for record in records:
            key = record.key() or b""
            if not key.startswith(self._prefix):
                continue
            envelope = self._reader.decode(record)
            variant = envelope.WhichOneof(envelope.DESCRIPTOR.oneofs[0].name)
            if variant == "escrow_await_funds":
                self._event(key.decode(), envelope.meta.version, now)
            elif variant == "payment_succeeded":
                self.paid_at[key.decode()] = now

    def _event(self, escrow: str, version: int, now: float) -> None:
        self.event_at[escrow] = now
        suffix = escrow.rsplit("-", 1)[1]
        if not suffix.isdigit() or index_of(escrow) % self._view_every == 0:
            self._views.watch(escrow, version, now)


@dataclass
class Sent:
    """What a generator answered: when each escrow's item went, how late each one went, how
    many failed, and (webhooks) when the gateway answered each."""

    at: dict[str, float]
    lags_s: list[float]
    failed: int
    answered_at: dict[str, float] = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000, help="CreateEscrow/s")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--webhook-every", type=int, default=10, help="a webhook per N escrows")
    parser.add_argument("--view-every", type=int, default=50, help="watch the view of 1 in N")
    args = parser.parse_args()
    servers, prefix = bootstrap(), run_prefix("latency")
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    settings = gateway_settings(workdir)
    print(f"starting the escrow, projections, webhooks topologies and the gateway ({workdir})")
    with platform(servers, prefix, workdir, settings) as url:
        reader = OutputReader(servers, [ESCROW_EVENTS, PAYMENTS_EVENTS])
        admin = issue_token(settings.jwt_hs256_key.get_secret_value(), "bench-admin", "admin")
        views = ViewWatcher(url, admin)
        observer = Observer(reader, prefix, args.view_every, views)
        secret = settings.stripe_webhook_secret.get_secret_value()
        warm_up(servers, url, secret, f"{prefix}-warm", observer, views)
        commands, webhooks = generate(servers, url, secret, prefix, args, observer, views)
        views.close()
        reader.close()
    report(args, observer, views, commands, webhooks)


def gateway_settings(workdir: Path) -> GatewaySettings:
    with socket.socket() as probe:  # a free port: another gateway may hold 8080
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return GatewaySettings(
        gateway_port=port,
        view_table_dir=str(workdir / "gateway-views"),
        ledger_table_dir=str(workdir / "gateway-ledger"),
    )


@contextmanager
def platform(servers: str, prefix: str, workdir: Path, settings: GatewaySettings) -> Iterator[str]:
    """The processes on the measured paths, ready; yields the gateway's URL."""
    env = {
        "CONSUMER_GROUP_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
        "GATEWAY_PORT": str(settings.gateway_port),
        "VIEW_TABLE_DIR": settings.view_table_dir,
        "LEDGER_TABLE_DIR": settings.ledger_table_dir,
    }
    processes = []
    try:
        for name, topics in TOPOLOGIES.items():
            commit_at_end(servers, f"{prefix}.{name}", list(topics))
        for name in [*TOPOLOGIES, "gateway"]:
            log = workdir / f"{name}.log"
            processes.append(TopologyProcess(name, workdir / name, log, **env).start())
        url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        wait_ready(url)
        yield url
    finally:
        for process in processes:
            process.stop()
        delete_run(servers, prefix)


def warm_up(
    servers: str, url: str, secret: str, escrow: str, observer: Observer, views: ViewWatcher
) -> None:
    """One escrow through every measured path: the groups have joined, the caches are warm."""
    records = Records(CREATE_ESCROW, ESCROW_COMMANDS)
    producer = Producer(producer_config(servers))

    def created() -> bool:
        producer.produce(ESCROW_COMMANDS, key=escrow, value=records.of(escrow)[0])
        producer.flush(10)
        deadline = time.monotonic() + 2
        while escrow not in observer.event_at and time.monotonic() < deadline:
            observer.read(0.1)
        return escrow in observer.event_at

    eventually(created, 180, interval_s=0, what="the escrow topology answering")
    body = stripe_event("payment_intent.succeeded", f"pi_{escrow}", escrow, AMOUNT_CENTS)
    headers = {"Stripe-Signature": stripe_signature(secret, body), **JSON}
    httpx.post(f"{url}/api/webhooks/stripe", content=body, headers=headers).raise_for_status()

    def paid_and_viewed() -> bool:
        observer.read(0.1)
        return escrow in observer.paid_at and bool(views.lags_s) and not views.busy

    eventually(paid_and_viewed, 120, interval_s=0, what="the payment and the view")
    views.forget()


def generate(
    servers: str,
    url: str,
    secret: str,
    prefix: str,
    args: argparse.Namespace,
    observer: Observer,
    views: ViewWatcher,
) -> tuple[Sent, Sent]:
    """Runs both generators from one start time while observing; returns what they sent."""
    pipes = {name: multiprocessing.get_context("spawn").Pipe() for name in ("commands", "webhooks")}
    in_own_process(
        paced_commands, servers, ESCROW_COMMANDS, prefix, args.rate, args.seconds,
        pipes["commands"][1],
    )  # fmt: skip
    in_own_process(
        paced_webhooks, url, secret, prefix, args.rate, args.seconds, args.webhook_every,
        pipes["webhooks"][1],
    )  # fmt: skip
    conns: dict[str, Connection] = {}
    for name, (ours, theirs) in pipes.items():
        theirs.close()  # so that a generator dying reads as EOF here
        conns[name] = ours
    for conn in conns.values():
        if _answer(conn) != "ready":
            raise RuntimeError("a generator did not start")
    start = time.monotonic() + 0.5
    for conn in conns.values():
        conn.send(start)
    answers: dict[str, Sent] = {}
    deadline = start + args.seconds + DRAIN_S
    # Generators always finish (their sends and POSTs time out); then outputs get until deadline.
    while len(answers) < len(conns) or not (
        _complete(observer, views, answers) or time.monotonic() > deadline
    ):
        observer.read()
        for name, conn in conns.items():
            if name not in answers and conn.poll():
                answers[name] = Sent(*_answer(conn))
    return answers["commands"], answers["webhooks"]


def _answer(conn: Connection) -> Any:
    try:
        return conn.recv()
    except EOFError:
        raise SystemExit("a load generator died (its traceback is above)") from None


def _complete(observer: Observer, views: ViewWatcher, answers: dict[str, Sent]) -> bool:
    return (
        answers["commands"].at.keys() <= observer.event_at.keys()
        and answers["webhooks"].at.keys() <= observer.paid_at.keys()
        and not views.busy
    )


def report(
    args: argparse.Namespace, observer: Observer, views: ViewWatcher, commands: Sent, webhooks: Sent
) -> None:
    print(
        f"\nlatency at {args.rate:,.0f} CreateEscrow/s for {args.seconds:.0f} s "
        f"(webhooks: 1 per {args.webhook_every} escrows; views watched: 1 per {args.view_every}); "
        "escrow, projections, webhooks, gateway: 1 process each"
    )
    print(f"at the end: {machine_load()}")
    print("generators                          behind schedule (ms):      p99      max")
    for name, sent in (("commands", commands), ("webhooks", webhooks)):
        lags = [lag * 1000 for lag in sent.lags_s]
        went = f"{len(lags):,} sent, {sent.failed:,} failed"
        print(f"  {name:<10} {went:<46} {percentile(lags, 99):8.1f} {max(lags):8.1f}")
    posted = webhooks.at
    rows: list[tuple[str, list[float], int, int | None]] = [
        ("command->event", _between(commands.at, observer.event_at), len(commands.at), 100),
        ("event->view", views.lags_s, views.watched, 250),
        ("webhook->PaymentSucceeded", _between(posted, observer.paid_at), len(posted), 200),
        ("webhook POST->2xx answer", _between(posted, webhooks.answered_at), len(posted), None),
    ]
    print(f"{'measurement':<26} {'n':>7}      p50      p95      p99      max   seeds' target")
    for name, lags_s, expected, target_ms in rows:
        target = f"p99 <= {target_ms} ms" if target_ms else ""
        missing = f"  ({expected - len(lags_s)} never seen)" if len(lags_s) < expected else ""
        print(f"{name:<26} {len(lags_s):>7,}  {summary_ms(lags_s)}   {target}{missing}")


def _between(start: dict[str, float], end: dict[str, float]) -> list[float]:
    return [end[key] - at for key, at in start.items() if key in end]


if __name__ == "__main__":
    main()
