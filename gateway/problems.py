"""RFC 9457 problem details: every error the gateway answers is ``application/problem+json``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error answer. ``kind`` becomes the problem ``type`` (``/problems/<kind>``)."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.kind!r}, {self.detail!r})"


def render(
    request: Request,
    status: int,
    kind: str,
    title: str,
    detail: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def problem_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Problem):
        raise exc
    return render(request, exc.status, exc.kind, exc.title, exc.detail, exc.headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (404, 405 with its ``Allow`` header) as problems too."""
    if not isinstance(exc, HTTPException):
        raise exc
    kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return render(request, exc.status_code, kind, str(exc.detail), headers=exc.headers)
