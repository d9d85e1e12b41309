"""``escrow-streams run all [--fakes]``: every topology and the gateway as separate processes under
honcho (a Procfile runner), stopped together on SIGINT/SIGTERM or when any of them exits.

With ``--fakes`` the local custodian and screening servers run too, on the ports of
``CUSTODIAN_URL`` / ``TRM_URL`` (defaults 12301 / 12302), for the demo and end-to-end tests.
Each process serves Prometheus metrics on its own port from ``METRICS_BASE_PORT`` (9101; 0 = no
metrics servers).
"""

from __future__ import annotations

import os
import shlex
import sys
from urllib.parse import urlparse

from honcho.manager import Manager
from honcho.printer import Printer

# Every process `escrow-streams run <name>` starts: the module whose main() runs it.
PROCESSES = {
    "escrow": "topologies.escrow.app",
    "contracts": "topologies.contracts.app",
    "payments": "topologies.payments.app",
    "webhooks": "topologies.webhooks.app",
    "projections": "topologies.projections.app",
    "gateway": "gateway.app",
}


def commands(with_fakes: bool, env: dict[str, str]) -> dict[str, str]:
    """Process name -> command line."""
    python = shlex.quote(sys.executable)
    procs = {name: f"{python} -m topologies.cli run {name}" for name in PROCESSES}
    if with_fakes:
        custodian = urlparse(env.get("CUSTODIAN_URL", "http://127.0.0.1:12301")).port
        screening = urlparse(env.get("TRM_URL", "http://127.0.0.1:12302")).port
        procs["custodian"] = f"{python} -m connectors.fakes.serve custodian --port {custodian}"
        procs["screening"] = f"{python} -m connectors.fakes.serve screening --port {screening}"
    return procs


def run_all(with_fakes: bool) -> int:
    env = dict(os.environ)
    base_port = int(env.get("METRICS_BASE_PORT", "9101"))
    manager = Manager(Printer(sys.stdout, colour=False))
    for index, (name, command) in enumerate(commands(with_fakes, env).items()):
        port = base_port + index if base_port else 0
        manager.add_process(name, command, env={**env, "METRICS_PORT": str(port)})
    manager.loop()
    return int(manager.returncode or 0)
