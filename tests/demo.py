"""The demo (the README's first command): the whole platform on the local broker, driven through
its HTTP API and provider-style signed webhooks in seven stories, printing each step with the
escrow's state and how long it took to show in the view.

    python -m tests.demo           # with the broker and stripe-mock up (task demo does that)

Exits 1 if any story ends in the wrong state. Starts the platform (``tests.platform``) itself and
stops it, whatever happens.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from confluent_kafka import Producer

from connectors.custodian import SIGNATURE_HEADER, sign
from connectors.kafka_config import producer_config
from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.topics import CONTRACTS_EVENTS, LEDGER_POSTINGS
from gateway.settings import GatewaySettings
from schemas.common.v1.types_pb2 import KycTier
from schemas.contracts.v1.events_pb2 import ContractEvent
from schemas.ledger.v1.types_pb2 import Account
from tests.client import GatewayClient
from tests.eventually import eventually
from tests.kafka import Tail
from tests.platform import Platform, running_platform
from tests.provider_fakes.provider_webhooks import (
    JSON,
    deposit_confirmed,
    stripe_event,
    stripe_signature,
)

STRIPE_AMOUNT = 500_000  # $5,000.00: the Stripe rail
USDC_AMOUNT = 2_500_000  # $25,000.00: the USDC rail
# The 7-day release window, shortened so the demo shows the scheduler acting (the other stories
# release or dispute within it).
AUTO_RELEASE_AFTER_S = 10
POLICY_ENV = {"AUTO_RELEASE_AFTER_S": str(AUTO_RELEASE_AFTER_S)}


# The escrows the stories made, for the ledger's summary.
TOLD: list[str] = []


class Story:
    """One escrow's story: parties, steps, and a record of the states shown."""

    def __init__(self, platform: Platform, title: str) -> None:
        self.platform, self.title = platform, title
        run = uuid.uuid4().hex[:8]
        key = platform.settings.jwt_hs256_key.get_secret_value()
        self.buyer = GatewayClient(platform.gateway_url, key, f"buyer-{run}")
        self.seller = GatewayClient(platform.gateway_url, key, f"seller-{run}")
        self.admin = GatewayClient(platform.gateway_url, key, f"admin-{run}", role="admin")
        self.contract_id = f"contract-{run}"
        self.escrow_id = ""
        self.view: dict[str, Any] = {}
        print(f"\n== {title}")

    def step(
        self,
        label: str,
        act: Callable[[], object],
        until: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any]:
        """Acts, then waits until the view shows the outcome; prints how long that took."""
        started = time.perf_counter()
        act()
        path = (
            f"/api/escrow/{self.escrow_id}"
            if self.escrow_id
            else f"/api/contracts/{self.contract_id}/escrow"
        )
        self.view = self.buyer.wait_for(path, until)
        self.escrow_id = self.view["escrow_id"]
        shown_ms = (time.perf_counter() - started) * 1000
        print(
            f"  {label:<44} -> {self.view['status']:<12} v{self.view['version']:<3} "
            f"shown in {shown_ms:7.1f} ms"
        )
        return self.view

    def contract_executed(self, amount_cents: int) -> dict[str, Any]:
        view = self.step(
            f"contract executed (${amount_cents / 100:,.2f})",
            lambda: publish_contract(self, amount_cents),
            lambda v: bool(v.get("payment", {}).get("provider_payment_id")),
        )
        TOLD.append(self.escrow_id)
        return view

    def command(
        self, who: GatewayClient, action: str, status: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        def act() -> None:
            answer = who.command(self.escrow_id, action, body)
            if answer.status_code != 202:
                raise RuntimeError(f"{action}: {answer.status_code} {answer.text}")

        return self.step(
            f"{who.user_id.split('-')[0]} {action}",
            act,
            lambda v: v["status"] == status,
        )

    def close(self) -> None:
        for client in (self.buyer, self.seller, self.admin):
            client.close()


def publish_contract(story: Story, amount_cents: int) -> None:
    event = ContractEvent()
    event.meta.event_id = f"evt-{story.contract_id}"
    executed = event.contract_executed
    executed.contract_id = story.contract_id
    executed.buyer_id, executed.seller_id = story.buyer.user_id, story.seller.user_id
    executed.amount.amount_cents, executed.amount.currency = amount_cents, "USD"
    executed.buyer_kyc_tier = executed.seller_kyc_tier = KycTier.KYC_TIER_1
    executed.seller_stripe_account_id = f"acct_{story.seller.user_id.replace('-', '')}"
    executed.seller_wallet_address = f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    producer = Producer(producer_config(story.platform.bootstrap))
    value = EnvelopeSerializer(ContractEvent, schema_registry(None))(
        event, value_context(CONTRACTS_EVENTS)
    )
    producer.produce(CONTRACTS_EVENTS, key=story.contract_id, value=value)
    producer.flush(10)


def stripe_webhook(story: Story, body: bytes) -> None:
    """Delivers ``body`` as Stripe would: signed, to the gateway."""
    secret = story.platform.settings.stripe_webhook_secret.get_secret_value()
    answer = httpx.post(
        f"{story.platform.gateway_url}/api/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": stripe_signature(secret, body), **JSON},
    )
    answer.raise_for_status()


