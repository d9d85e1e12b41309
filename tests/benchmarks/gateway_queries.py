"""Benchmark of escrow queries through the gateway (GET /api/escrow/{id}, JWT-authenticated),
against the whole platform on the real broker.

    .venv/bin/python -m tests.benchmarks.gateway_queries [--seconds 20] [--concurrency 32]

Starts ``escrow-streams run all --fakes`` (one gateway process), creates one escrow through a
contract, then keeps ``--concurrency`` requests in flight for ``--seconds`` and prints throughput
and latency percentiles. The load comes from ``wrk`` (Debian package ``wrk``) when it is installed;
otherwise from a Python asyncio client, which saturates long before the gateway does (measured here:
about 300/s against wrk's 2,200/s), so its figures are only a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time

import httpx

from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from tests.benchmarks.harness import percentile
from tests.demo import Story
from tests.platform import running_platform


async def hammer(url: str, token: str, seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=limits
    ) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = await client.get(url)
                answer.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def run_wrk(url: str, token: str, seconds: float, concurrency: int) -> None:
    command = [
        "wrk",
        "-t2",
        f"-c{concurrency}",
        f"-d{int(seconds)}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    report = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(f"gateway GET /api/escrow/{{id}}: 1 uvicorn process, wrk, {concurrency} connections")
    print(
        "\n".join(
            line
            for line in report.splitlines()
            if any(k in line for k in ("Latency", "50%", "90%", "99%", "Requests/sec"))
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    log = tempfile.NamedTemporaryFile(prefix="bench-gateway-", suffix=".log", delete=False)
    with running_platform(log, GatewaySettings()) as platform:
        story = Story(platform, "one escrow to query")
        story.contract_executed(500_000)
        key = platform.settings.jwt_hs256_key.get_secret_value()
        token = issue_token(key, story.buyer.user_id)
        url = f"{platform.gateway_url}/api/escrow/{story.escrow_id}"
        story.close()
        if shutil.which("wrk"):
            run_wrk(url, token, args.seconds, args.concurrency)
            return
        latencies = asyncio.run(hammer(url, token, args.seconds, args.concurrency))
    print(
        f"gateway GET /api/escrow/{{id}}: 1 uvicorn process, {args.concurrency} in flight, "
        f"{args.seconds:.0f} s"
    )
    print(f"throughput: {len(latencies) / args.seconds:,.0f} queries/s")
    print(
        f"latency (ms): p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}  "
        f"p99 {percentile(latencies, 99):.1f}"
    )


if __name__ == "__main__":
    main()
