"""The HTTP ladder for reads (issue: performance, item 4): how fast one server process answers,
from a bare ASGI app up to the gateway's ``GET /api/escrow/{id}``, and the gateway with several
worker processes.

    .venv/bin/python -m tests.benchmarks.reads [--escrows 2000] [--seconds 5]
        [--connections 1,2,4,8,16,32] [--workers 2]

Rungs, each a server process of its own, loaded by ``wrk`` (Debian package ``wrk``, one thread,
keep-alive connections) at each connection count in turn:

1. ``asgi``: a bare ASGI app answering a fixed JSON body;
2. ``starlette``: a Starlette route answering the same;
3. ``gateway``: ``GET /api/escrow/{id}`` on the real gateway (``python -m gateway.app``): a JWT
   verified, the view read from its RocksDB copy of ``escrow.views.v1``, rendered as JSON; each
   request a random one of ``--escrows`` escrows, with its buyer's token;
4. ``gateway xN``: the same with ``GATEWAY_WORKERS=N`` processes on one port.

Each rung runs under the gateway's own server settings (uvicorn, its event loop and HTTP parser).
Prints queries/s and p50/p99 (ms) per connection count, then each rung's best queries/s with
p99 <= 20 ms (the issue's target) and its ratio to the ``asgi`` rung. ``wrk`` shares the 2 cores
with the server: compare ratios within one run.

The gateway reads the broker's ``escrow.views.v1``: the run produces its escrows there first
(``bench-reads-*`` ids); run it on a broker of its own, like the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.topics import ESCROW_VIEWS
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from kernel.messages import PaymentIntentCreated, PaymentSucceeded
from kernel.model import Rail
from schemas.escrow.v1.views_pb2 import EscrowView
from tests.benchmarks.harness import bootstrap, run_prefix
from tests.builders import create_escrow, payment_meta, story_events
from tests.eventually import eventually
from tests.kafka import EnvelopeProducer
from topologies.projections.project import project

P99_TARGET_MS = 20.0
BODY = b'{"escrow_id":"esc-1","status":"FUNDS_HELD","amount":{"amount_cents":500000}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def asgi(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    """Rung 1: the least an ASGI app can do for a request."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": BODY})  # type: ignore[operator]


