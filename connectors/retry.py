"""Retries of outside calls (seeds: "Error Handling & Retries"): transient failures are retried
with exponential backoff, 100 ms initial, x2, capped at 30 s, 5 tries in all; permanent ones are
raised at once. Built on tenacity."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from connectors.exceptions import TransientError

logger = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5
INITIAL_DELAY_S = 0.1
MULTIPLIER = 2
MAX_DELAY_S = 30.0


def with_retries(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, retried on ``TransientError`` up to ``ATTEMPTS`` tries in all.

    :raises TransientError: the last failure, when every try failed transiently.
    :raises PermanentError: at once, unretried.
    """
    retrying = Retrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=INITIAL_DELAY_S, exp_base=MULTIPLIER, max=MAX_DELAY_S),
        retry=retry_if_exception_type(TransientError),
        sleep=sleep,
        reraise=True,
        before_sleep=before_sleep_log(logger, logging.WARNING),
    )
    return retrying(call)
