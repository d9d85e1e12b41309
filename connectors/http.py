"""Calling HTTP providers (custodian, screening) with httpx: one place that turns transport
failures and statuses into ``TransientError`` (timeouts, connection errors, 408, 429, 5xx) and
``PermanentError`` (any other 4xx)."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.exceptions import PermanentError, TransientError

_TRANSIENT_STATUSES = {408, 425, 429}


def request_json(client: httpx.Client, method: str, url: str, provider: str, **kwargs: Any) -> Any:
    """The decoded JSON body of a 2xx answer.

    :raises TransientError: timeout, connection failure, 408/425/429, 5xx.
    :raises PermanentError: any other non-2xx answer (``code`` = the status).
    """
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise TransientError(f"{provider}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500 or response.status_code in _TRANSIENT_STATUSES:
        raise TransientError(f"{provider}: HTTP {response.status_code}")
    if response.is_error:
        raise PermanentError(
            f"{provider}: HTTP {response.status_code}: {response.text[:200]}",
            str(response.status_code),
        )
    return response.json()
