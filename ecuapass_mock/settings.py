"""The mock's own settings (it is a separate service): ``MOCK_*`` environment variables, ``__`` nests.

``ecuapass-gateway mock`` flags override them. Example: ``MOCK_FAULTS__ERROR_RATE=0.3 MOCK_FAULTS__SEED=7``;
``MOCK_SIGNATURE_CA=agencies-ca.pem MOCK_REQUIRE_SIGNATURE=true`` to check signed documents;
``MOCK_LIFECYCLE__PACE=realistic`` for customs at a working pace after a warehouse entry (hours, not seconds),
``MOCK_LIFECYCLE__INSPECTION_LEAD_S=600`` for one step; ``MOCK_FEED__RETENTION_DAYS=14`` (see ``NOTIFICATIONS.md``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ecuapass_mock.faults import FaultSettings
from ecuapass_mock.feed import FeedSettings
from ecuapass_mock.lifecycle import LifecycleSettings


class MockSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCK_", env_nested_delimiter="__", extra="forbid", frozen=True)

    seed: int = Field(51, description="Seed of the inspection-channel draw.")
    decision_delay_s: float = Field(
        0.0, ge=0, description="With two-stage replies, how long status queries answer RECEIVED."
    )
    faults: FaultSettings = Field(default_factory=FaultSettings)
    signature_ca: Path | None = Field(
        None,
        description="PEM bundle of the CAs whose certificates may sign documents (default: none, every signed "
        "document is refused with R51-SIG-003).",
    )
    require_signature: bool = Field(
        False, description="Refuse unsigned documents (R51-SIG-001); signed ones are checked either way."
    )
    lifecycle: LifecycleSettings = Field(
        default_factory=LifecycleSettings, description="What customs does after a warehouse entry, and how fast."
    )
    feed: FeedSettings = Field(default_factory=FeedSettings, description="The notification feed: retention, pages.")
