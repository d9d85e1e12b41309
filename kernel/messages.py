"""Domain commands and events: frozen dataclasses named and shaped like their protobuf twins
(schemas/escrow/v1, schemas/payments/v1), field for field, so one generic mapper converts them.

Commands are imperative (``MarkDelivered``), events past tense (``EscrowDelivered``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.model import Actor, DisputeResolution, KycTier, Money, Rail


@dataclass(frozen=True)
class CommandMeta:
    command_id: str
    escrow_id: str
    actor: Actor
    issued_at: datetime
    expected_version: int | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class EventMeta:
    event_id: str
    escrow_id: str
    occurred_at: datetime
    version: int
    causation_id: str
    correlation_id: str = ""


# --- escrow.commands.v1 ---------------------------------------------------------------------


@dataclass(frozen=True)
class CreateEscrow:
    meta: CommandMeta
    contract_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    buyer_kyc_tier: KycTier
    seller_kyc_tier: KycTier
    seller_stripe_account_id: str = ""
    seller_wallet_address: str = ""


@dataclass(frozen=True)
class MarkDelivered:
    meta: CommandMeta
    note: str = ""


@dataclass(frozen=True)
class ReleaseFunds:
    meta: CommandMeta
    reason: str = ""


@dataclass(frozen=True)
class CancelEscrow:
    meta: CommandMeta
    reason: str = ""


@dataclass(frozen=True)
class RaiseDispute:
    meta: CommandMeta
    reason: str = ""


@dataclass(frozen=True)
class ResolveDispute:
    meta: CommandMeta
    resolution: DisputeResolution
    note: str = ""


@dataclass(frozen=True)
class ApproveReview:
    """An admin clears a deposit held for manual review: the escrow is funded."""

    meta: CommandMeta
    note: str = ""


@dataclass(frozen=True)
class RejectReview:
    """An admin refuses a deposit held for manual review: it goes back to its sender."""

    meta: CommandMeta
    note: str = ""


@dataclass(frozen=True)
class RetryPayout:
    """An admin asks again for the payout that failed last (a new attempt, a new id)."""

    meta: CommandMeta


EscrowCommand = (
    CreateEscrow
    | MarkDelivered
    | ReleaseFunds
    | CancelEscrow
    | RaiseDispute
    | ResolveDispute
    | ApproveReview
    | RejectReview
    | RetryPayout
)

# --- payments.commands.v1 (emitted by the escrow topology) ----------------------------------


@dataclass(frozen=True)
class CreatePaymentIntent:
    meta: CommandMeta
    amount: Money
    rail: Rail
    buyer_id: str
    seller_id: str
    contract_id: str


@dataclass(frozen=True)
class TransferToSeller:
    meta: CommandMeta
    amount: Money
    rail: Rail
    provider_payment_id: str
    seller_stripe_account_id: str
    seller_wallet_address: str


@dataclass(frozen=True)
class InitiateRefund:
    meta: CommandMeta
    amount: Money
    rail: Rail
    provider_payment_id: str
    reason: str


@dataclass(frozen=True)
class ReturnPayment:
    meta: CommandMeta
    amount: Money
    rail: Rail
    provider_payment_id: str
    reason: str


@dataclass(frozen=True)
class CancelPayment:
    meta: CommandMeta
    rail: Rail
    provider_payment_id: str


PaymentCommand = (
    CreatePaymentIntent | TransferToSeller | InitiateRefund | ReturnPayment | CancelPayment
)

# --- payments.events.v1 (consumed by the escrow topology) -----------------------------------


@dataclass(frozen=True)
class PaymentIntentCreated:
    meta: EventMeta
    rail: Rail
    provider_payment_id: str
    amount: Money
    client_secret: str = ""
    deposit_address: str = ""


@dataclass(frozen=True)
class PaymentSucceeded:
    meta: EventMeta
    provider_payment_id: str
    amount: Money
    payer_wallet_address: str = ""
    risk_score: int = 0
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class PaymentFailed:
    """``attempt_id``: the provider's id of the failed attempt (a Stripe charge, a USDC
    deposit), "" when it has none: one attempt reported twice (a webhook the reconciliation
    recovered, then the late real one) counts once."""

    meta: EventMeta
    provider_payment_id: str
    failure_code: str
    failure_message: str = ""
    recovered_by_reconciliation: bool = False
    attempt_id: str = ""


@dataclass(frozen=True)
class PaymentHeldForReview:
    meta: EventMeta
    provider_payment_id: str
    amount: Money
    payer_wallet_address: str
    risk_score: int
    recovered_by_reconciliation: bool = False


# A payout outcome names the TransferToSeller / InitiateRefund it settles (payment_command_id):
# the causation of a synchronous answer, echoed by a provider's later webhook.


@dataclass(frozen=True)
class TransferSucceeded:
    meta: EventMeta
    transfer_id: str
    amount: Money
    payment_command_id: str = ""
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class TransferFailed:
    meta: EventMeta
    failure_code: str
    failure_message: str = ""
    payment_command_id: str = ""
    transfer_id: str = ""
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class RefundSucceeded:
    meta: EventMeta
    refund_id: str
    amount: Money
    payment_command_id: str = ""
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class RefundFailed:
    meta: EventMeta
    failure_code: str
    failure_message: str = ""
    payment_command_id: str = ""
    refund_id: str = ""
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class TransferSubmitted:
    """The provider accepted the transfer and confirms it later (by webhook)."""

    meta: EventMeta
    transfer_id: str
    amount: Money
    payment_command_id: str


@dataclass(frozen=True)
class RefundSubmitted:
    """The provider accepted the refund and confirms it later (by webhook)."""

    meta: EventMeta
    refund_id: str
    amount: Money
    payment_command_id: str


@dataclass(frozen=True)
class PaymentReturned:
    """The outcome of a ReturnPayment: ``failure_code`` is empty when the money went back."""

    meta: EventMeta
    provider_payment_id: str
    return_id: str
    amount: Money
    reason: str
    failure_code: str = ""
    failure_message: str = ""
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class PaymentCancelled:
    """The outcome of a CancelPayment: ``failure_code`` is empty when the way to pay is closed."""

    meta: EventMeta
    provider_payment_id: str
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class ChargebackOpened:
    """The buyer's bank disputes the card payment (Stripe ``charge.dispute.created``)."""

    meta: EventMeta
    provider_payment_id: str
    dispute_id: str
    amount: Money
    reason: str


