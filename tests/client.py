"""A small client of the gateway's HTTP API (DESIGN.md §7), for the demo, end-to-end tests and
benchmarks."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.auth import issue_token
from tests.eventually import eventually


class GatewayClient:
    """One user's view of the API.

    :param base_url: e.g. ``http://127.0.0.1:8080``.
    :param jwt_key: the gateway's development HS256 key.
    """

    def __init__(self, base_url: str, jwt_key: str, user_id: str, role: str = "user") -> None:
        token = issue_token(jwt_key, user_id, role)
        self.user_id = user_id
        self.http = httpx.Client(
            base_url=base_url, timeout=40, headers={"Authorization": f"Bearer {token}"}
        )

    def escrow(self, escrow_id: str) -> httpx.Response:
        return self.http.get(f"/api/escrow/{escrow_id}")

    def contract_escrow(self, contract_id: str) -> httpx.Response:
        return self.http.get(f"/api/contracts/{contract_id}/escrow")

    def command(
        self, escrow_id: str, action: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        """POST /api/escrow/{id}/{action} (``resolve`` goes to /api/disputes/{id}/resolve,
        ``approve`` / ``reject`` to /api/admin/reviews/{id}/..., ``retry-payout`` to
        /api/admin/escrow/{id}/retry-payout)."""
        path = {
            "resolve": f"/api/disputes/{escrow_id}/resolve",
            "approve": f"/api/admin/reviews/{escrow_id}/approve",
            "reject": f"/api/admin/reviews/{escrow_id}/reject",
            "retry-payout": f"/api/admin/escrow/{escrow_id}/retry-payout",
        }.get(action, f"/api/escrow/{escrow_id}/{action}")
        return self.http.post(path, json=body or {}, headers=headers)

    def outcome(self, location: str, wait_s: int = 10) -> dict[str, Any]:
        answer = self.http.get(location, headers={"Prefer": f"wait={wait_s}"})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def wait_for(self, path: str, done: Any, timeout_s: float = 60) -> dict[str, Any]:
        """GETs ``path`` until ``done(json)`` holds; raises TimeoutError with the last answer."""

        def probe() -> dict[str, Any] | None:
            answer = self.http.get(path)
            return (
                dict(answer.json()) if answer.status_code == 200 and done(answer.json()) else None
            )

        shown: dict[str, Any] = eventually(probe, timeout_s, what=f"{path} as expected")
        return shown

    def close(self) -> None:
        self.http.close()
