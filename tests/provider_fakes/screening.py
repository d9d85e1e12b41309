"""Local TRM Labs and Chainalysis sanctions APIs for tests and the demo.

``POST /_fake/wallets {"address": "0x..", "risk_score": 95, "sanctioned": true}`` sets what an
address screens as (unknown addresses: risk 0, not sanctioned).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.provider_fakes.controls import Controls


def create_app() -> Starlette:
    """One app serving both APIs (their paths do not overlap)."""
    controls = Controls()
    wallets: dict[str, dict[str, Any]] = {}

    async def trm_screen(request: Request) -> Response:
        if failure := await controls.intercept(request):
            return failure
        answers = []
        for item in await request.json():
            score = wallets.get(item["address"].lower(), {}).get("risk_score", 0)
            indicators = [{"category": "Risk", "riskType": "COUNTERPARTY", "riskScore": score}]
            answers.append(
                {
                    "address": item["address"],
                    "chain": item["chain"],
                    "addressRiskIndicators": indicators if score else [],
                    "entities": [],
                }
            )
        return JSONResponse(answers)

    async def chainalysis_address(request: Request) -> Response:
        if failure := await controls.intercept(request):
            return failure
        address = request.path_params["address"].lower()
        sanctioned = wallets.get(address, {}).get("sanctioned", False)
        identifications = (
            [{"category": "sanctions", "name": "SANCTIONS: test list"}] if sanctioned else []
        )
        return JSONResponse({"identifications": identifications})

    async def set_wallet(request: Request) -> Response:
        spec = await request.json()
        wallets[spec["address"].lower()] = spec
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/public/v2/screening/addresses", trm_screen, methods=["POST"]),
            Route("/api/v1/address/{address}", chainalysis_address, methods=["GET"]),
            Route("/_fake/wallets", set_wallet, methods=["POST"]),
            *controls.routes(),
        ]
    )
