"""The partner profile model (the core fields; onboarding extends it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PartnerIdentifier", "PartnerProfile"]


class PartnerIdentifier(BaseModel):
    """One way a partner is addressed: UNB S002/S003 id with its 0007 qualifier, a GLN, an AS2 name …"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str = Field(min_length=1)
    qualifier: str | None = Field(
        default=None, description="UNB 0007 (14 = GS1/EAN, ZZZ mutually defined), 'gln', 'as2', ICD/EAS code"
    )

    def matches(self, value: str, qualifier: str | None) -> bool:
        return self.value == value and (self.qualifier is None or qualifier is None or self.qualifier == qualifier)


class PartnerProfile(BaseModel):
    """A trading partner: who it is and how the gateway treats its documents."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str | None = None
    identifiers: list[PartnerIdentifier] = Field(default_factory=list)
    test_mode: bool = False
    business_rules: list[str] = Field(default_factory=lambda: ["arithmetic", "en16931"])

    def outbound_format(self, document_type: str) -> str:
        """The format this partner receives ``document_type`` in (canonical JSON unless configured)."""
        return "canonical-json"

    def matches(self, value: str, qualifier: str | None = None) -> bool:
        return value == self.id or any(i.matches(value, qualifier) for i in self.identifiers)
