"""The view shows the deadlines running, and only while they can still fire."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from kernel.messages import MarkDelivered, Message, ReleaseFunds, TransferFailed
from kernel.model import Policy
from schemas.escrow.v1.views_pb2 import EscrowView
from tests.builders import (
    BUYER,
    NOW,
    SELLER,
    command_meta,
    create_escrow,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
    story_events,
)
from topologies.projections.project import project

POLICY = Policy(funding_timeout=timedelta(seconds=30), auto_release_after=timedelta(seconds=20))


def _view_after(messages: Iterable[Message]) -> EscrowView | None:
    view: EscrowView | None = None
    for event in story_events(messages, POLICY):
        view = project(view, event)
    return view


def test_an_unfunded_escrow_shows_its_funding_deadline() -> None:
    view = _view_after([create_escrow(), payment_intent_created()])

    assert view is not None and view.funding_deadline.ToDatetime().timestamp() == (
        (NOW + POLICY.funding_timeout).timestamp()
    )
    assert not view.HasField("auto_release_at")


def test_a_delivered_escrow_shows_its_auto_release_time_and_no_funding_deadline() -> None:
    funded: list[Message] = [create_escrow(), payment_intent_created(), payment_succeeded()]
    view = _view_after([*funded, MarkDelivered(command_meta(actor=SELLER))])

    assert view is not None and not view.HasField("funding_deadline")
    assert (
        view.auto_release_at.ToDatetime().timestamp() == (NOW + timedelta(seconds=20)).timestamp()
    )


def test_a_failed_payout_shows_when_it_is_retried() -> None:
    funded: list[Message] = [create_escrow(), payment_intent_created(), payment_succeeded()]
    delivered = [*funded, MarkDelivered(command_meta(actor=SELLER))]
    release = [*delivered, ReleaseFunds(command_meta(actor=BUYER))]

    pending = _view_after(release)
    failed = _view_after([*release, TransferFailed(payment_meta(), "x")])

    assert pending is not None and not pending.HasField("payout_retry_at")
    assert failed is not None and failed.HasField("payout_retry_at")
