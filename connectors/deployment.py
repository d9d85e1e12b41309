"""Which deployment a process runs in, and what production refuses (issue: hardened defaults).

Every process's settings derive from ``DeploymentSettings``. In development (the default) the
secrets have built-in values, so the demo and the tests run with no configuration. With
``ESCROW_ENV=production`` a process refuses to start while any secret it uses is still at its
built-in value, and names each one: a deployment that forgot the Stripe webhook secret must not
accept webhooks signed with the one in this repository.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings


class DeploymentSettings(BaseSettings):
    """Environment: ``ESCROW_ENV`` (``development`` or ``production``)."""

    escrow_env: Literal["development", "production"] = "development"

    @model_validator(mode="after")
    def _real_secrets_in_production(self) -> Self:
        """:raises ValueError: production, and secrets still at their built-in values (pydantic
        reports it as a ``ValidationError`` naming their environment variables)."""
        if self.escrow_env != "production":
            return self
        unused = self.secrets_unused()
        built_in = [
            name.upper()
            for name, field in type(self).model_fields.items()
            if isinstance(field.default, SecretStr)
            and getattr(self, name) == field.default
            and name not in unused
        ]
        if built_in:
            raise ValueError(
                "ESCROW_ENV=production needs real secrets; still at their development "
                f"defaults: {', '.join(sorted(built_in))}"
            )
        return self

    def secrets_unused(self) -> set[str]:
        """The secret fields this configuration does not use (their defaults are harmless)."""
        return set()
