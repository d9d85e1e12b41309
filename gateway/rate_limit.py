"""Per-user and per-IP limits on mutations (issue: hardened defaults): a client over either gets
429 with ``Retry-After`` (RFC 6585 §4) before its command is queued. Moving windows from the
``limits`` library, kept in this process: with several workers or instances each counts its own,
so the limits per deployment are these times the number of processes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from gateway.problems import Problem


class MutationLimits:
    """:param per_user: e.g. ``"60/minute"`` (the ``limits`` notation), per authenticated user.
    :param per_ip: the same per client address.
    :param clock: seconds since the epoch, for ``Retry-After``.
    """

    def __init__(self, per_user: str, per_ip: str, clock: Callable[[], float] = time.time) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._user, self._ip = parse(per_user), parse(per_ip)
        self._clock = clock

    def check(self, user_id: str, client_ip: str) -> None:
        """Counts one mutation for the user and the address, unless either limit is spent.

        :raises Problem: 429 with ``Retry-After`` (whole seconds until the window has room)."""
        windows: list[tuple[RateLimitItem, str]] = [
            (self._user, f"user/{user_id}"),
            (self._ip, f"ip/{client_ip}"),
        ]
        for item, key in windows:
            if not self._limiter.test(item, key):
                reset_at = self._limiter.get_window_stats(item, key).reset_time
                retry_after = max(1, math.ceil(reset_at - self._clock()))
                raise Problem(
                    429,
                    "rate-limited",
                    "Too many requests",
                    f"at most {item} per {key.partition('/')[0]}",
                    {"Retry-After": str(retry_after)},
                )
        for item, key in windows:
            self._limiter.hit(item, key)