async def _hello(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


starlette = Starlette(routes=[Route("/api/escrow/{escrow_id}", _hello)])  # rung 2


@dataclass(frozen=True)
class Point:
    connections: int
    queries_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


# Picks one of the escrows per request and prints wrk's summary as one JSON line.
_WRK_SCRIPT = """
local paths, tokens = {paths}, {tokens}
request = function()
  local i = math.random(#paths)
  return wrk.format("GET", paths[i], {{["Authorization"] = "Bearer " .. tokens[i]}})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_table(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def wrk(url: str, script: Path, connections: int, seconds: float) -> Point:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    return Point(
        connections,
        summary["requests"] / (summary["duration_us"] / 1e6),
        summary["p50_us"] / 1000,
        summary["p99_us"] / 1000,
        summary["errors"],
    )


def escrow_views(prefix: str, count: int) -> Iterator[EscrowView]:
    """Views as the projections topology makes them: funded escrows with their history."""
    for index in range(count):
        escrow_id = f"{prefix}-{index}"
        payment_id = f"pi_{prefix}_{index}"
        created = create_escrow(escrow_id)
        events = story_events(
            [
                created,
                PaymentIntentCreated(
                    payment_meta(escrow_id), Rail.STRIPE, payment_id, created.amount, "secret"
                ),
                PaymentSucceeded(payment_meta(escrow_id), payment_id, created.amount),
            ]
        )
        view = None
        for event in events:
            view = project(view, event)
        assert view is not None
        yield view


@contextmanager
def server(argv: list[str], port: int, workdir: Path, **env: str) -> Iterator[str]:
    """A server process answering on ``port`` (``/readyz`` or any path), stopped afterwards."""
    log = (workdir / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(
            lambda: httpx.get(f"{url}/readyz", timeout=2).status_code in (200, 404),
            120,
            interval_s=0.2,
            ignoring=(httpx.HTTPError,),
            what=f"the server on :{port}",
        )
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def caught_up(url: str, view: EscrowView, key: str) -> None:
    headers = {"Authorization": f"Bearer {issue_token(key, view.buyer_id)}"}
    eventually(
        lambda: httpx.get(f"{url}/api/escrow/{view.escrow_id}", headers=headers).status_code == 200,
        120,
        interval_s=0.2,
        what="the gateway's view table caught up",
    )


def climb(url: str, script: Path, connections: list[int], seconds: float) -> list[Point]:
    wrk(url, script, connections[0], 1)  # warm-up: connections, caches, the first reads
    return [wrk(url, script, c, seconds) for c in connections]


def best(points: list[Point]) -> float:
    """Queries/s of the best connection count whose p99 met the target (0 if none did)."""
    return max((p.queries_per_s for p in points if p.p99_ms <= P99_TARGET_MS), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--escrows", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", default="1,2,4,8,16,32")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    connections = [int(c) for c in args.connections.split(",")]
    servers, prefix = bootstrap(), run_prefix("reads")
    workdir = Path(tempfile.mkdtemp(prefix="bench-reads-"))
    settings = GatewaySettings()
    key = settings.jwt_hs256_key.get_secret_value()

    views = list(escrow_views(prefix, args.escrows))
    producer = EnvelopeProducer(servers)
    for view in views:
        producer.send(ESCROW_VIEWS, view.escrow_id, view)
    sample = random.sample(views, min(len(views), 500))  # the Lua script's table stays small
    paths = [f"/api/escrow/{v.escrow_id}" for v in sample]
    tokens = [issue_token(key, v.buyer_id, ttl_s=3600) for v in sample]
    script = workdir / "reads.lua"
    script.write_text(_WRK_SCRIPT.format(paths=lua_table(paths), tokens=lua_table(tokens)))

    python = sys.executable
    uvicorn = [python, "-m", "uvicorn", "--log-level", "warning", "--port"]
    rungs: list[tuple[str, list[str], dict[str, str]]] = [
        ("asgi", [*uvicorn, "18081", "tests.benchmarks.reads:asgi"], {}),
        ("starlette", [*uvicorn, "18082", "tests.benchmarks.reads:starlette"], {}),
    ]
    for workers, port in ((1, 18083), (args.workers, 18084)):
        env = {
            "GATEWAY_PORT": str(port),
            "GATEWAY_WORKERS": str(workers),
            "LOG_LEVEL": "WARNING",
            "VIEW_TABLE_DIR": str(workdir / f"views-{port}"),
            "LEDGER_TABLE_DIR": str(workdir / f"ledger-{port}"),
            "KAFKA_BOOTSTRAP_SERVERS": servers,
        }
        name = "gateway" if workers == 1 else f"gateway x{workers}"
        rungs.append((name, [python, "-m", "gateway.app"], env))

    results: dict[str, list[Point]] = {}
    for name, argv, env in rungs:
        port = int(env.get("GATEWAY_PORT") or argv[argv.index("--port") + 1])
        with server(argv, port, workdir, **env) as url:
            if name.startswith("gateway"):  # every escrow readable before the load starts
                caught_up(url, views[-1], key)
            results[name] = climb(url, script, connections, args.seconds)
        _print_rung(name, results[name])
    _print_summary(results, args)
    shutil.rmtree(workdir, ignore_errors=True)


def _print_rung(name: str, points: list[Point]) -> None:
    print(f"\n{name}")
    print(f"  {'connections':>11} {'queries/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for p in points:
        print(
            f"  {p.connections:>11} {p.queries_per_s:>10,.0f} {p.p50_ms:>8.2f} {p.p99_ms:>8.2f}"
            f" {p.errors:>7}"
        )


def _print_summary(results: dict[str, list[Point]], args: argparse.Namespace) -> None:
    floor = best(results["asgi"]) or 1.0
    print(
        f"\nreads ladder: {args.escrows} escrows, wrk -t1, {args.seconds:g} s per point, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"| rung | queries/s at p99 <= {P99_TARGET_MS:g} ms | ÷ asgi |")
    print("| --- | --- | --- |")
    for name, points in results.items():
        rate = best(points)
        print(f"| {name} | {rate:,.0f} | {rate / floor:.2f} |")


if __name__ == "__main__":
    main()
