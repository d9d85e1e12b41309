"""``BodyLimit``: request bodies over a size limit get 413 (RFC 9110 §15.5.14) before any route
reads them. Pure ASGI, so it costs a header look-up per request, not a response copy."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import Problem


class BodyLimit:
    """:param max_bytes: the largest body accepted. A declared ``Content-Length`` above it is
    refused at once; a body sent without one (chunked) is refused once it grows past it, with
    the ``Problem`` raised to the route reading it (the app's handlers answer it)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            receive = self._refusing
        else:
            receive = self._counting(receive)
        await self.app(scope, receive, send)

    async def _refusing(self) -> Message:
        raise self._too_large()

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise self._too_large()
            return message

        return counted

    def _too_large(self) -> Problem:
        detail = f"the body may have at most {self.max_bytes} bytes"
        return Problem(413, "body-too-large", "Request body too large", detail)
