"""The partner profile: everything the gateway knows about one trading partner.

One profile per partner, in ``mappings/<partner>/partner.yaml``. The model is the contract between
onboarding (who writes the files), the formats (parsing switches, implementation-guide narrowing),
security (signing and encryption policy), acknowledgments and delivery (channels, retries).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AckPolicy",
    "Channel",
    "DocumentExchange",
    "Narrowing",
    "ParsingPolicy",
    "PartnerIdentifier",
    "PartnerProfile",
    "RetryPolicy",
    "SecurityPolicy",
]

CanonicalType = Literal["order", "order_response", "order_change", "despatch_advice", "invoice", "status"]
FormatName = Literal["edifact", "ubl", "cii", "ubl-json", "json", "xml", "canonical-json"]
IdentifierKind = Literal["edifact", "gln", "as2", "peppol", "vat", "duns", "email", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartnerIdentifier(_Model):
    """One way a partner is addressed.

    ``kind`` says where the identifier appears: ``edifact`` (UNB S002/S003 0004 with ``qualifier`` =
    0007, e.g. 14 for GS1, ZZZ mutually defined), ``gln``, ``as2`` (AS2-From name), ``peppol``
    (participant id with ``qualifier`` = its ICD/EAS scheme, e.g. 0088), ``vat``, ``duns``.
    """

    value: str = Field(min_length=1)
    kind: IdentifierKind = "other"
    qualifier: str | None = Field(default=None, description="UNB 0007 code or the ICD/EAS scheme")

    def matches(self, value: str, qualifier: str | None = None, kind: str | None = None) -> bool:
        if self.value != value:
            return False
        if kind is not None and self.kind != "other" and kind != self.kind:
            return False
        return self.qualifier is None or qualifier is None or self.qualifier == qualifier


class DocumentExchange(_Model):
    """A document type exchanged with the partner in one direction, in one format."""

    document: CanonicalType
    direction: Literal["inbound", "outbound"]
    format: FormatName
    version: str | None = Field(default=None, description="EDIFACT directory (D96A) or UBL version (2.1)")
    message_type: str | None = Field(default=None, description="ORDERS, ORDRSP, INVOIC …; UBL root element name")
    association: str | None = Field(default=None, description="EDIFACT association code, e.g. EAN008")
    mapping: str | None = Field(default=None, description="Mapping file, relative to the partner directory")
    json_schema: str | None = Field(default=None, description="JSON Schema the partner's JSON must meet")
    customization_id: str | None = Field(default=None, description="UBL CustomizationID to write (Peppol BIS)")


class Channel(_Model):
    """How documents travel to (and from) the partner."""

    name: str = "default"
    kind: Literal["as2", "http", "amqp", "directory"]
    url: str | None = Field(default=None, description="AS2 or HTTP endpoint")
    path: str | None = Field(default=None, description="Directory for a directory channel")
    exchange: str | None = None
    routing_key: str | None = None
    as2_id: str | None = Field(default=None, description="The partner's AS2 name (AS2-To when sending)")
    our_as2_id: str | None = Field(default=None, description="Our AS2 name towards this partner (AS2-From)")
    mdn: Literal["sync", "async", "none"] = "sync"
    mdn_url: str | None = None
    signed_mdn: bool = False
    compress: bool = False
    auth_token_env: str | None = Field(default=None, description="Environment variable holding a bearer token")
    client_cert: str | None = Field(default=None, description="Certificate name in certs/ for mutual TLS")
    ca_cert: str | None = Field(default=None, description="CA bundle name in certs/ to verify the endpoint")
    timeout_s: float = 30.0
    headers: dict[str, str] = Field(default_factory=dict)


SignatureAlgorithm = Literal["rsa-pss-sha256", "rsa-sha256", "rsa-sha384", "rsa-sha512", "ecdsa-sha256", "ecdsa-sha384"]
EncryptionAlgorithm = Literal["aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm"]


class SecurityPolicy(_Model):
    """Signing and encryption rules for this partner."""

    require_signature: bool = False
    require_encryption: bool = False
    sign_outbound: bool = True
    encrypt_outbound: bool = False
    signature_algorithm: SignatureAlgorithm = "rsa-sha256"
    encryption_algorithm: EncryptionAlgorithm = "aes256-cbc"
    mic_algorithm: Literal["sha1", "sha256", "sha384", "sha512"] = "sha256"
    certificates: list[str] = Field(
        default_factory=list, description="The partner's certificates (names in certs/); several during rollover"
    )
    trusted_roots: list[str] = Field(default_factory=list, description="CA certificates that anchor the chain")
    signing_key: str | None = Field(default=None, description="Which of our keys signs for this partner")
    jws: bool = Field(default=False, description="Sign JSON payloads with JWS (detached) instead of CMS")


class AckPolicy(_Model):
    """Which acknowledgments the partner wants and gives."""

    contrl: Literal["never", "on_request", "always", "on_error"] = "on_request"
    aperak: bool = False
    expect_contrl: bool = False
    deadline_minutes: int | None = Field(
        default=None, description="Alert when our document is unacknowledged this long"
    )


class ParsingPolicy(_Model):
    """Strict by default; each switch loosens one thing real partners get wrong."""

    allow_banner: bool = Field(default=False, description="Accept text before UNA/UNB")
    allow_wrapped_lines: bool = Field(default=False, description="Accept interchanges hard-wrapped at a fixed width")
    control_counts: Literal["reject", "warn"] = Field(default="reject", description="UNT/UNE/UNZ mismatches")
    charset_fallback: str = Field(default="latin-1", description="Decoding when bytes do not match the syntax id")
    charset_violations: Literal["reject", "warn"] = "reject"
    structure: Literal["reject", "warn"] = Field(
        default="reject",
        description="Segments out of their place in the message structure, too many repeats, values over "
        "their maximum length: reject, or accept with warnings (partners whose software writes them so)",
    )


class Narrowing(_Model):
    """One implementation-guide rule: it may only narrow the directory, never widen it."""

    message: str = Field(description="Message type, e.g. ORDERS")
    path: str = Field(description="Segment or element, e.g. 'SG2/NAD', 'BGM/C002/1001'")
    require: bool | None = None
    forbid: bool | None = None
    codes: list[str] | None = Field(default=None, description="Allowed codes (a subset of the code list)")
    max_length: int | None = None
    max_repeats: int | None = None


class RetryPolicy(_Model):
    max_attempts: int = 8
    initial_delay_s: float = 1.0
    max_delay_s: float = 3600.0


class PartnerProfile(_Model):
    """A trading partner: who it is and how the gateway treats its documents."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str | None = None
    mode: Literal["test", "production"] = "production"
    identifiers: list[PartnerIdentifier] = Field(default_factory=list)
    documents: list[DocumentExchange] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    security: SecurityPolicy = SecurityPolicy()
    acknowledgments: AckPolicy = AckPolicy()
    parsing: ParsingPolicy = ParsingPolicy()
    narrowing: list[Narrowing] = Field(default_factory=list)
    duplicates: Literal["reject", "ignore", "accept"] = "reject"
    retry: RetryPolicy = RetryPolicy()
    retention_days: int | None = None
    business_rules: list[str] = Field(default_factory=lambda: ["arithmetic", "en16931"])

    @property
    def test_mode(self) -> bool:
        return self.mode == "test"

    def exchange(self, document: str, direction: str) -> DocumentExchange | None:
        """The configured exchange of ``document`` in ``direction``, if any."""
        return next((d for d in self.documents if d.document == document and d.direction == direction), None)

    def outbound_format(self, document_type: str) -> str:
        """The format this partner receives ``document_type`` in (canonical JSON unless configured)."""
        ex = self.exchange(document_type, "outbound")
        return ex.format if ex else "canonical-json"

    def channel(self, name: str | None = None) -> Channel | None:
        if not self.channels:
            return None
        return next((c for c in self.channels if c.name == name), None) if name else self.channels[0]

    def matches(self, value: str, qualifier: str | None = None, kind: str | None = None) -> bool:
        return value == self.id or any(i.matches(value, qualifier, kind) for i in self.identifiers)
