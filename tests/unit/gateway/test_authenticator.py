"""The authenticator remembers tokens it verified, and still refuses them once they expire."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway.auth import Authenticator, Principal, issue_token
from gateway.problems import Problem
from kernel.model import Role
from tests.unit.gateway.support import JWT_KEY


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_valid_token_names_its_user_and_role() -> None:
    principal = Authenticator(JWT_KEY).verify(issue_token(JWT_KEY, "u-1", "admin"))

    assert principal == Principal("u-1", Role.ADMIN)


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    clock = Clock()
    auth = Authenticator(JWT_KEY, clock=clock)
    token = issue_token(JWT_KEY, "u-1", ttl_s=60)
    auth.verify(token)

    clock.now += 61

    with pytest.raises(Problem) as refused:
        auth.verify(token)
    assert (refused.value.status, refused.value.detail) == (401, "Signature has expired")


def test_a_forged_token_is_refused_every_time_never_remembered() -> None:
    auth = Authenticator(JWT_KEY)
    forged = jwt.encode(
        {"sub": "u-1", "exp": int(time.time()) + 60}, "another-key-0123456789abcdef-0123456789"
    )

    for _ in range(2):
        with pytest.raises(Problem):
            auth.verify(forged)
    assert auth._verified.cache_info().currsize == 0  # noqa: SLF001
