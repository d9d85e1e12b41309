"""End to end through HTTP against every process on the real broker (DESIGN.md §7).

Only what needs the real topology is here: the stories, and the contracts the escrow topology
and the view table complete (a stale If-Match rejected, an Idempotency-Key applied once, Prefer
wait answered with the outcome). The gateway's own HTTP contracts (401/403/404 problems, body
validation, secret redaction, OpenAPI) are unit tests: tests/unit/gateway/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.demo import STORIES, USDC_AMOUNT, Story, stripe_pays, stripe_webhook, usdc_deposit
from tests.eventually import eventually
from tests.platform import Platform
from tests.provider_fakes.provider_webhooks import stripe_dispute_event
from topologies.settings import RailSettings

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("story", "expected"), STORIES, ids=[s.__name__ for s, _ in STORIES])
def test_each_story_ends_as_expected(
    platform: Platform, story: Callable[[Platform], str], expected: str
) -> None:
    assert story(platform) == expected


@pytest.fixture
def funded(platform: Platform) -> Iterator[Story]:
    """An escrow whose funds are held."""
    story = Story(platform, "fixture: funded escrow")
    story.contract_executed(500_000)
    story.step("buyer pays", lambda: stripe_pays(story), lambda v: v["status"] == "FUNDS_HELD")
    yield story
    story.close()


def test_a_stale_if_match_gets_the_command_rejected_with_version_mismatch(funded: Story) -> None:
    stale = str(funded.view["version"] - 1)

    accepted = funded.seller.command(
        funded.escrow_id, "mark-delivered", None, **{"If-Match": f'"{stale}"'}
    )
    outcome = funded.seller.outcome(accepted.headers["Location"], wait_s=10)

    assert accepted.status_code == 202
    assert (outcome["status"], outcome["reason"]) == ("REJECTED", "VERSION_MISMATCH")


def test_the_same_idempotency_key_twice_is_one_command(funded: Story) -> None:
    first = funded.seller.command(
        funded.escrow_id, "mark-delivered", None, **{"Idempotency-Key": "k-1"}
    )
    second = funded.seller.command(
        funded.escrow_id, "mark-delivered", None, **{"Idempotency-Key": "k-1"}
    )
    funded.seller.outcome(first.headers["Location"], wait_s=10)
    # A later command: once it is decided, the repeat was too.
    later = funded.buyer.command(funded.escrow_id, "dispute", {"reason": "marker"})
    funded.buyer.outcome(later.headers["Location"], wait_s=10)

    view = funded.buyer.escrow(funded.escrow_id).json()
    assert first.headers["Location"] == second.headers["Location"]
    assert [h["event_type"] for h in view["history"]].count("EscrowDelivered") == 1


def test_prefer_wait_returns_the_outcome_once_it_exists(funded: Story) -> None:
    accepted = funded.seller.command(funded.escrow_id, "mark-delivered")

    answer = funded.seller.http.get(accepted.headers["Location"], headers={"Prefer": "wait=5"})

    assert answer.json()["status"] == "APPLIED"
    assert answer.headers["Preference-Applied"] == "wait=5"


def test_a_failed_on_chain_transfer_is_retried_by_the_scheduler_then_by_an_admin_and_pays_once(
    platform: Platform,
) -> None:
    """With the platform's policy here: one automatic retry 2 s after a failure, then an admin."""
    story = Story(platform, "a USDC transfer that fails on chain twice, then succeeds")
    story.contract_executed(USDC_AMOUNT)
    story.step("deposit", lambda: usdc_deposit(story, 10), lambda v: v["status"] == "FUNDS_HELD")
    story.command(story.seller, "mark-delivered", "DELIVERED")
    settlement = f"{platform.custodian_url}/_fake/settlement"
    httpx.post(settlement, json={"outcome": "failed"}).raise_for_status()
    try:
        # The custodian accepts each transfer ("submitted"), then reports transfer.failed.
        failed = story.step(
            "buyer release (the transfer fails on chain)",
            lambda: story.buyer.command(story.escrow_id, "release").raise_for_status(),
            lambda v: "EscrowTransferFailed" in [h["event_type"] for h in v["history"]],
        )
        assert failed["status"] == "DELIVERED" and failed.get("payout_retry_at")
        exhausted = story.step(
            "the scheduler retries (and it fails again)",
            lambda: None,
            lambda v: [h["event_type"] for h in v["history"]].count("EscrowTransferFailed") == 2,
        )
        assert exhausted["status"] == "DELIVERED" and not exhausted.get("payout_retry_at")
    finally:
        httpx.post(settlement, json={"outcome": "completed"}).raise_for_status()

    story.command(story.admin, "retry-payout", "RELEASED")

    objects = httpx.get(f"{platform.custodian_url}/_fake/objects").json()
    transfers = [
        o for o in objects if o.get("reference") == story.escrow_id and o["id"].startswith("trf_")
    ]
    assert sorted(t["status"] for t in transfers) == ["completed", "failed", "failed"]
    assert story.view["transfer_id"] == next(
        t["id"] for t in transfers if t["status"] == "completed"
    )
    story.close()