def stripe_pays(story: Story) -> None:
    body = stripe_event(
        "payment_intent.succeeded",
        story.view["payment"]["provider_payment_id"],
        story.escrow_id,
        story.view["amount"]["amount_cents"],
    )
    stripe_webhook(story, body)


def usdc_deposit(story: Story, risk_score: int) -> None:
    wallet = f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{story.platform.screening_url}/_fake/wallets",
        json={"address": wallet, "risk_score": risk_score},
    ).raise_for_status()
    body = deposit_confirmed(
        story.view["payment"]["provider_payment_id"],
        story.escrow_id,
        wallet,
        story.view["amount"]["amount_cents"],
    )
    secret = story.platform.settings.custodian_webhook_secret.get_secret_value()
    answer = httpx.post(
        f"{story.platform.gateway_url}/api/webhooks/custodian",
        content=body,
        headers={SIGNATURE_HEADER: sign(secret, body), **JSON},
    )
    answer.raise_for_status()


def stripe_release(p: Platform) -> str:
    s = Story(p, "(a) Stripe rail: funded, delivered, released")
    s.contract_executed(STRIPE_AMOUNT)
    s.step(
        "buyer pays (Stripe webhook)", lambda: stripe_pays(s), lambda v: v["status"] == "FUNDS_HELD"
    )
    s.command(s.seller, "mark-delivered", "DELIVERED")
    s.command(s.buyer, "release", "RELEASED")
    s.close()
    return str(s.view["status"])


def usdc_release(p: Platform) -> str:
    s = Story(p, "(b) USDC rail, low-risk wallet: funded, delivered, released")
    s.contract_executed(USDC_AMOUNT)
    s.step(
        "buyer deposits USDC (risk 10, custodian webhook)",
        lambda: usdc_deposit(s, 10),
        lambda v: v["status"] == "FUNDS_HELD",
    )
    s.command(s.seller, "mark-delivered", "DELIVERED")
    s.command(s.buyer, "release", "RELEASED")
    s.close()
    return str(s.view["status"])


def dispute_refund(p: Platform) -> str:
    s = Story(p, "(c) disputed after delivery, resolved for the buyer")
    s.contract_executed(STRIPE_AMOUNT)
    s.step(
        "buyer pays (Stripe webhook)", lambda: stripe_pays(s), lambda v: v["status"] == "FUNDS_HELD"
    )
    s.command(s.seller, "mark-delivered", "DELIVERED")
    s.command(s.buyer, "dispute", "DISPUTED", {"reason": "the item is not as described"})
    s.command(s.admin, "resolve", "REFUNDED", {"resolution": "FAVOR_BUYER", "note": "refund"})
    s.close()
    return str(s.view["status"])


def cancel_unfunded(p: Platform) -> str:
    s = Story(p, "(d) cancelled before funding")
    s.contract_executed(STRIPE_AMOUNT)
    s.command(s.buyer, "cancel", "CANCELLED", {"reason": "changed my mind"})
    s.close()
    return str(s.view["status"])


