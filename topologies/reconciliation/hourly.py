"""The hourly reconciliation pass (seeds: "Reconciliation": escrows in AWAIT_FUNDS > 24 h; "Error
Scenarios: Lost Webhook"): for every escrow waiting too long for its payment, or for a payout it
submitted, ask the provider; what the provider says is final but the escrow never heard becomes
the provider's webhook, recovered, on ``webhook.events.v1``. The webhooks topology then treats it
as any webhook (deduplication, translation, a USDC deposit's screening)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from connectors.exceptions import ConnectorError
from connectors.payment_rail import Movement, PaymentRail, ProviderObject
from connectors.retry import with_retries
from kernel.model import Rail
from schemas.escrow.v1.views_pb2 import EscrowView
from state_stores.view_table import Waiting
from topologies.reconciliation.recovery import RecoveredWebhook, awaited, recovered

logger = logging.getLogger(__name__)


class WaitingViews(Protocol):
    def waiting(self, what: Waiting, since: datetime, before: datetime) -> Iterable[EscrowView]: ...


@dataclass(frozen=True)
class HourlyPolicy:
    """How long an escrow may wait before the provider is asked: for its payment (seeds: 24 h)
    and for a submitted payout; and how far back a pass looks (older ones are the funding
    timeout's and the daily reconciliation's: a payment received is reported there if the ledger
    lacks it)."""

    await_funds_after: timedelta
    payout_pending_after: timedelta
    lookback: timedelta


def hourly_pass(
    views: WaitingViews,
    rails: Mapping[Rail, PaymentRail],
    publish: Callable[[RecoveredWebhook], None],
    now: datetime,
    policy: HourlyPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RecoveredWebhook]:
    """Publishes (and returns) the webhooks recovered for the escrows waiting too long at
    ``now``. A provider that fails for one escrow (after retries) is logged and skipped: the
    next pass asks again."""
    recovered_now = []
    waits = {Waiting.FUNDING: policy.await_funds_after, Waiting.PAYOUT: policy.payout_pending_after}
    for what, after in waits.items():
        for view in views.waiting(what, now - policy.lookback, now - after):
            webhook = _recover(view, rails, sleep)
            if webhook is not None:
                publish(webhook)
                recovered_now.append(webhook)
    return recovered_now


def _recover(
    view: EscrowView, rails: Mapping[Rail, PaymentRail], sleep: Callable[[float], None]
) -> RecoveredWebhook | None:
    wanted = awaited(view)
    if wanted is None or wanted.rail not in rails:
        return None
    try:
        found = with_retries(
            lambda: ask(rails[wanted.rail], wanted.movement, wanted.provider_id), sleep
        )
    except ConnectorError as exc:
        logger.warning(
            "reconciliation: %s %s of %s unknown: %s",
            wanted.movement,
            wanted.provider_id,
            view.escrow_id,
            exc,
        )
        return None
    return recovered(view, found)


def ask(provider: PaymentRail, movement: Movement, provider_id: str) -> ProviderObject:
    """The provider's record of a payment or payout.

    :raises TransientError | PermanentError:
    """
    if movement is Movement.PAYMENT:
        return provider.payment_status(provider_id)
    return provider.payout_status(movement, provider_id)
