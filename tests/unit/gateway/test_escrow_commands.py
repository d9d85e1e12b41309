"""Sending commands (POST /api/escrow/{id}/..., /api/disputes/{id}/resolve): who may ask, what the
body may say, and what is published to escrow.commands.v1. What the escrow's state allows is the
escrow topology's to decide, not the gateway's."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from connectors.topics import ESCROW_COMMANDS
from gateway.ports import PublishError
from kernel import mapping
from kernel.messages import (
    CancelEscrow,
    EscrowCommand,
    MarkDelivered,
    RaiseDispute,
    ReleaseFunds,
    ResolveDispute,
)
from kernel.model import Actor, DisputeResolution, Role
from kernel.permissions import PERMISSIONS, Party
from tests.fakes import FakePublisher
from tests.unit.gateway.support import (
    ADMIN,
    BUYER,
    ESCROW_ID,
    MUTATIONS,
    PRINCIPALS,
    SELLER,
    as_party,
    assert_problem,
    bearer,
    mutation_path,
)

PARTIES_WITH_TOKENS = list(PRINCIPALS)


def published_command(publisher: FakePublisher) -> Any:
    """The one command published, as the escrow topology decodes it."""
    [(topic, key, envelope)] = publisher.sent
    assert (topic, key) == (ESCROW_COMMANDS, ESCROW_ID)
    return mapping.COMMANDS.to_domain(envelope)


def test_every_command_of_the_permission_table_has_a_route() -> None:
    assert set(MUTATIONS) == set(PERMISSIONS)


class TestWhoMaySend:
    """The gateway refuses whoever the permission table never allows, in any state."""

    @pytest.mark.parametrize(
        ("command", "party"),
        [(command, party) for command in MUTATIONS for party in PARTIES_WITH_TOKENS],
        ids=[f"{c.__name__}-{p}" for c in MUTATIONS for p in PARTIES_WITH_TOKENS],
    )
    def test_a_command_is_accepted_exactly_from_the_parties_the_table_allows(
        self,
        client: TestClient,
        publisher: FakePublisher,
        command: type[EscrowCommand],
        party: Party,
    ) -> None:
        answer = client.post(
            mutation_path(command), json=MUTATIONS[command][1], headers=as_party(party)
        )

        if party in PERMISSIONS[command].parties:
            assert answer.status_code == 202
            sent = published_command(publisher)
            user_id, role = PRINCIPALS[party]
            assert type(sent) is command
            assert sent.meta.actor == Actor(user_id, Role.ADMIN if role == "admin" else Role.USER)
        else:
            assert_problem(answer, 403, "forbidden")
            assert publisher.sent == []

    def test_a_seller_cannot_release_funds(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(mutation_path(ReleaseFunds), headers=as_party(Party.SELLER))

        assert_problem(answer, 403, "forbidden")
        assert publisher.sent == []

    def test_a_buyer_cannot_mark_the_assets_delivered(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(mutation_path(MarkDelivered), headers=as_party(Party.BUYER))

        problem = assert_problem(answer, 403, "forbidden")
        assert problem["detail"] == "allowed: seller"
        assert publisher.sent == []

    @pytest.mark.parametrize("command", list(MUTATIONS))
    def test_a_command_to_an_unknown_escrow_is_a_404_problem(
        self, client: TestClient, publisher: FakePublisher, command: type[EscrowCommand]
    ) -> None:
        path = mutation_path(command, "esc-unknown")

        answer = client.post(path, json=MUTATIONS[command][1], headers=bearer(ADMIN, "admin"))

        assert_problem(answer, 404, "not-found")
        assert publisher.sent == []


class TestAnAdminWhoIsTheBuyer:
    """A party to the trade acts as that party even if also an admin: nobody arbitrates their
    own escrow."""

    def test_they_release_funds_as_the_buyer(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(mutation_path(ReleaseFunds), headers=bearer(BUYER, "admin"))

        assert answer.status_code == 202
        assert published_command(publisher).meta.actor == Actor(BUYER, Role.ADMIN)

    def test_they_cannot_resolve_the_dispute_of_their_own_escrow(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(
            mutation_path(ResolveDispute),
            json={"resolution": "FAVOR_BUYER"},
            headers=bearer(BUYER, "admin"),
        )

        assert_problem(answer, 403, "forbidden")
        assert publisher.sent == []


class TestAcceptedCommands:
    def test_an_accepted_command_answers_202_with_its_location(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(mutation_path(MarkDelivered), headers=as_party(Party.SELLER))

        command_id = answer.json()["command_id"]
        assert answer.status_code == 202
        assert answer.json() == {"command_id": command_id, "status": "PENDING"}
        assert answer.headers["location"] == f"/api/commands/{command_id}"
        assert command_id.startswith(f"{ESCROW_ID}~")
        assert published_command(publisher).meta.command_id == command_id

    def test_the_published_command_carries_its_meta(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        answer = client.post(
            mutation_path(MarkDelivered),
            headers=as_party(Party.SELLER) | {"X-Correlation-Id": "corr-42"},
        )

        meta = published_command(publisher).meta
        assert meta.command_id == answer.json()["command_id"]
        assert meta.escrow_id == ESCROW_ID
        assert meta.actor == Actor(SELLER, Role.USER)
        assert meta.expected_version is None
        assert meta.correlation_id == "corr-42"
        assert meta.issued_at.tzinfo is not None

    def test_the_correlation_id_defaults_to_the_command_id(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        client.post(mutation_path(ReleaseFunds), headers=as_party(Party.BUYER))

        meta = published_command(publisher).meta
        assert meta.correlation_id == meta.command_id

    @pytest.mark.parametrize(
        ("command", "party", "body", "expected"),
        [
            (MarkDelivered, Party.SELLER, {"note": "keys sent"}, {"note": "keys sent"}),
            (RaiseDispute, Party.BUYER, {"reason": "broken"}, {"reason": "broken"}),
            (CancelEscrow, Party.SELLER, {"reason": "out of stock"}, {"reason": "out of stock"}),
            (
                ResolveDispute,
                Party.ADMIN,
                {"resolution": "FAVOR_SELLER", "note": "proof ok"},
                {"resolution": DisputeResolution.FAVOR_SELLER, "note": "proof ok"},
            ),
            (RaiseDispute, Party.SELLER, {}, {"reason": ""}),
            (MarkDelivered, Party.SELLER, {"note": "n" * 500}, {"note": "n" * 500}),
        ],
        ids=["note", "reason", "cancel-reason", "resolution", "no-body", "500-chars"],
    )
    def test_the_body_becomes_the_command(
        self,
        client: TestClient,
        publisher: FakePublisher,
        command: type[EscrowCommand],
        party: Party,
        body: dict[str, Any],
        expected: dict[str, Any],
    ) -> None:
        answer = client.post(mutation_path(command), json=body or None, headers=as_party(party))

        assert answer.status_code == 202
        sent = published_command(publisher)
        assert type(sent) is command
        assert {name: getattr(sent, name) for name in expected} == expected

    def test_a_publish_failure_is_a_503_problem(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        publisher.fail_with = PublishError("not acknowledged in time")

        answer = client.post(mutation_path(ReleaseFunds), headers=as_party(Party.BUYER))

        assert_problem(answer, 503, "unavailable")
        assert "location" not in answer.headers
        assert publisher.sent == []


class TestMalformedRequests:
    """Nothing is published for a request the gateway refuses."""

    @pytest.mark.parametrize(
        ("content", "kind"),
        [
            (b"{not json", "malformed-body"),
            (b"[1, 2]", "malformed-body"),
            (b'"a reason"', "malformed-body"),
            (b"null", "malformed-body"),
        ],
        ids=["not-json", "array", "string", "null"],
    )
    def test_a_body_that_is_not_a_json_object_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, content: bytes, kind: str
    ) -> None:
        answer = client.post(
            mutation_path(RaiseDispute),
            content=content,
            headers=as_party(Party.BUYER) | {"Content-Type": "application/json"},
        )

        assert_problem(answer, 400, kind)
        assert publisher.sent == []

    @pytest.mark.parametrize(
        ("command", "party", "body"),
        [
            (RaiseDispute, Party.BUYER, {"reason": 42}),
            (RaiseDispute, Party.BUYER, {"reason": None}),
            (RaiseDispute, Party.BUYER, {"reason": ["a"]}),
            (CancelEscrow, Party.SELLER, {"reason": "r" * 501}),
            (MarkDelivered, Party.SELLER, {"note": "n" * 501}),
            (MarkDelivered, Party.SELLER, {"note": {"text": "x"}}),
            (ResolveDispute, Party.ADMIN, {"resolution": "FAVOR_BUYER", "note": 1}),
        ],
        ids=[
            "reason-number",
            "reason-null",
            "reason-list",
            "reason-501-chars",
            "note-501-chars",
            "note-object",
            "resolve-note-number",
        ],
    )
    def test_a_reason_or_note_that_is_not_a_short_string_is_a_422_problem(
        self,
        client: TestClient,
        publisher: FakePublisher,
        command: type[EscrowCommand],
        party: Party,
        body: dict[str, Any],
    ) -> None:
        answer = client.post(mutation_path(command), json=body, headers=as_party(party))

        assert_problem(answer, 422, "invalid-field")
        assert publisher.sent == []

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"resolution": "SPLIT"},
            {"resolution": "favor_buyer"},
            {"resolution": 2},
            {"resolution": "UNSPECIFIED"},
        ],
        ids=["missing", "unknown", "lower-case", "number", "unspecified"],
    )
    def test_resolving_with_a_bad_resolution_is_a_422_problem(
        self, client: TestClient, publisher: FakePublisher, body: dict[str, Any]
    ) -> None:
        answer = client.post(
            mutation_path(ResolveDispute), json=body, headers=as_party(Party.ADMIN)
        )

        problem = assert_problem(answer, 422, "invalid-field")
        assert "FAVOR_SELLER or FAVOR_BUYER" in problem["title"]
        assert publisher.sent == []


class TestIdempotencyKey:
    def test_the_same_key_from_the_same_user_is_the_same_command(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        headers = as_party(Party.SELLER) | {"Idempotency-Key": "k-1"}

        first = client.post(mutation_path(MarkDelivered), headers=headers)
        second = client.post(mutation_path(MarkDelivered), headers=headers)

        assert first.json()["command_id"] == second.json()["command_id"]
        assert first.headers["location"] == second.headers["location"]
        sent = [mapping.COMMANDS.to_domain(envelope).meta for _, _, envelope in publisher.sent]
        assert [meta.command_id for meta in sent] == [first.json()["command_id"]] * 2

    def test_the_same_key_from_different_users_is_two_commands(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        key = {"Idempotency-Key": "k-1"}

        by_buyer = client.post(mutation_path(RaiseDispute), headers=as_party(Party.BUYER) | key)
        by_seller = client.post(mutation_path(RaiseDispute), headers=as_party(Party.SELLER) | key)

        assert by_buyer.json()["command_id"] != by_seller.json()["command_id"]

    def test_the_same_key_for_another_action_is_another_command(self, client: TestClient) -> None:
        headers = as_party(Party.SELLER) | {"Idempotency-Key": "k-1"}

        delivered = client.post(mutation_path(MarkDelivered), headers=headers)
        disputed = client.post(mutation_path(RaiseDispute), json={"reason": "x"}, headers=headers)

        assert delivered.json()["command_id"] != disputed.json()["command_id"]

    def test_without_a_key_every_request_is_a_new_command(self, client: TestClient) -> None:
        headers = as_party(Party.SELLER)

        first = client.post(mutation_path(MarkDelivered), headers=headers)
        second = client.post(mutation_path(MarkDelivered), headers=headers)

        assert first.json()["command_id"] != second.json()["command_id"]

    def test_a_key_of_255_characters_is_accepted(self, client: TestClient) -> None:
        headers = as_party(Party.SELLER) | {"Idempotency-Key": "k" * 255}

        assert client.post(mutation_path(MarkDelivered), headers=headers).status_code == 202

    @pytest.mark.parametrize("key", ["k" * 256, ""], ids=["256-chars", "empty"])
    def test_a_key_that_is_too_long_or_empty_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, key: str
    ) -> None:
        headers = as_party(Party.SELLER) | {"Idempotency-Key": key}

        answer = client.post(mutation_path(MarkDelivered), headers=headers)

        assert_problem(answer, 400, "invalid-idempotency-key")
        assert publisher.sent == []


class TestIfMatch:
    @pytest.mark.parametrize("header", ['"5"', 'W/"5"'])
    def test_an_if_match_version_is_the_expected_version(
        self, client: TestClient, publisher: FakePublisher, header: str
    ) -> None:
        headers = as_party(Party.SELLER) | {"If-Match": header}

        answer = client.post(mutation_path(MarkDelivered), headers=headers)

        assert answer.status_code == 202
        assert published_command(publisher).meta.expected_version == 5

    @pytest.mark.parametrize("header", ["yesterday", '"five"', '"5", "6"', '"-1"'])
    def test_an_if_match_that_is_not_a_version_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, header: str
    ) -> None:
        headers = as_party(Party.SELLER) | {"If-Match": header}

        answer = client.post(mutation_path(MarkDelivered), headers=headers)

        assert_problem(answer, 400, "invalid-if-match")
        assert publisher.sent == []
