"""Webhooks as Stripe and the custodian send them (bodies and signatures), for tests and the
demo."""

from __future__ import annotations

import json
import uuid
from typing import Any

from connectors.custodian import sign

# Stripe signs "t=<unix s>,v1=<hex HMAC-SHA256(secret, '<t>.<body>')>", the same scheme as the
# custodian's: one signer serves both.
stripe_signature = sign

# The content type both providers send their webhooks with (the gateway refuses others: 415).
JSON = {"Content-Type": "application/json"}


def stripe_event(kind: str, intent_id: str, escrow_id: str, amount_cents: int) -> bytes:
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount_cents,
        "amount_received": amount_cents if kind == "payment_intent.succeeded" else 0,
        "currency": "usd",
        "metadata": {"escrow_id": escrow_id},
        "transfer_group": escrow_id,
    }
    if kind == "payment_intent.payment_failed":
        charge = f"ch_{uuid.uuid4().hex[:24]}"  # each failure a new attempt
        intent["latest_charge"] = charge
        intent["last_payment_error"] = {
            "code": "card_declined",
            "message": "Your card was declined.",
            "charge": charge,
        }
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "data": {"object": intent},
    }
    return json.dumps(event).encode()


def deposit_confirmed(
    deposit_id: str,
    escrow_id: str,
    from_address: str,
    amount_cents: int,
    address: str = "0xdeposit",
    tx_hash: str = "",
) -> bytes:
    """A custodian ``deposit.confirmed`` event (a random ``tx_hash`` unless given)."""
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "type": "deposit.confirmed",
        "created": 0,
        "data": {
            "deposit_id": deposit_id,
            "reference": escrow_id,
            "address": address,
            "from_address": from_address,
            "amount_cents": amount_cents,
            "tx_hash": tx_hash or f"0x{uuid.uuid4().hex}",
        },
    }
    return json.dumps(event).encode()


def custodian_payout_event(payout: dict[str, Any], outcome: str, failure_code: str = "") -> bytes:
    """``transfer.<outcome>`` / ``return.<outcome>`` for a custodian transfer (``trf_...``) or
    return (``ret_...``) object as the custodian answered it (``outcome``: completed | failed)."""
    kind = "transfer" if payout["id"].startswith("trf_") else "return"
    data = {
        f"{kind}_id": payout["id"],
        **{k: v for k, v in payout.items() if k not in ("id", "status", "created")},
    }
    if outcome == "failed":
        data["failure_code"] = failure_code or "chain_reverted"
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "type": f"{kind}.{outcome}", "data": data}
    return json.dumps(event).encode()


def stripe_refund_event(
    kind: str,
    refund_id: str,
    intent_id: str,
    amount_cents: int,
    status: str,
    metadata: dict[str, str],
) -> bytes:
    """A Stripe ``refund.*`` / ``charge.refund.updated`` event about a Refund in ``status``."""
    refund = {
        "id": refund_id,
        "object": "refund",
        "payment_intent": intent_id,
        "amount": amount_cents,
        "currency": "usd",
        "status": status,
        "metadata": metadata,
    }
    if status == "failed":
        refund["failure_reason"] = "expired_or_canceled_card"
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "data": {"object": refund},
    }
    return json.dumps(event).encode()


def stripe_dispute_event(
    kind: str,
    intent_id: str,
    amount_cents: int,
    status: str = "needs_response",
    dispute_id: str = "",
) -> bytes:
    """A Stripe ``charge.dispute.created`` / ``.closed`` event: a chargeback on ``intent_id``
    (a new dispute unless ``dispute_id`` is given)."""
    dispute = {
        "id": dispute_id or f"dp_{uuid.uuid4().hex[:16]}",
        "object": "dispute",
        "payment_intent": intent_id,
        "amount": amount_cents,
        "currency": "usd",
        "reason": "fraudulent",
        "status": status,
    }
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "type": kind, "data": {"object": dispute}}
    return json.dumps(event).encode()