@dataclass(frozen=True)
class ChargebackClosed:
    """``status``: "won" (the money stays), "lost" (it went back) or "warning_closed"."""

    meta: EventMeta
    provider_payment_id: str
    dispute_id: str
    status: str


@dataclass(frozen=True)
class TransferReversed:
    """A transfer to the seller was reversed (Stripe ``transfer.reversed``)."""

    meta: EventMeta
    transfer_id: str
    amount: Money


PaymentEvent = (
    PaymentIntentCreated
    | PaymentSucceeded
    | PaymentFailed
    | PaymentHeldForReview
    | TransferSucceeded
    | TransferFailed
    | RefundSucceeded
    | RefundFailed
    | TransferSubmitted
    | RefundSubmitted
    | PaymentReturned
    | PaymentCancelled
    | ChargebackOpened
    | ChargebackClosed
    | TransferReversed
)

# --- escrow.events.v1 -----------------------------------------------------------------------


@dataclass(frozen=True)
class EscrowCreated:
    meta: EventMeta
    contract_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    rail: Rail
    seller_stripe_account_id: str
    seller_wallet_address: str
    created_by: Actor


@dataclass(frozen=True)
class EscrowAwaitFunds:
    meta: EventMeta
    amount: Money
    rail: Rail
    funding_deadline: datetime | None = None


@dataclass(frozen=True)
class EscrowPaymentIntentRecorded:
    meta: EventMeta
    provider_payment_id: str


@dataclass(frozen=True)
class EscrowPaymentFailed:
    meta: EventMeta
    provider_payment_id: str
    failure_code: str
    attempts: int
    attempt_id: str = ""


@dataclass(frozen=True)
class EscrowFundsHeld:
    meta: EventMeta
    provider_payment_id: str
    amount: Money


