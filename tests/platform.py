"""The whole platform as separate processes, for the demo, the end-to-end tests and the gateway
benchmark: every topology and the gateway (``escrow-streams run all``'s processes) plus the local
provider fakes (custodian, TRM + Chainalysis screening, a recorder in front of stripe-mock).

    python -m tests.platform        # until Ctrl-C (task up); fakes on CUSTODIAN_URL / TRM_URL ports

The fakes live with the tests because production never runs them; this module is the only place
that adds them to the production process list.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlparse

import httpx

from gateway.settings import GatewaySettings
from tests.eventually import eventually
from topologies.run_all import commands, run_processes

RECORDER_URL = "http://127.0.0.1:12303"


@dataclass
class Platform:
    """Where the running platform is, and the secrets the demo plays the providers with."""

    gateway_url: str
    bootstrap: str
    settings: GatewaySettings
    screening_url: str
    custodian_url: str


def with_fakes(env: Mapping[str, str]) -> dict[str, str]:
    """The production processes plus the custodian, screening and Stripe-recorder fakes, on the
    ports of ``CUSTODIAN_URL`` / ``TRM_URL`` / ``STRIPE_API_BASE`` (defaults 12301 / 12302 /
    12303; see ``point_fakes_at_the_gateway``)."""
    python = shlex.quote(sys.executable)
    custodian = urlparse(env.get("CUSTODIAN_URL", "http://127.0.0.1:12301")).port
    screening = urlparse(env.get("TRM_URL", "http://127.0.0.1:12302")).port
    stripe = urlparse(env.get("STRIPE_API_BASE", RECORDER_URL)).port
    return {
        **commands(),
        "custodian": f"{python} -m tests.provider_fakes.serve custodian --port {custodian}",
        "screening": f"{python} -m tests.provider_fakes.serve screening --port {screening}",
        "stripe": f"{python} -m tests.provider_fakes.serve stripe_recorder --port {stripe}",
    }


def wait_ready(url: str, timeout_s: float = 120) -> None:
    """:raises TimeoutError: the gateway at ``url`` did not answer ``/readyz`` 200 in time."""
    eventually(
        lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200,
        timeout_s,
        interval_s=0.5,
        ignoring=(httpx.HTTPError,),
        what=f"the gateway at {url} ready",
    )


@contextmanager
def running_platform(
    log: IO[bytes],
    settings: GatewaySettings,
    env: Mapping[str, str] | None = None,
    ready_timeout_s: float = 120,
) -> Iterator[Platform]:
    """``python -m tests.platform`` (every topology, the gateway, the provider fakes) in a
    process group of its own, ready to serve; the whole group gets SIGTERM on exit.

    :param log: where the processes' output goes.
    :param settings: the gateway's settings, as ``env`` gives them to it.
    :param env: the processes' environment (the fakes listen on ``TRM_URL`` and
        ``CUSTODIAN_URL``). Default - this process's.
    """
    gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.platform"],
        env=None if env is None else dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_ready(gateway_url, ready_timeout_s)
        fakes = os.environ if env is None else env
        screening_url = fakes.get("TRM_URL", "http://127.0.0.1:12302")
        custodian_url = fakes.get("CUSTODIAN_URL", "http://127.0.0.1:12301")
        bootstrap = settings.kafka_bootstrap_servers
        yield Platform(gateway_url, bootstrap, settings, screening_url, custodian_url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


def point_fakes_at_the_gateway(env: MutableMapping[str, str]) -> None:
    """The custodian fake sends its settlement webhooks to this platform's gateway, signed with
    the gateway's secret (unless ``env`` says otherwise); the processes call Stripe through the
    recorder (``STRIPE_RECORDER_URL``, default 127.0.0.1:12303), which forwards to stripe-mock
    (``STRIPE_API_BASE`` as given, default 127.0.0.1:12111) and remembers what it created, so
    the reconciler can ask Stripe about it."""
    env.setdefault("STRIPE_MOCK_URL", env.get("STRIPE_API_BASE", "http://127.0.0.1:12111"))
    env["STRIPE_API_BASE"] = env.get("STRIPE_RECORDER_URL", RECORDER_URL)
    settings = GatewaySettings()
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/api/webhooks/custodian"
    env.setdefault("CUSTODIAN_WEBHOOK_URL", url)
    env.setdefault("CUSTODIAN_WEBHOOK_SECRET", settings.custodian_webhook_secret.get_secret_value())


if __name__ == "__main__":
    point_fakes_at_the_gateway(os.environ)
    sys.exit(run_processes(with_fakes(os.environ)))
