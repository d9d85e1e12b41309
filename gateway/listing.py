"""Reading list queries and answering pages (``GET /api/escrows``, ``/api/admin/escrows``,
``/api/admin/queues/...``): ``limit`` (1-100, default 20), an opaque ``cursor`` (base64url of the
position the last page ended at), a ``status`` name, an ``older_than`` time."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from gateway.ports import Views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView
from state_stores.view_indexes import Page, status_name

MAX_LIMIT = 100
STATUSES = {status_name(status) for status in EscrowStatus.values()} - {"UNSPECIFIED"}
_POSITION = re.compile(r"\d{20}/.+")


def limit(query: QueryParams, default: int = 20) -> int:
    """:raises Problem: 400 unless 1-100."""
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Problem(400, "invalid-limit", f"limit must be 1-{MAX_LIMIT}")
    return int(raw)


def status(query: QueryParams, required: bool = False) -> str | None:
    """An ``EscrowStatus`` name without its prefix, e.g. ``DISPUTED``.

    :raises Problem: 400 for another name, or none when ``required``."""
    name = query.get("status")
    if name is None and not required:
        return None
    if name not in STATUSES:
        raise Problem(400, "invalid-status", f"status must be one of {', '.join(sorted(STATUSES))}")
    return name


def after(query: QueryParams) -> str:
    """The position the ``cursor`` names ("" for none).

    :raises Problem: 400 for a cursor this gateway did not hand out."""
    cursor = query.get("cursor")
    if cursor is None:
        return ""
    try:
        position = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Problem(400, "invalid-cursor", "cursor is not one this API handed out") from exc
    if not _POSITION.fullmatch(position):
        raise Problem(400, "invalid-cursor", "cursor is not one this API handed out")
    return position


def older_than(query: QueryParams) -> int | None:
    """``older_than`` (ISO 8601 with a zone) in µs since the epoch; None when absent.

    :raises Problem: 400 for another format."""
    raw = query.get("older_than")
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Problem(400, "invalid-time", "older_than must be ISO 8601") from exc
    if at.tzinfo is None:
        raise Problem(400, "invalid-time", "older_than must name its zone (e.g. Z)")
    return int(at.timestamp() * 1_000_000)


def answer(
    page: Page, views: Views, name: str, shown: Callable[[EscrowView], dict[str, Any]]
) -> JSONResponse:
    """``{<name>: [shown(view) ...], "next_cursor": <cursor or null>}`` for the page's escrows
    (one that left the table meanwhile is skipped)."""
    found = [view for escrow_id in page.escrow_ids if (view := views.get(escrow_id))]
    cursor = base64.urlsafe_b64encode(page.after.encode()).decode() if page.after else None
    return JSONResponse({name: [shown(view) for view in found], "next_cursor": cursor})
