"""Bearer-token authentication (DESIGN.md §7): JWTs verified with PyJWT, HS256 with a shared key
in development, RS256 with keys from a JWKS URL in production. Claims: ``sub`` (user id),
``role`` ("user" or "admin"). KYC tiers come with the contract, not the token (DESIGN.md §4)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from jwt.types import Options
from starlette.requests import Request

from gateway.problems import Problem
from kernel.model import Actor, Role

# RFC 9110 §11.6.1: a 401 names the scheme it wants. Tokens must expire and name their user.
CHALLENGE = {"WWW-Authenticate": "Bearer"}
REQUIRED: Options = {"require": ["exp", "sub"]}


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class Authenticator:
    """:param hs256_key: the development shared key (used when ``jwks_url`` is None).
    :param jwks_url: where RS256 public keys are published (production).
    :param audience: required ``aud``, if set.
    :param issuer: required ``iss``, if set.
    :param remembered: how many verified tokens to remember (a client sends its token with every
        request; verifying one costs ~40 µs for HS256, more for RS256). A remembered token is
        still refused once its ``exp`` has passed; tokens that fail are never remembered.
    :param clock: seconds since the epoch, for the remembered tokens' expiry.
    """

    def __init__(
        self,
        hs256_key: str,
        jwks_url: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        remembered: int = 65_536,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._hs256_key = hs256_key
        self._jwks = jwt.PyJWKClient(jwks_url) if jwks_url else None
        self._audience = audience
        self._issuer = issuer
        self._verified = functools.lru_cache(maxsize=remembered)(self._decode)
        self._clock = clock

    def verify(self, token: str) -> Principal:
        """:raises Problem: 401 for a missing, malformed, expired or forged token."""
        principal, expires_at = self._verified(token)
        if self._clock() >= expires_at:  # PyJWT's own check, for a token remembered from before
            detail = "Signature has expired"
            raise Problem(401, "unauthenticated", "Invalid bearer token", detail, CHALLENGE)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        """The principal and expiry (seconds since the epoch) of a valid token.

        :raises Problem: 401 for a malformed, expired or forged token."""
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],  # pinned: a token never picks its own algorithm
                    audience=self._audience,
                    issuer=self._issuer,
                    options=REQUIRED,
                )
            else:
                claims = jwt.decode(
                    token,
                    self._hs256_key,
                    algorithms=["HS256"],
                    audience=self._audience,
                    issuer=self._issuer,
                    options=REQUIRED,
                )
            role = Role.ADMIN if claims.get("role") == "admin" else Role.USER
            return Principal(str(claims["sub"]), role), float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Problem(
                401, "unauthenticated", "Invalid bearer token", str(exc), CHALLENGE
            ) from exc

    def principal(self, request: Request) -> Principal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "unauthenticated", "A bearer token is required", headers=CHALLENGE)
        return self.verify(token)


def issue_token(key: str, user_id: str, role: str = "user", ttl_s: int = 3600) -> str:
    """An HS256 token for development, tests and the demo, valid for ``ttl_s`` seconds."""
    now = int(time.time())
    claims = {"sub": user_id, "role": role, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, key, algorithm="HS256")