@dataclass(frozen=True)
class EscrowDelivered:
    meta: EventMeta
    delivered_by: Actor
    note: str
    auto_release_at: datetime | None = None


@dataclass(frozen=True)
class EscrowTransferRequested:
    meta: EventMeta
    payment_command_id: str
    amount: Money
    requested_by: Actor
    resolution: DisputeResolution = DisputeResolution.UNSPECIFIED


@dataclass(frozen=True)
class EscrowTransferFailed:
    meta: EventMeta
    payment_command_id: str
    failure_code: str
    attempts: int
    # None once retries are exhausted.
    retry_at: datetime | None = None


@dataclass(frozen=True)
class EscrowReleased:
    meta: EventMeta
    transfer_id: str
    amount: Money


@dataclass(frozen=True)
class EscrowRefundRequested:
    meta: EventMeta
    payment_command_id: str
    amount: Money
    requested_by: Actor
    reason: str
    resolution: DisputeResolution = DisputeResolution.UNSPECIFIED


@dataclass(frozen=True)
class EscrowRefundFailed:
    meta: EventMeta
    payment_command_id: str
    failure_code: str
    attempts: int
    # None once retries are exhausted.
    retry_at: datetime | None = None


@dataclass(frozen=True)
class EscrowRefunded:
    meta: EventMeta
    refund_id: str
    amount: Money


@dataclass(frozen=True)
class EscrowCancelled:
    meta: EventMeta
    cancelled_by: Actor
    reason: str


@dataclass(frozen=True)
class EscrowDisputed:
    meta: EventMeta
    raised_by: Actor
    reason: str


@dataclass(frozen=True)
class EscrowTransferSubmitted:
    meta: EventMeta
    payment_command_id: str
    transfer_id: str


@dataclass(frozen=True)
class EscrowRefundSubmitted:
    meta: EventMeta
    payment_command_id: str
    refund_id: str


@dataclass(frozen=True)
class EscrowPaymentReturned:
    """Money this escrow cannot take is being sent back to its sender (ReturnPayment)."""

    meta: EventMeta
    payment_command_id: str
    provider_payment_id: str
    amount: Money
    reason: str


@dataclass(frozen=True)
class EscrowPaymentUnderReview:
    """A USDC deposit whose wallet scored 50-80 waits for an admin (seeds: "Risk Thresholds")."""

    meta: EventMeta
    provider_payment_id: str
    amount: Money
    payer_wallet_address: str
    risk_score: int


@dataclass(frozen=True)
class EscrowReviewApproved:
    meta: EventMeta
    reviewed_by: Actor
    note: str


@dataclass(frozen=True)
class EscrowReviewRejected:
    meta: EventMeta
    reviewed_by: Actor
    note: str


@dataclass(frozen=True)
class EscrowChargebackOpened:
    meta: EventMeta
    dispute_id: str
    amount: Money
    reason: str


@dataclass(frozen=True)
class EscrowChargebackClosed:
    meta: EventMeta
    dispute_id: str
    status: str


@dataclass(frozen=True)
class EscrowTransferReversed:
    meta: EventMeta
    transfer_id: str
    amount: Money


@dataclass(frozen=True)
class EscrowCommandRejected:
    meta: EventMeta
    command_id: str
    command_type: str
    reason: str
    detail: str
    actor: Actor


EscrowEvent = (
    EscrowCreated
    | EscrowAwaitFunds
    | EscrowPaymentIntentRecorded
    | EscrowPaymentFailed
    | EscrowFundsHeld
    | EscrowDelivered
    | EscrowTransferRequested
    | EscrowTransferFailed
    | EscrowReleased
    | EscrowRefundRequested
    | EscrowRefundFailed
    | EscrowRefunded
    | EscrowCancelled
    | EscrowDisputed
    | EscrowCommandRejected
    | EscrowTransferSubmitted
    | EscrowRefundSubmitted
    | EscrowPaymentReturned
    | EscrowPaymentUnderReview
    | EscrowReviewApproved
    | EscrowReviewRejected
    | EscrowChargebackOpened
    | EscrowChargebackClosed
    | EscrowTransferReversed
)

# What the escrow topology consumes.
Message = EscrowCommand | PaymentEvent
