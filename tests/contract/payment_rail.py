"""The contract every ``PaymentRail`` keeps (DESIGN.md §5), written once and run by each rail's test
class against a server speaking that rail's API: the custodian fake in unit time, stripe-mock under
``@pytest.mark.integration``.

A subclass says where its rail points (``make_rail``), how its server is told to fail and what it
recorded (the hooks below), and what its server can prove (the class attributes). The base is not
named ``Test...``, so pytest collects its tests only through the subclasses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from connectors.exceptions import PermanentError, TransientError
from connectors.payment_rail import CreatedPayment, Movement, PaymentRail, ProviderObject, Status
from connectors.retry import with_retries


def no_sleep(seconds: float) -> None:
    """Retries without waiting: the backoff schedule is ``connectors.retry``'s, not the rail's."""


@dataclass(frozen=True)
class IdPrefixes:
    """How the provider's ids start (``pi_`` / ``tr_`` / ``re_`` for Stripe)."""

    payment: str
    transfer: str
    refund: str


class PaymentRailContract(ABC):
    ids: ClassVar[IdPrefixes]
    # Where the seller is paid: a connected account or a wallet address.
    destination: ClassVar[str]
    # Whether the server stores idempotency keys and replays the first answer (the custodian fake
    # does; stripe-mock answers every request afresh, so it cannot prove it).
    server_replays_idempotent_requests: ClassVar[bool]
    # Whether a transfer / refund is final when the provider answers (else a webhook confirms).
    transfers_settle_at_once: ClassVar[bool]
    refunds_settle_at_once: ClassVar[bool]
    # The webhook that reports a payment received (payment_intent.succeeded, deposit.confirmed).
    payment_succeeded_event: ClassVar[str]

    @abstractmethod
    def make_rail(self) -> PaymentRail:
        """A rail pointed at this test's server, which starts with no faults and no records."""

    @abstractmethod
    def fail_next(self, *statuses: int) -> None:
        """Makes the server answer its next requests with ``statuses``, one each."""

    @abstractmethod
    def fail_every_request(self, status: int) -> None:
        """Makes the server answer ``status`` to every request from now on."""

    @abstractmethod
    def pay_in(self, payment: CreatedPayment, amount_cents: int) -> None:
        """Makes the provider record the buyer's payment as received (and send no webhook)."""

    @abstractmethod
    def idempotency_keys_sent(self) -> list[str | None]:
        """One item per request the server received, in order: its ``Idempotency-Key`` or None."""

    def keys_sent(self) -> list[str]:
        """The idempotency keys sent, leaving out requests without one (reads, e.g. Stripe's)."""
        return [key for key in self.idempotency_keys_sent() if key is not None]

    def pay(self, rail: PaymentRail, idempotency_key: str) -> CreatedPayment:
        return rail.create_payment(
            escrow_id="esc-1", amount_cents=250_000, currency="USD", idempotency_key=idempotency_key
        )

    def test_create_payment_returns_a_payment_id_and_sends_the_idempotency_key(self) -> None:
        created = self.pay(self.make_rail(), "cmd-pay")

        assert created.provider_payment_id.startswith(self.ids.payment)
        assert self.keys_sent() == ["cmd-pay"]

    def test_create_payment_tells_the_buyer_how_to_pay(self) -> None:
        created = self.pay(self.make_rail(), "cmd-pay")

        assert created.client_secret or created.deposit_address

    def test_the_same_idempotency_key_twice_yields_the_same_payment(self) -> None:
        if not self.server_replays_idempotent_requests:
            pytest.skip(f"{type(self).__name__}'s server keeps no idempotency record")
        rail = self.make_rail()

        first = self.pay(rail, "cmd-pay")
        again = self.pay(rail, "cmd-pay")

        assert first == again
        assert self.keys_sent() == ["cmd-pay", "cmd-pay"]

    def test_transfer_sends_its_idempotency_key_and_returns_the_transfer_id(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")

        payout = rail.transfer(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            destination=self.destination,
            idempotency_key="cmd-transfer",
        )

        assert payout.provider_id.startswith(self.ids.transfer)
        assert payout.settled is self.transfers_settle_at_once
        assert self.keys_sent() == ["cmd-pay", "cmd-transfer"]

    def test_refund_sends_its_idempotency_key_and_returns_the_refund_id(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")

        payout = rail.refund(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            idempotency_key="cmd-refund",
        )

        assert payout.provider_id.startswith(self.ids.refund)
        assert payout.settled is self.refunds_settle_at_once
        assert self.keys_sent() == ["cmd-pay", "cmd-refund"]

    def test_returning_a_payment_sends_its_idempotency_key_and_returns_the_return_id(
        self,
    ) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")

        return_id = rail.return_payment(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            reason="the escrow was cancelled",
            idempotency_key="cmd-return",
        )

        assert return_id.startswith(self.ids.refund)
        assert self.keys_sent() == ["cmd-pay", "cmd-return"]

    def test_cancelling_a_payment_sends_its_idempotency_key(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")

        rail.cancel_payment(
            escrow_id="esc-1",
            provider_payment_id=payment.provider_payment_id,
            idempotency_key="cmd-cancel",
        )

        assert self.keys_sent() == ["cmd-pay", "cmd-cancel"]

    def test_two_503s_then_success_succeeds_after_retries_with_the_same_key(self) -> None:
        rail = self.make_rail()
        self.fail_next(503, 503)

        created = with_retries(lambda: self.pay(rail, "cmd-pay"), sleep=no_sleep)

        assert created.provider_payment_id.startswith(self.ids.payment)
        assert self.idempotency_keys_sent() == ["cmd-pay"] * 3

    def test_a_400_is_permanent_and_not_retried(self) -> None:
        rail = self.make_rail()
        self.fail_next(400)

        with pytest.raises(PermanentError):
            with_retries(lambda: self.pay(rail, "cmd-pay"), sleep=no_sleep)
        assert len(self.idempotency_keys_sent()) == 1

    def test_a_provider_that_never_recovers_fails_transiently_after_five_tries(self) -> None:
        rail = self.make_rail()
        self.fail_every_request(503)

        with pytest.raises(TransientError):
            with_retries(lambda: self.pay(rail, "cmd-pay"), sleep=no_sleep)
        assert self.idempotency_keys_sent() == ["cmd-pay"] * 5

    # --- the read side (reconciliation) ------------------------------------------------------

    def transfer(self, rail: PaymentRail, payment: CreatedPayment, key: str) -> str:
        return rail.transfer(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            destination=self.destination,
            idempotency_key=key,
        ).provider_id

    def test_a_payment_not_paid_yet_is_pending_and_announced_by_no_webhook(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")

        found = rail.payment_status(payment.provider_payment_id)

        assert (found.movement, found.status, found.webhook) == (
            Movement.PAYMENT,
            Status.PENDING,
            None,
        )
        assert (found.provider_id, found.escrow_id) == (payment.provider_payment_id, "esc-1")

    def test_a_paid_payment_succeeded_with_the_webhook_the_provider_sends(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")
        self.pay_in(payment, 250_000)

        found = rail.payment_status(payment.provider_payment_id)

        assert found.status is Status.SUCCEEDED
        assert (found.amount_cents, found.currency) == (250_000, "USD")
        assert found.webhook is not None
        assert found.webhook.event_type == self.payment_succeeded_event

    def test_a_transfer_s_status_is_what_the_provider_answered_when_it_was_made(self) -> None:
        rail = self.make_rail()
        transfer_id = self.transfer(rail, self.pay(rail, "cmd-pay"), "cmd-transfer")

        found = rail.payout_status(Movement.TRANSFER, transfer_id)

        settled = Status.SUCCEEDED if self.transfers_settle_at_once else Status.PENDING
        assert (found.movement, found.provider_id, found.status) == (
            Movement.TRANSFER,
            transfer_id,
            settled,
        )
        assert (found.escrow_id, found.amount_cents) == ("esc-1", 250_000)

    def test_a_refund_and_a_return_are_told_apart(self) -> None:
        rail = self.make_rail()
        payment = self.pay(rail, "cmd-pay")
        self.pay_in(payment, 250_000)
        refund_id = rail.refund(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            idempotency_key="cmd-refund",
        ).provider_id
        return_id = rail.return_payment(
            escrow_id="esc-1",
            amount_cents=250_000,
            currency="USD",
            provider_payment_id=payment.provider_payment_id,
            reason="paid twice",
            idempotency_key="cmd-return",
        )

        refund = rail.payout_status(Movement.REFUND, refund_id)
        returned = rail.payout_status(Movement.RETURN, return_id)

        assert (refund.movement, returned.movement) == (Movement.REFUND, Movement.RETURN)
        assert refund.provider_payment_id == payment.provider_payment_id
        settled = Status.SUCCEEDED if self.refunds_settle_at_once else Status.PENDING
        assert refund.status is settled

    def test_records_since_a_time_list_what_was_made_from_then_on(self) -> None:
        rail = self.make_rail()
        before = datetime.now(UTC) - timedelta(seconds=1)
        payment = self.pay(rail, "cmd-pay")
        self.pay_in(payment, 250_000)
        transfer_id = self.transfer(rail, payment, "cmd-transfer")

        listed = list(rail.records_since(before))
        later = list(rail.records_since(datetime.now(UTC) + timedelta(hours=1)))

        assert {(o.movement, o.provider_id) for o in listed} >= {
            (Movement.PAYMENT, payment.provider_payment_id),
            (Movement.TRANSFER, transfer_id),
        }
        assert all(isinstance(o, ProviderObject) for o in listed)
        assert not [o for o in later if o.provider_id in (payment.provider_payment_id, transfer_id)]

    def test_an_unknown_payment_is_a_permanent_error(self) -> None:
        with pytest.raises(PermanentError):
            self.make_rail().payment_status(f"{self.ids.payment}unknown")
