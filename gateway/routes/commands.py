"""A command's outcome (DESIGN.md §7): PENDING until the projections show it APPLIED or REJECTED
(with the reason). ``Prefer: wait=N`` holds the answer up to N seconds (at most 30) for it."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.ports import authenticator, views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from gateway.views import party_in
from kernel.permissions import Party
from schemas.escrow.v1.views_pb2 import CommandOutcome, CommandStatus, EscrowView

MAX_WAIT_S = 30
POLL_S = 0.02


async def get_command(request: Request) -> Response:
    """
    summary: The outcome of a command (its issuer or an admin); Prefer wait=N waits for it
    responses:
      200: {description: PENDING, APPLIED or REJECTED with the reason}
      403: {description: not the issuer}
      404: {description: unknown escrow}
    """
    principal = authenticator(request).principal(request)
    command_id = request.path_params["command_id"]
    escrow_id = command_id.partition("~")[0]
    wait_s = _preferred_wait(request)
    deadline = time.monotonic() + wait_s
    while True:
        view = views(request).get(escrow_id)
        if view is None:
            raise Problem(404, "not-found", "No such command")
        outcome = _outcome(view, command_id)
        allowed = outcome.issuer_user_id if outcome else None
        if (
            not principal.is_admin
            and principal.user_id != allowed
            and (outcome is not None or party_in(view, principal) is Party.STRANGER)
        ):
            raise Problem(403, "forbidden", "Only the issuer or an admin sees a command")
        if outcome is not None or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_S)
    headers = {"Preference-Applied": f"wait={wait_s}"} if wait_s else {}
    return JSONResponse(_render(command_id, escrow_id, outcome), headers=headers)


def _outcome(view: EscrowView, command_id: str) -> CommandOutcome | None:
    return next((o for o in view.commands if o.command_id == command_id), None)


def _render(command_id: str, escrow_id: str, outcome: CommandOutcome | None) -> dict[str, Any]:
    body: dict[str, Any] = {"command_id": command_id, "escrow_id": escrow_id, "status": "PENDING"}
    if outcome is not None:
        body["status"] = CommandStatus.Name(outcome.status).removeprefix("COMMAND_STATUS_")
        if outcome.status == CommandStatus.COMMAND_STATUS_REJECTED:
            body["reason"], body["detail"] = outcome.reason, outcome.detail
    return body


def _preferred_wait(request: Request) -> int:
    match = re.search(r"\bwait=(\d+)", request.headers.get("prefer", ""))
    return min(int(match.group(1)), MAX_WAIT_S) if match else 0


routes = [Route("/api/commands/{command_id}", get_command, methods=["GET"])]
