"""Fault injection: the mock's bad days, deterministic for a seed.

Set by ``ecuapass-gateway mock`` flags, by ``MOCK_FAULTS__*`` environment variables, or at run time with
``PUT /admin/faults``. Each filing request draws, in this order: maintenance window (503 + Retry-After until its
end), error (503), throttle (429 + Retry-After), added latency, hang (no answer until past the client's timeout,
then the connection is dropped and nothing is filed), reset (connection reset before filing), lost response (filed,
then the connection is reset: the ambiguous case a client must reconcile with the status query).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Fault = Literal["maintenance", "error", "throttle", "hang", "reset", "lost_response"]
Rate = float


class MaintenanceWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: AwareDatetime
    end: AwareDatetime


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(51, description="Seed of the fault draws (and of nothing else).")
    error_rate: Rate = Field(0.0, ge=0, le=1, description="Share of requests answered 503.")
    throttle_rate: Rate = Field(0.0, ge=0, le=1, description="Share of requests answered 429.")
    retry_after_s: int = Field(1, ge=0, description="Retry-After sent with 429 answers.")
    latency_ms: float = Field(0.0, ge=0, description="Added latency: fixed part, or mean when exponential.")
    latency_jitter_ms: float = Field(0.0, ge=0, description="Uniform extra latency on top, 0..jitter.")
    latency_distribution: Literal["fixed", "exponential"] = "fixed"
    hang_rate: Rate = Field(0.0, ge=0, le=1, description="Share of filings never answered (dropped after hang_s).")
    hang_s: float = Field(60.0, gt=0, description="How long a hung request is held before being dropped.")
    reset_rate: Rate = Field(0.0, ge=0, le=1, description="Share of filings whose connection is reset, unfiled.")
    lost_response_rate: Rate = Field(0.0, ge=0, le=1, description="Share of filings filed, then reset.")
    maintenance: tuple[MaintenanceWindow, ...] = ()

    @model_validator(mode="after")
    def _rates_add_up(self) -> FaultSettings:
        total = self.error_rate + self.throttle_rate + self.hang_rate + self.reset_rate + self.lost_response_rate
        if total > 1:
            raise ValueError(f"fault rates add up to {total:.2f} > 1")
        return self


@dataclass(frozen=True, slots=True)
class Draw:
    fault: Fault | None
    latency_s: float
    retry_after_s: int = 0


class FaultInjector:
    """Draws the fault of each request from one seeded stream; settings can change at run time."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._rng = random.Random(settings.seed)

    def draw(self, now: datetime, *, filing: bool) -> Draw:
        s = self.settings
        for window in s.maintenance:
            if window.start <= now < window.end:
                return Draw("maintenance", 0.0, max(1, int((window.end - now).total_seconds()) + 1))
        latency = s.latency_ms / 1000
        if s.latency_distribution == "exponential" and s.latency_ms:
            latency = self._rng.expovariate(1000 / s.latency_ms)
        latency += self._rng.uniform(0, s.latency_jitter_ms / 1000)
        roll = self._rng.random()
        ladder: list[tuple[Fault, float]] = [("error", s.error_rate), ("throttle", s.throttle_rate)]
        if filing:
            ladder += [("hang", s.hang_rate), ("reset", s.reset_rate), ("lost_response", s.lost_response_rate)]
        for fault, rate in ladder:
            if roll < rate:
                return Draw(fault, latency, s.retry_after_s if fault == "throttle" else 0)
            roll -= rate
        return Draw(None, latency)