def late_payment_returned(p: Platform) -> str:
    s = Story(p, "(e) paid after cancellation: the money goes back")
    s.contract_executed(STRIPE_AMOUNT)
    s.command(s.buyer, "cancel", "CANCELLED", {"reason": "found it cheaper"})
    s.step(
        "buyer's payment arrives anyway (Stripe webhook)",
        lambda: stripe_pays(s),
        lambda v: [r.get("status") for r in v.get("returns", [])] == ["RETURNED"],
    )
    s.close()
    returned = s.view["returns"][0]
    print(f"  returned {returned['amount']['amount_cents'] / 100:,.2f} USD: {returned['reason']}")
    return str(s.view["status"])


def silent_buyer_auto_released(p: Platform) -> str:
    s = Story(p, f"(g) delivered, the buyer goes silent: released after {AUTO_RELEASE_AFTER_S} s")
    s.contract_executed(STRIPE_AMOUNT)
    s.step(
        "buyer pays (Stripe webhook)", lambda: stripe_pays(s), lambda v: v["status"] == "FUNDS_HELD"
    )
    delivered = s.command(s.seller, "mark-delivered", "DELIVERED")
    print(f"  auto-release at {delivered['auto_release_at']} unless the buyer acts")
    s.step(
        "nobody acts; the scheduler releases",
        lambda: None,
        lambda v: v["status"] == "RELEASED",
    )
    s.close()
    return str(s.view["status"])


def reviewed_deposit(p: Platform) -> str:
    s = Story(p, "(f) USDC deposit from a medium-risk wallet, approved in review")
    s.contract_executed(USDC_AMOUNT)
    s.step(
        "buyer deposits USDC (risk 65: held for review)",
        lambda: usdc_deposit(s, 65),
        lambda v: v.get("review", {}).get("status") == "PENDING",
    )
    queue = s.admin.http.get("/api/admin/reviews").json()["reviews"]
    print(
        f"  admin review queue: {sum(r['escrow_id'] == s.escrow_id for r in queue)} for this escrow"
    )
    s.command(s.admin, "approve", "FUNDS_HELD", {"note": "wallet history checked"})
    s.close()
    return str(s.view["status"])


STORIES: list[tuple[Callable[[Platform], str], str]] = [
    (stripe_release, "RELEASED"),
    (usdc_release, "RELEASED"),
    (dispute_refund, "REFUNDED"),
    (cancel_unfunded, "CANCELLED"),
    (late_payment_returned, "CANCELLED"),
    (reviewed_deposit, "FUNDS_HELD"),
    (silent_buyer_auto_released, "RELEASED"),
]


def run_stories(platform: Platform) -> int:
    failures = 0
    for story, expected in STORIES:
        try:
            final = story(platform)
        except (TimeoutError, RuntimeError, httpx.HTTPError) as exc:
            final = f"failed: {exc}"
        ok = final == expected
        failures += not ok
        print(f"  {'OK' if ok else 'WRONG'}: ended {final}, expected {expected}")
    return failures


def print_ledger(postings: Tail) -> None:
    """Sums the ledger's postings of the stories' escrows by account (reads until they stop)."""

    def quiet() -> bool:  # nothing new for 2 s
        before = len(postings.records)
        postings.drain(2.0)
        return len(postings.records) == before

    eventually(quiet, 60, interval_s=0, what="the ledger quiet")
    balances: Counter[str] = Counter()
    told = {escrow_id.encode() for escrow_id in TOLD}
    for record in postings.records:
        if record.key() not in told:
            continue
        posting = postings.decode(record)
        balances[Account.Name(posting.account).removeprefix("ACCOUNT_")] += posting.amount_cents
    print("\n== the ledger after the stories (cents, debit +, credit -)")
    for account, cents in sorted(balances.items()):
        print(f"  {account:<20} {cents:>14,}")
    print(f"  {'(sum)':<20} {sum(balances.values()):>14,}")


def main() -> None:
    log = tempfile.NamedTemporaryFile(prefix="escrow-demo-", suffix=".log", delete=False)
    print(f"starting every topology, the gateway and the provider fakes (log: {log.name})")
    started = time.perf_counter()
    env = {**os.environ, **POLICY_ENV}
    with running_platform(log, GatewaySettings(), env) as platform:
        print(f"platform ready in {time.perf_counter() - started:.1f} s at {platform.gateway_url}")
        postings = Tail(platform.bootstrap, LEDGER_POSTINGS)
        failures = run_stories(platform)
        print_ledger(postings)
        postings.close()
    print(f"\n{len(STORIES) - failures}/{len(STORIES)} stories ended as expected")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
