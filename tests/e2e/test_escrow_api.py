"""End to end through HTTP against every process on the real broker (DESIGN.md §7)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.routing import Route

from gateway.app import create_app
from gateway.auth import issue_token
from tests.client import GatewayClient
from tests.demo import STORIES, Story, stripe_pays
from tests.platform import Platform

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


def test_a_seller_cannot_release_and_a_buyer_cannot_mark_delivered(funded: Story) -> None:
    assert funded.seller.command(funded.escrow_id, "release").status_code == 403
    refused = funded.buyer.command(funded.escrow_id, "mark-delivered")

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_stranger_cannot_read_an_escrow(platform: Platform, funded: Story) -> None:
    key = platform.settings.jwt_hs256_key.get_secret_value()
    stranger = GatewayClient(platform.gateway_url, key, "someone-else")

    assert stranger.escrow(funded.escrow_id).status_code == 403
    stranger.close()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", f"Bearer {issue_token('a-different-key-0123456789abcdef', 'x')}"],
    ids=["missing", "malformed", "forged"],
)
def test_a_missing_or_forged_token_gets_401(
    platform: Platform, funded: Story, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    answer = httpx.get(f"{platform.gateway_url}/api/escrow/{funded.escrow_id}", headers=headers)

    assert answer.status_code == 401
    assert answer.json()["type"] == "/problems/unauthenticated"


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


def test_only_the_buyer_sees_how_to_pay(funded: Story) -> None:
    buyer_view = funded.buyer.contract_escrow(funded.contract_id).json()
    seller_view = funded.seller.contract_escrow(funded.contract_id).json()

    assert buyer_view["payment"]["client_secret"]
    assert "client_secret" not in seller_view["payment"]


@pytest.mark.parametrize(
    ("action", "body", "headers", "status", "kind"),
    [
        ("mark-delivered", None, {"If-Match": "yesterday"}, 400, "invalid-if-match"),
        ("resolve", {"resolution": "SPLIT"}, {}, 422, "invalid-field"),
        ("dispute", {"reason": 42}, {}, 422, "invalid-field"),
    ],
)
def test_a_malformed_request_gets_a_problem_and_queues_nothing(
    funded: Story,
    action: str,
    body: dict[str, object] | None,
    headers: dict[str, str],
    status: int,
    kind: str,
) -> None:
    who = funded.admin if action == "resolve" else funded.seller

    answer = who.command(funded.escrow_id, action, body, **headers)

    assert (answer.status_code, answer.json()["type"]) == (status, f"/problems/{kind}")
    assert "location" not in answer.headers  # no command was queued


def test_unknown_escrows_and_routes_are_problems(funded: Story) -> None:
    unknown = funded.buyer.escrow("esc_does_not_exist")
    no_route = funded.buyer.http.get("/api/nothing-here")

    assert (unknown.status_code, unknown.json()["type"]) == (404, "/problems/not-found")
    assert no_route.status_code == 404
    assert no_route.headers["content-type"] == "application/problem+json"


def test_the_openapi_document_lists_every_route(platform: Platform) -> None:
    document = httpx.get(f"{platform.gateway_url}/openapi.json").json()
    app = create_app(platform.settings, None, None, None)  # type: ignore[arg-type]

    routes = [route for route in app.routes if isinstance(route, Route)]
    served = {(r.path, m.lower()) for r in routes for m in (r.methods or []) if m != "HEAD"}
    listed = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == listed
