"""What the escrow asks the payments topology to do with money (DESIGN.md §5): pay the seller,
refund the buyer, send back money it cannot take, close an unfunded escrow's way to pay. Pure:
each command's id derives from its cause, so reprocessing asks once."""

from __future__ import annotations

from datetime import datetime

from kernel.ids import system_command_meta
from kernel.messages import (
    CancelPayment,
    CommandMeta,
    EscrowPaymentReturned,
    EscrowRefundRequested,
    EscrowTransferRequested,
    EventMeta,
    InitiateRefund,
    Message,
    PaymentCommand,
    ReturnPayment,
    TransferToSeller,
)
from kernel.model import DisputeResolution, Escrow, EscrowStatus, Money
from topologies.escrow.decision import Decision, Events, accepted, message_id, payment_command_meta

S = EscrowStatus


def transfer(
    state: Escrow, meta: CommandMeta, now: datetime, resolution: DisputeResolution
) -> Decision:
    """Asks the payments topology to pay the seller; the escrow is released once it has."""
    command = TransferToSeller(
        payment_command_meta(TransferToSeller, meta, now),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        seller_stripe_account_id=state.seller_stripe_account_id,
        seller_wallet_address=state.seller_wallet_address,
    )
    new = Events(state, meta, now)
    requested = EscrowTransferRequested(
        new.meta(EscrowTransferRequested),
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        resolution=resolution,
    )
    return accepted(state, [requested], [command])


def refund(
    state: Escrow, meta: CommandMeta, now: datetime, reason: str, resolution: DisputeResolution
) -> Decision:
    """Asks the payments topology to refund the buyer; the escrow is refunded once it has."""
    command = InitiateRefund(
        payment_command_meta(InitiateRefund, meta, now),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        reason=reason,
    )
    new = Events(state, meta, now)
    requested = EscrowRefundRequested(
        new.meta(EscrowRefundRequested),
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        reason=reason,
        resolution=resolution,
    )
    return accepted(state, [requested], [command])


def why_stranded(state: Escrow, provider_payment_id: str, amount: Money) -> str:
    """Why the escrow cannot take this money ("" if it can): the reason its sender is told."""
    if state.status is S.CANCELLED:
        return "the escrow was cancelled"
    if state.status is not S.AWAIT_FUNDS:
        return "the escrow is funded already"
    if provider_payment_id != state.provider_payment_id:
        expected = state.provider_payment_id or "(none yet)"
        return f"payment {provider_payment_id} is not this escrow's ({expected})"
    if amount != state.amount:
        return (
            f"got {amount.amount_cents} {amount.currency}, "
            f"expected {state.amount.amount_cents} {state.amount.currency}"
        )
    return ""


def returning(
    state: Escrow, cause: Message, new: Events, amount: Money, reason: str, payment_id: str = ""
) -> tuple[EscrowPaymentReturned, ReturnPayment]:
    """Sends money the escrow cannot take back to its sender (DESIGN.md §5 compensation), once
    per cause: the ReturnPayment's id derives from it. The payment is the cause's, or
    ``payment_id``."""
    meta = cause.meta
    payment_id = payment_id or getattr(cause, "provider_payment_id", "")
    command = ReturnPayment(
        system_command_meta(
            ReturnPayment, state.escrow_id, message_id(meta), new.now, meta.correlation_id
        ),
        amount=amount,
        rail=state.rail,
        provider_payment_id=payment_id,
        reason=reason,
    )
    returned = EscrowPaymentReturned(
        new.meta(EscrowPaymentReturned), command.meta.command_id, payment_id, amount, reason
    )
    return returned, command


def close_payment(
    state: Escrow, cause_id: str, cause: CommandMeta | EventMeta, now: datetime
) -> list[PaymentCommand]:
    """The CancelPayment that closes an unfunded escrow's way to pay, if it has one yet."""
    if not state.provider_payment_id:
        return []
    meta = system_command_meta(CancelPayment, state.escrow_id, cause_id, now, cause.correlation_id)
    return [CancelPayment(meta, state.rail, state.provider_payment_id)]
