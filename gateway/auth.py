"""Bearer-token authentication (DESIGN.md §7): JWTs verified with PyJWT, HS256 with a shared key
in development, RS256 with keys from a JWKS URL in production. Claims: ``sub`` (user id),
``role`` ("user" or "admin"). KYC tiers come with the contract, not the token (DESIGN.md §4)."""

from __future__ import annotations

import time
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
    """

    def __init__(
        self, hs256_key: str, jwks_url: str | None = None, audience: str | None = None
    ) -> None:
        self._hs256_key = hs256_key
        self._jwks = jwt.PyJWKClient(jwks_url) if jwks_url else None
        self._audience = audience

    def verify(self, token: str) -> Principal:
        """:raises Problem: 401 for a missing, malformed, expired or forged token."""
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token, key, algorithms=["RS256"], audience=self._audience, options=REQUIRED
                )
            else:
                claims = jwt.decode(
                    token,
                    self._hs256_key,
                    algorithms=["HS256"],
                    audience=self._audience,
                    options=REQUIRED,
                )
            role = Role.ADMIN if claims.get("role") == "admin" else Role.USER
            return Principal(str(claims["sub"]), role)
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
