"""Polling with a deadline, never a bare ``sleep`` (cosmicpython's e2e tests): one helper for the
tests, the demo, the client and the benchmarks, on tenacity."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None],
    timeout_s: float,
    interval_s: float = 0.02,
    ignoring: tuple[type[Exception], ...] = (),
    what: str = "condition",
) -> T:
    """Calls ``probe`` every ``interval_s`` seconds until it returns something truthy, and
    returns that.

    :param ignoring: exceptions that mean "not yet" (e.g. ``httpx.HTTPError`` while a server
        starts); any other exception propagates at once.
    :raises TimeoutError: nothing truthy within ``timeout_s`` seconds; names ``what`` and the last
        value or exception.
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_result(lambda value: not value) | retry_if_exception_type(ignoring),
    )
    try:
        return cast(T, retrying(probe))
    except RetryError as exc:
        last = exc.last_attempt
        seen = last.exception() if last.failed else last.result()
        raise TimeoutError(f"{what} not met in {timeout_s} s; last: {seen!r}") from None
