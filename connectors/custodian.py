"""The USDC-on-Base custodian (DESIGN.md §5; seeds: "USDC Rail"), over httpx. The API it speaks is
in ``custodian_api.md``; ``tests.provider_fakes.custodian`` serves it locally. The read side
(``connectors.custodian_objects``) serves the reconciliation."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from connectors import custodian_objects
from connectors.custodian_objects import REFUND
from connectors.exceptions import PermanentError
from connectors.http import request_json
from connectors.payment_rail import CreatedPayment, Movement, Payout, ProviderObject

SIGNATURE_HEADER = "Custodian-Signature"
PAGE_SIZE = 100
SIGNATURE_TOLERANCE_S = 300


class CustodianRail:
    """:param base_url: e.g. ``http://127.0.0.1:12301``.
    :param api_key: sent as a bearer token.
    :param timeout_s: per request. Default - 2 s.
    """

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 2.0) -> None:
        self._client = httpx.Client(
            base_url=base_url, timeout=timeout_s, headers={"Authorization": f"Bearer {api_key}"}
        )

    def create_payment(
        self, *, escrow_id: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> CreatedPayment:
        body = {
            "reference": escrow_id,
            "amount_cents": amount_cents,
            "currency": currency,
            "asset": "USDC",
            "chain": "base",
        }
        deposit = self._post("/v1/deposit-addresses", body, idempotency_key)
        return CreatedPayment(deposit["id"], deposit_address=deposit["address"])

    def transfer(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        destination: str,
        idempotency_key: str,
    ) -> Payout:
        body = {
            "reference": escrow_id,
            "external_id": idempotency_key,
            "deposit_id": provider_payment_id,
            "to_address": destination,
            "amount_cents": amount_cents,
            "currency": currency,
            "asset": "USDC",
            "chain": "base",
        }
        transfer = self._post("/v1/transfers", body, idempotency_key)
        return Payout(str(transfer["id"]), settled=transfer.get("status") == "completed")

    def refund(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        idempotency_key: str,
    ) -> Payout:
        return_id = self.return_deposit(provider_payment_id, escrow_id, REFUND, idempotency_key)
        return Payout(return_id, settled=False)  # on chain: return.completed confirms it

    def return_payment(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        reason: str,
        idempotency_key: str,
    ) -> str:
        return self.return_deposit(
            provider_payment_id, escrow_id, f"return: {reason}", idempotency_key
        )

    def cancel_payment(
        self, *, escrow_id: str, provider_payment_id: str, idempotency_key: str
    ) -> None:
        body = {"reference": escrow_id}
        self._post(f"/v1/deposit-addresses/{provider_payment_id}/close", body, idempotency_key)

    def payment_status(self, provider_payment_id: str) -> ProviderObject:
        return custodian_objects.deposit_address(
            self._get(f"/v1/deposit-addresses/{provider_payment_id}")
        )

    def payout_status(self, movement: Movement, provider_id: str) -> ProviderObject:
        if movement is Movement.TRANSFER:
            return custodian_objects.transfer(self._get(f"/v1/transfers/{provider_id}"))
        return custodian_objects.deposit_return(self._get(f"/v1/returns/{provider_id}"))

    def records_since(self, since: datetime) -> Iterator[ProviderObject]:
        yield from self._listed("/v1/deposits", since, custodian_objects.deposit_address)
        yield from self._listed("/v1/transfers", since, custodian_objects.transfer)
        yield from self._listed("/v1/returns", since, custodian_objects.deposit_return)

    def close(self) -> None:
        self._client.close()

    def _listed(
        self, path: str, since: datetime, convert: Callable[[dict[str, Any]], ProviderObject]
    ) -> Iterator[ProviderObject]:
        """Every object of a list, page after page (``starting_after`` the last one seen)."""
        params: dict[str, str | int] = {"since": int(since.timestamp()), "limit": PAGE_SIZE}
        while True:
            page = self._get(path, params)
            yield from map(convert, page["data"])
            if not page["has_more"] or not page["data"]:
                return
            params["starting_after"] = page["data"][-1]["id"]

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        answer = request_json(self._client, "GET", path, "custodian", params=params)
        if not isinstance(answer, dict):
            raise PermanentError(f"custodian: unexpected answer to {path}: {answer!r}")
        return answer

    def return_deposit(
        self, deposit_id: str, escrow_id: str, reason: str, idempotency_key: str
    ) -> str:
        """Sends a deposit back to the wallet it came from; returns the return's id. ``reason``
        is echoed by the return's webhooks: ``REFUND`` marks a refund the escrow decided."""
        body = {"reference": escrow_id, "external_id": idempotency_key, "reason": reason}
        return str(self._post(f"/v1/deposits/{deposit_id}/return", body, idempotency_key)["id"])

    def _post(self, path: str, body: Mapping[str, object], idempotency_key: str) -> dict[str, str]:
        headers = {"Idempotency-Key": idempotency_key}
        answer = request_json(self._client, "POST", path, "custodian", json=body, headers=headers)
        if not isinstance(answer, dict) or "id" not in answer:
            raise PermanentError(f"custodian: unexpected answer to {path}: {answer!r}")
        return answer


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Custodian-Signature`` header value for ``body``: ``t=<unix s>,v1=<hex HMAC-SHA256
    of "<t>.<body>">``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> None:
    """Checks a webhook's ``Custodian-Signature`` in constant time.

    :raises ValueError: malformed header, wrong signature, or a timestamp more than
        ``SIGNATURE_TOLERANCE_S`` (300 s) from now (a replay).
    """
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        raise ValueError("malformed Custodian-Signature header")
    expected = sign(secret, body, int(parts["t"])).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts["v1"]):
        raise ValueError("signature does not match the body")
    if abs((time.time() if now is None else now) - int(parts["t"])) > SIGNATURE_TOLERANCE_S:
        raise ValueError("timestamp outside the tolerance (replayed?)")
