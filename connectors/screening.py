"""Wallet screening for the USDC rail (DESIGN.md §5; seeds: "KYC/AML Compliance"), over httpx:
TRM Labs address risk and Chainalysis sanctions, shaped after their public REST APIs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from connectors.http import request_json

# Seeds, "Risk Thresholds": sanctioned or > 80 -> refund; 50-80 -> manual review; < 50 -> accept.
HIGH_RISK_ABOVE = 80
REVIEW_FROM = 50


class Verdict(StrEnum):
    ACCEPT = "ACCEPT"
    REVIEW = "REVIEW"
    RETURN = "RETURN"


@dataclass(frozen=True)
class Screening:
    address: str
    risk_score: int  # 0-100
    sanctioned: bool

    @property
    def verdict(self) -> Verdict:
        if self.sanctioned or self.risk_score > HIGH_RISK_ABOVE:
            return Verdict.RETURN
        return Verdict.REVIEW if self.risk_score >= REVIEW_FROM else Verdict.ACCEPT


class TrmClient:
    """TRM Labs ``POST /public/v2/screening/addresses``. Our risk score is the highest
    ``riskScore`` (0-100) among the address's risk indicators; none = 0.

    :param base_url: e.g. ``https://api.trmlabs.com`` or the local fake.
    """

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 2.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s, auth=(api_key, api_key))

    def close(self) -> None:
        self._client.close()

    def risk_score(self, address: str, chain: str = "base") -> int:
        """:raises TransientError | PermanentError:"""
        body = [{"address": address, "chain": chain}]
        answer = request_json(
            self._client, "POST", "/public/v2/screening/addresses", "trm", json=body
        )
        indicators = answer[0].get("addressRiskIndicators", []) if answer else []
        return max((int(i.get("riskScore", 0)) for i in indicators), default=0)


class ChainalysisClient:
    """Chainalysis sanctions screening ``GET /api/v1/address/{address}``: sanctioned when the
    answer lists any identification."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 2.0) -> None:
        self._client = httpx.Client(
            base_url=base_url, timeout=timeout_s, headers={"X-API-Key": api_key}
        )

    def close(self) -> None:
        self._client.close()

    def is_sanctioned(self, address: str) -> bool:
        """:raises TransientError | PermanentError:"""
        answer = request_json(self._client, "GET", f"/api/v1/address/{address}", "chainalysis")
        return bool(answer.get("identifications"))


class WalletScreener:
    """Both screenings of one address."""

    def __init__(self, trm: TrmClient, chainalysis: ChainalysisClient) -> None:
        self._trm, self._chainalysis = trm, chainalysis

    def close(self) -> None:
        self._trm.close()
        self._chainalysis.close()

    def screen(self, address: str) -> Screening:
        return Screening(
            address, self._trm.risk_score(address), self._chainalysis.is_sanctioned(address)
        )
