"""``escrow-streams run all``: every topology and the gateway as separate processes under honcho
(a Procfile runner), stopped together on SIGINT/SIGTERM or when any of them exits.

Each process serves Prometheus metrics on its own port from ``METRICS_BASE_PORT`` (9101; 0 = no
metrics servers).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping

from honcho.manager import Manager
from honcho.printer import Printer

# Every process `escrow-streams run <name>` starts: the module whose main() runs it. The CLI is
# the composition root of every process, so it names the gateway's module by string only.
PROCESSES = {
    "escrow": "topologies.escrow.app",
    "contracts": "topologies.contracts.app",
    "payments": "topologies.payments.app",
    "webhooks": "topologies.webhooks.app",
    "projections": "topologies.projections.app",
    "gateway": "gateway.app",
    "ledger": "topologies.ledger.app",
    "reconciler": "topologies.reconciliation.app",
    "scheduler": "topologies.scheduler.app",
}


def commands() -> dict[str, str]:
    """Process name -> command line, one per entry of ``PROCESSES``."""
    python = shlex.quote(sys.executable)
    return {name: f"{python} -m topologies.cli run {name}" for name in PROCESSES}


def run_processes(procs: Mapping[str, str]) -> int:
    """Runs ``procs`` (name -> command line) until one exits or a signal stops them all.

    :returns: the first non-zero exit code, else 0.
    """
    env = dict(os.environ)
    base_port = int(env.get("METRICS_BASE_PORT", "9101"))
    manager = Manager(Printer(sys.stdout, colour=False))
    for index, (name, command) in enumerate(procs.items()):
        port = base_port + index if base_port else 0
        manager.add_process(name, command, env={**env, "METRICS_PORT": str(port)})
    manager.loop()
    return int(manager.returncode or 0)


def run_all() -> int:
    return run_processes(commands())
