"""Settling a confirmed USDC deposit by screening its sending wallet (seeds: "Risk Thresholds"):
sanctioned or risk > 80 -> the deposit is returned and the payment fails; 50-80 -> held for manual
review; < 50 -> PaymentSucceeded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from connectors.retry import with_retries
from connectors.screening import Screening, Verdict
from kernel.ids import identified
from kernel.messages import (
    PaymentEvent,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentSucceeded,
)
from topologies.webhooks.translate import DepositToScreen, marked


class Screener(Protocol):
    def screen(self, address: str) -> Screening: ...


class DepositReturner(Protocol):
    def return_deposit(
        self, deposit_id: str, escrow_id: str, reason: str, idempotency_key: str
    ) -> str: ...


def settle(
    deposit: DepositToScreen,
    screener: Screener,
    custodian: DepositReturner,
    sleep: Callable[[float], None] = time.sleep,
) -> PaymentEvent:
    """The payment event the deposit becomes (marked ``recovered_by_reconciliation`` like the
    deposit).

    :raises TransientError | PermanentError: screening or the return failed; the deposit stays
        unsettled (the caller dead-letters the webhook for an operator).
    """
    return marked(
        _screened(deposit, screener, custodian, sleep), deposit.recovered_by_reconciliation
    )


def _screened(
    deposit: DepositToScreen,
    screener: Screener,
    custodian: DepositReturner,
    sleep: Callable[[float], None],
) -> PaymentEvent:
    screening = with_retries(lambda: screener.screen(deposit.from_address), sleep)
    meta = deposit.meta
    if screening.verdict is Verdict.ACCEPT:
        return identified(
            PaymentSucceeded(
                meta,
                deposit.deposit_id,
                deposit.amount,
                deposit.from_address,
                screening.risk_score,
            )
        )
    if screening.verdict is Verdict.REVIEW:
        return identified(
            PaymentHeldForReview(
                meta,
                deposit.deposit_id,
                deposit.amount,
                deposit.from_address,
                screening.risk_score,
            )
        )
    reason = "sanctioned" if screening.sanctioned else f"risk score {screening.risk_score}"
    with_retries(
        lambda: custodian.return_deposit(
            deposit.deposit_id,
            meta.escrow_id,
            f"wallet screening: {reason}",
            # By the transaction when known: a deposit reported twice is returned once.
            idempotency_key=f"return/{deposit.deposit_id}/{deposit.tx_hash or meta.causation_id}",
        ),
        sleep,
    )
    code = "DEPOSIT_RETURNED_SANCTIONED" if screening.sanctioned else "DEPOSIT_RETURNED_HIGH_RISK"
    returned = PaymentFailed(
        meta,
        deposit.deposit_id,
        code,
        f"deposit returned: {reason}",
        attempt_id=deposit.deposit_id,
    )
    return identified(returned)
