"""The mock's own settings (it is a separate service): ``MOCK_*`` environment variables, ``__`` nests.

``ecuapass-gateway mock`` flags override them. Example: ``MOCK_FAULTS__ERROR_RATE=0.3 MOCK_FAULTS__SEED=7``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.ecuapass_mock.faults import FaultSettings


class MockSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCK_", env_nested_delimiter="__", extra="forbid", frozen=True)

    seed: int = Field(51, description="Seed of the inspection-channel draw.")
    decision_delay_s: float = Field(
        0.0, ge=0, description="With two-stage replies, how long status queries answer RECEIVED."
    )
    faults: FaultSettings = Field(default_factory=FaultSettings)
