"""Operator endpoints (liveness, readiness, metrics, the OpenAPI document), the app's lifespan,
and the problems Starlette itself answers (unknown route, wrong method)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.fakes import FakePublisher, FakeViews
from tests.unit.gateway.support import assert_problem


def test_the_lifespan_starts_the_view_table_and_stops_it_and_the_publisher(
    app: Starlette, publisher: FakePublisher, views: FakeViews
) -> None:
    with TestClient(app):
        assert views.started
        assert not (views.stopped or publisher.closed)

    assert views.stopped
    assert publisher.closed


def test_the_gateway_is_alive(client: TestClient) -> None:
    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_the_gateway_is_not_ready_while_the_view_table_catches_up(
    client: TestClient, views: FakeViews
) -> None:
    views.ready, views.view_lag = False, 42

    answer = client.get("/readyz")

    problem = assert_problem(answer, 503, "not-ready")
    assert problem["detail"] == "lag 42"


def test_the_gateway_is_ready_once_the_view_table_caught_up(
    client: TestClient, views: FakeViews
) -> None:
    views.view_lag = 3

    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "view_lag": 3}


def test_the_metrics_show_the_view_table_lag(client: TestClient, views: FakeViews) -> None:
    views.view_lag = 7

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "gateway_view_table_lag 7.0" in answer.text


def test_the_openapi_document_lists_exactly_the_apps_routes(
    app: Starlette, client: TestClient
) -> None:
    document = client.get("/openapi.json").json()

    routes = [route for route in app.routes if isinstance(route, Route)]
    served = {(r.path, m.lower()) for r in routes for m in (r.methods or []) if m != "HEAD"}
    listed = {(path, method) for path, item in document["paths"].items() for method in item}
    assert document["openapi"] == "3.1.0"
    assert served == listed


def test_every_operation_in_the_openapi_document_has_a_summary_and_responses(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()

    operations = [op for item in document["paths"].values() for op in item.values()]
    assert all(op.get("summary") and op.get("responses") for op in operations)


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    answer = client.get("/api/nothing-here")

    assert_problem(answer, 404, "not-found")


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    answer = client.delete("/api/escrow/esc-1")

    assert_problem(answer, 405, "method-not-allowed")
    assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_a_get_of_a_command_route_is_a_405_problem(client: TestClient) -> None:
    answer = client.get("/api/escrow/esc-1/release")

    assert_problem(answer, 405, "method-not-allowed")