def held_for_review(platform: Platform) -> Story:
    story = Story(platform, "a USDC deposit held for review")
    story.contract_executed(USDC_AMOUNT)
    story.step(
        "deposit (risk 65)",
        lambda: usdc_deposit(story, 65),
        lambda v: v.get("review", {}).get("status") == "PENDING",
    )
    return story


def test_only_an_admin_decides_a_review(platform: Platform) -> None:
    story = held_for_review(platform)

    for party in (story.buyer, story.seller):
        assert party.command(story.escrow_id, "approve").status_code == 403
    assert story.buyer.http.get("/api/admin/reviews").status_code == 403
    queue = story.admin.http.get("/api/admin/reviews").json()["reviews"]
    assert story.escrow_id in [r["escrow_id"] for r in queue]
    story.close()


def test_a_rejected_review_sends_the_deposit_back(platform: Platform) -> None:
    story = held_for_review(platform)

    story.step(
        "admin rejects",
        lambda: story.admin.command(
            story.escrow_id, "reject", {"note": "mixer"}
        ).raise_for_status(),
        lambda v: [r.get("status") for r in v.get("returns", [])] == ["RETURNED"],
    )

    assert story.view["status"] == "AWAIT_FUNDS"
    assert story.view["review"]["status"] == "REJECTED"
    queue = story.admin.http.get("/api/admin/reviews").json()["reviews"]
    assert story.escrow_id not in [r["escrow_id"] for r in queue]
    story.close()


def test_a_chargeback_on_held_funds_disputes_the_escrow_and_the_ledger_follows_it(
    funded: Story,
) -> None:
    intent = funded.view["payment"]["provider_payment_id"]
    opened = stripe_dispute_event("charge.dispute.created", intent, 500_000, dispute_id="dp_e2e")
    won = stripe_dispute_event("charge.dispute.closed", intent, 500_000, "won", "dp_e2e")

    disputed = funded.step(
        "the buyer's bank opens a chargeback (Stripe webhook)",
        lambda: stripe_webhook(funded, opened),
        lambda v: v["status"] == "DISPUTED",
    )
    taken = eventually(
        lambda: _ledger(funded, lambda b: b.get("CHARGEBACKS") == 500_000),
        30,
        interval_s=0.1,
        what="the chargeback posted",
    )
    funded.step(
        "the platform wins the chargeback",
        lambda: stripe_webhook(funded, won),
        lambda v: v["chargebacks"][0]["status"] == "won",
    )
    back = eventually(
        lambda: _ledger(funded, lambda b: b.get("CHARGEBACKS") == 0),
        30,
        interval_s=0.1,
        what="the won chargeback posted",
    )

    [chargeback] = disputed["chargebacks"]
    assert (chargeback["status"], chargeback["amount"]["amount_cents"]) == ("open", 500_000)
    assert taken["ESCROW_HOLDING"] == 0
    assert back["ESCROW_HOLDING"] == 500_000


def _ledger(story: Story, until: Callable[[dict[str, int]], bool]) -> dict[str, int] | None:
    """The escrow's ledger balances per account once ``until`` holds for them, else None."""
    postings = story.admin.http.get(f"/api/admin/ledger/escrow/{story.escrow_id}").json()
    balances: dict[str, int] = {}
    for p in postings["postings"]:
        balances[p["account"]] = balances.get(p["account"], 0) + p["amount_cents"]
    return balances if until(balances) else None


def test_the_ledger_holds_a_funded_escrows_money(funded: Story) -> None:
    path = f"/api/admin/ledger/escrow/{funded.escrow_id}"

    def held() -> int:
        postings = funded.admin.http.get(path).json()["postings"]
        return sum(p["amount_cents"] for p in postings if p["account"] == "ESCROW_HOLDING")

    assert eventually(held, 30, interval_s=0.1, what="the ledger holding the money") == 500_000
    balances = funded.admin.http.get("/api/admin/ledger/balances").json()
    assert balances["held_cents"] >= 500_000


def test_no_secret_appears_in_any_log_line(platform: Platform, platform_log: Path) -> None:
    """Last in this module, so it reads the logs of everything above: the processes' secrets,
    the buyers' client secrets and the bearer tokens never reach a log line."""
    story = Story(platform, "a payment whose client secret must stay out of the logs")
    story.contract_executed(500_000)
    client_secret = story.view["payment"]["client_secret"]
    story.step("buyer pays", lambda: stripe_pays(story), lambda v: v["status"] == "FUNDS_HELD")
    story.close()
    settings = platform.settings
    secrets = {
        "JWT_HS256_KEY": settings.jwt_hs256_key.get_secret_value(),
        "STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret.get_secret_value(),
        "CUSTODIAN_WEBHOOK_SECRET": settings.custodian_webhook_secret.get_secret_value(),
        "STRIPE_API_KEY": RailSettings().stripe_api_key.get_secret_value(),
        "CUSTODIAN_API_KEY": RailSettings().custodian_api_key.get_secret_value(),
        "a client secret": client_secret,
        "a bearer token": "Bearer ey",
    }

    logged = platform_log.read_text(errors="replace")

    assert client_secret and len(logged) > 10_000  # something was logged, and a secret issued
    assert [name for name, secret in secrets.items() if secret in logged] == []
