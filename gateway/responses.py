"""The gateway's JSON answers, encoded by orjson: one escrow view in about 1 µs, where the
standard library's encoder takes about 11 µs (measured on this machine; ``tests/benchmarks/reads``
is the whole request)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    """Starlette's ``JSONResponse``, encoded by orjson (compact UTF-8, like Starlette's; keys
    that are not strings, like the OpenAPI document's status codes, as strings)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
