"""The gateway's one exception tree.

Every failure the gateway can meet is a :class:`GatewayError`. Each class carries a stable ``code``,
whether it is ``retryable`` (a transient condition: try again later, keep the message) and the
acknowledgment it turns into (:class:`Ack`: UN/EDIFACT 0085 syntax error code for CONTRL, the AS2 MDN
disposition modifier, the HTTP status). Each instance carries a human ``message``, a :class:`Location`
pointing into the input, a ``severity`` and an optional ``hint`` saying what to do.

Validators *collect* errors (they report all of them, not only the first); a stage that cannot go on
raises :class:`DocumentRejected` holding the collected list.

The tree (a test keeps this drawing equal to the classes below)::

    GatewayError
    ├── ConfigurationError
    │   ├── SettingsError
    │   ├── PartnerConfigError
    │   ├── MappingConfigError
    │   ├── KeyStoreError
    │   ├── OfficialSchemaError
    │   ├── RoutingConfigError
    │   ├── StoreSchemaError
    │   └── BrokerTopologyError
    ├── DocumentError
    │   ├── DocumentRejected
    │   ├── InputTooLargeError
    │   ├── UnknownFormatError
    │   ├── CharacterSetError
    │   ├── SyntaxError_
    │   │   ├── EdifactSyntaxError
    │   │   ├── XmlSyntaxError
    │   │   ├── ForbiddenXmlConstructError
    │   │   └── JsonSyntaxError
    │   ├── EnvelopeError
    │   │   ├── ControlReferenceError
    │   │   ├── ControlCountError
    │   │   └── UnsupportedSyntaxError
    │   ├── StructureError
    │   │   ├── MissingError
    │   │   ├── UnexpectedError
    │   │   ├── TooManyRepeatsError
    │   │   ├── SchemaError
    │   │   └── RepresentationError
    │   │       ├── ValueTooLongError
    │   │       └── ValueTooShortError
    │   ├── CodeListError
    │   ├── FieldError
    │   ├── BusinessRuleError
    │   ├── MappingError
    │   ├── UnknownDocumentTypeError
    │   ├── DuplicateDocumentError
    │   ├── UnmatchedAcknowledgmentError
    │   ├── PartnerRejectedError
    │   └── MimeFormatError
    ├── PartnerError
    │   ├── UnknownPartnerError
    │   └── UnknownRecipientError
    ├── SecurityError
    │   ├── SignatureRequiredError
    │   ├── EncryptionRequiredError
    │   ├── SignatureInvalidError
    │   ├── ContentTamperedError
    │   ├── CertificateUntrustedError
    │   ├── CertificateExpiredError
    │   ├── CertificateNotYetValidError
    │   ├── DecryptionError
    │   ├── DecompressionError
    │   ├── UnsupportedAlgorithmError
    │   ├── AuthenticationError
    │   └── PermissionDeniedError
    ├── RoutingError
    │   └── UnroutableError
    ├── DeliveryRefusedError
    ├── AcknowledgmentOverdueError
    ├── NotFoundError
    ├── OperationError
    │   └── ActionNotAllowedError
    └── TransientError
        ├── StoreUnavailableError
        ├── BrokerUnavailableError
        └── DeliveryError
            └── EndpointUnavailableError

``SyntaxError_`` carries a trailing underscore so that it never shadows the builtin ``SyntaxError``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar, Literal

__all__ = [
    "Ack",
    "AcknowledgmentOverdueError",
    "ActionNotAllowedError",
    "AuthenticationError",
    "BrokerTopologyError",
    "BrokerUnavailableError",
    "BusinessRuleError",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateUntrustedError",
    "CharacterSetError",
    "CodeListError",
    "ConfigurationError",
    "ContentTamperedError",
    "ControlCountError",
    "ControlReferenceError",
    "DecompressionError",
    "DecryptionError",
    "DeliveryError",
    "DeliveryRefusedError",
    "DocumentError",
    "DocumentRejected",
    "DuplicateDocumentError",
    "EdifactSyntaxError",
    "EncryptionRequiredError",
    "EndpointUnavailableError",
    "EnvelopeError",
    "FieldError",
    "ForbiddenXmlConstructError",
    "GatewayError",
    "InputTooLargeError",
    "JsonSyntaxError",
    "KeyStoreError",
    "Location",
    "MappingConfigError",
    "MappingError",
    "MimeFormatError",
    "MissingError",
    "NotFoundError",
    "OfficialSchemaError",
    "OperationError",
    "PartnerConfigError",
    "PartnerError",
    "PartnerRejectedError",
    "PermissionDeniedError",
    "RepresentationError",
    "RoutingConfigError",
    "RoutingError",
    "SchemaError",
    "SecurityError",
    "SettingsError",
    "Severity",
    "SignatureInvalidError",
    "SignatureRequiredError",
    "StoreSchemaError",
    "StoreUnavailableError",
    "StructureError",
    "SyntaxError_",
    "TooManyRepeatsError",
    "TransientError",
    "UnexpectedError",
    "UnknownDocumentTypeError",
    "UnknownFormatError",
    "UnknownPartnerError",
    "UnknownRecipientError",
    "UnmatchedAcknowledgmentError",
    "UnroutableError",
    "UnsupportedAlgorithmError",
    "UnsupportedSyntaxError",
    "ValueTooLongError",
    "ValueTooShortError",
    "error_from_dict",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Ack:
    """What an error turns into on each acknowledgment channel.

    Attributes:
        contrl: UN/EDIFACT data element 0085 (syntax error code) reported in a CONTRL UCI/UCM/UCS/UCD,
            or ``None`` when the error is not a syntax-level one (it then goes back as an APERAK).
        mdn: the AS2 MDN disposition modifier (RFC 4130 §7.4.3), ``None`` when the AS2 transfer itself
            succeeded (``processed``) even though the document is refused at a higher level.
        http: the HTTP status the inbound HTTP endpoint answers with.
    """

    contrl: str | None
    mdn: str | None
    http: int

    @property
    def contrl_action(self) -> str:
        """UN/EDIFACT 0083 action code: 4 (rejected) for a syntax error, 7 (acknowledged) otherwise."""
        return "4" if self.contrl is not None else "7"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in the input (or in the configuration) an error lies. Every field is optional."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    offset: int | None = None
    interchange: str | None = None
    message: str | None = None
    segment: str | None = None
    segment_index: int | None = None
    element: int | None = None
    component: int | None = None
    xpath: str | None = None
    json_pointer: str | None = None
    field: str | None = None
    mapping: str | None = None
    """The mapping rule involved, as ``file:line:column`` (the file that says how to map, not the input)."""

    def merge(self, other: Location | None) -> Location:
        """Fill the fields this location lacks from ``other`` (self wins)."""
        if other is None:
            return self
        values = {k: v for k, v in asdict(self).items() if v is not None}
        return replace(other, **values)

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.message:
            parts.append(f"message {self.message}")
        if self.segment or self.segment_index is not None:
            seg = f"segment {self.segment_index}" if self.segment_index is not None else "segment"
            parts.append(f"{seg} ({self.segment})" if self.segment else seg)
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.xpath:
            parts.append(self.xpath)
        if self.json_pointer is not None:
            parts.append(f"JSON pointer {self.json_pointer or '/'}")
        if self.field:
            parts.append(f"field {self.field}")
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        elif self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.mapping:
            parts.append(f"mapping rule {self.mapping}")
        return ", ".join(parts) if parts else "(no location)"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


_REGISTRY: dict[str, type[GatewayError]] = {}


class GatewayError(Exception):
    """Root of every error the gateway raises or reports."""

    code: ClassVar[str] = "GATEWAY"
    retryable: ClassVar[bool] = False
    ack: ClassVar[Ack] = Ack(contrl="18", mdn="error: unexpected-processing-error", http=500)

    message: str
    location: Location
    severity: Severity
    hint: str | None
    details: dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        severity: Severity = "error",
        hint: str | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        contrl: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.severity = severity
        self.hint = hint
        self.details = dict(details or {})
        if code is not None:
            self.code = code  # type: ignore[misc]  # a finer code for this instance (e.g. a rule id)
        if contrl is not None:
            self.ack = replace(type(self).ack, contrl=contrl)  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __str__(self) -> str:
        where = "" if self.location.is_empty() else f" (at {self.location})"
        return f"[{self.code}] {self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r}, location={self.location!r})"

    def at(self, location: Location) -> GatewayError:
        """Complete this error's location with ``location`` (the error's own fields win). Returns self."""
        self.location = self.location.merge(location)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: what the CLI prints with ``--json-errors`` and the store keeps."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "retryable": self.retryable,
            "location": self.location.to_dict(),
            "ack": {"contrl": self.ack.contrl, "mdn": self.ack.mdn, "http": self.ack.http},
        }
        if self.hint:
            data["hint"] = self.hint
        if self.details:
            data["details"] = self.details
        return data


_REGISTRY["GatewayError"] = GatewayError


def error_from_dict(data: dict[str, Any]) -> GatewayError:
    """Rebuild an error from :meth:`GatewayError.to_dict` output (for errors read back from the store)."""
    cls = _REGISTRY.get(str(data.get("type")), GatewayError)
    loc = Location(**data.get("location", {}))
    err = cls.__new__(cls)
    GatewayError.__init__(
        err,
        str(data.get("message", "")),
        location=loc,
        severity=data.get("severity", "error"),
        hint=data.get("hint"),
        details=data.get("details"),
        code=data.get("code"),
        contrl=(data.get("ack") or {}).get("contrl"),
    )
    return err


# --- configuration -------------------------------------------------------------------------------


class ConfigurationError(GatewayError):
    """The gateway's own configuration is wrong. Fix the files; the partner is not at fault."""

    code = "CONFIG"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=500)


class SettingsError(ConfigurationError):
    """A setting (environment variable or TOML file) is invalid."""

    code = "CONFIG_SETTINGS"


class PartnerConfigError(ConfigurationError):
    """A partner profile is invalid."""

    code = "CONFIG_PARTNER"


class MappingConfigError(ConfigurationError):
    """A mapping file is invalid (unknown path, bad qualifier, bad transform)."""

    code = "CONFIG_MAPPING"


class KeyStoreError(ConfigurationError):
    """A key or certificate cannot be loaded (missing file, wrong passphrase, broken PEM)."""

    code = "CONFIG_KEYSTORE"


class OfficialSchemaError(ConfigurationError):
    """The official schemas or rules (UBL 2.1 XSD, CII D16B XSD, EN 16931 XSLT) are missing, incomplete or
    fail their checksum; as a warning, it says which validation is off."""

    code = "CONFIG_OFFICIAL_SCHEMAS"
class RoutingConfigError(ConfigurationError):
    """The routing file (``routes.yaml``) is invalid: the gateway keeps the rules it had."""
    code = "CONFIG_ROUTING"
class StoreSchemaError(ConfigurationError):
    """The store's schema cannot be brought to this gateway's revision (a failed or unknown migration)."""
    code = "CONFIG_STORE_SCHEMA"
class BrokerTopologyError(ConfigurationError):
    """An exchange or queue on the broker exists with other arguments than the gateway declares."""
    code = "CONFIG_BROKER_TOPOLOGY"


# --- the partner's document ----------------------------------------------------------------------


class DocumentError(GatewayError):
    """The document is wrong: rejecting it is final, retrying will not help."""

    code = "DOCUMENT"
    ack = Ack(contrl="18", mdn=None, http=422)


class DocumentRejected(DocumentError):
    """The document failed one or more checks; ``errors`` holds every one of them."""

    code = "REJECTED"

    def __init__(self, errors: list[GatewayError], message: str | None = None) -> None:
        real = [e for e in errors if e.severity == "error"] or errors
        first = real[0] if real else None
        text = message or (
            f"document rejected: {len(real)} error(s); first: {first.message}" if first else "document rejected"
        )
        super().__init__(text, location=first.location if first else None)
        self.errors = list(errors)
        if first is not None:
            self.ack = first.ack  # type: ignore[misc]


class InputTooLargeError(DocumentError):
    """The input is over a configured size, depth or count limit."""

    code = "TOO_LARGE"
    ack = Ack(contrl="18", mdn="error: unexpected-processing-error", http=413)


class UnknownFormatError(DocumentError):
    """The bytes are none of the formats the gateway reads."""

    code = "UNKNOWN_FORMAT"
    ack = Ack(contrl="4", mdn=None, http=415)


class CharacterSetError(DocumentError):
    """Characters outside the declared repertoire, or bytes that do not decode as declared."""

    code = "CHARSET"
    ack = Ack(contrl="21", mdn=None, http=422)


class SyntaxError_(DocumentError):  # trailing underscore: never shadow the builtin
    """The document cannot be tokenized or parsed."""

    code = "SYNTAX"
    ack = Ack(contrl="18", mdn=None, http=400)


class EdifactSyntaxError(SyntaxError_):
    """An EDIFACT interchange breaks ISO 9735 syntax (separators, release characters, service segments)."""

    code = "EDIFACT_SYNTAX"


class XmlSyntaxError(SyntaxError_):
    """The XML is not well-formed."""

    code = "XML_SYNTAX"


class ForbiddenXmlConstructError(SyntaxError_):
    """A DTD, entity declaration, external reference or XInclude: refused, never expanded or fetched."""

    code = "XML_FORBIDDEN"


class JsonSyntaxError(SyntaxError_):
    """The JSON cannot be parsed."""

    code = "JSON_SYNTAX"


class EnvelopeError(DocumentError):
    """The interchange envelope (UNB/UNZ, UNG/UNE, UNH/UNT) is wrong."""

    code = "ENVELOPE"
    ack = Ack(contrl="4", mdn=None, http=422)


class ControlReferenceError(EnvelopeError):
    """A trailer's control reference does not match its header (UNT/UNH, UNE/UNG, UNZ/UNB)."""

    code = "CONTROL_REFERENCE"
    ack = Ack(contrl="28", mdn=None, http=422)


class ControlCountError(EnvelopeError):
    """A trailer's count does not match what was received (UNT segments, UNE/UNZ messages or groups)."""

    code = "CONTROL_COUNT"
    ack = Ack(contrl="29", mdn=None, http=422)


class UnsupportedSyntaxError(EnvelopeError):
    """Syntax identifier, version or message version the gateway does not support."""

    code = "UNSUPPORTED_SYNTAX"
    ack = Ack(contrl="2", mdn=None, http=422)


class StructureError(DocumentError):
    """The message structure is wrong (segments, groups, elements; XSD; JSON Schema)."""

    code = "STRUCTURE"
    ack = Ack(contrl="6", mdn=None, http=422)


class MissingError(StructureError):
    """A mandatory segment, group, element or component is missing."""

    code = "MISSING"
    ack = Ack(contrl="13", mdn=None, http=422)


class UnexpectedError(StructureError):
    """A segment, element or component is not allowed here."""

    code = "UNEXPECTED"
    ack = Ack(contrl="15", mdn=None, http=422)


class TooManyRepeatsError(StructureError):
    """More repetitions (or constituents) than the definition allows."""

    code = "TOO_MANY"
    ack = Ack(contrl="35", mdn=None, http=422)


class SchemaError(StructureError):
    """An XSD or JSON Schema constraint failed."""

    code = "SCHEMA"
    ack = Ack(contrl=None, mdn=None, http=422)


class RepresentationError(StructureError):
    """A value's type does not fit its representation (a, n, an; decimal mark; date format)."""

    code = "REPRESENTATION"
    ack = Ack(contrl="37", mdn=None, http=422)


class ValueTooLongError(RepresentationError):
    """A value is longer than its maximum length."""

    code = "TOO_LONG"
    ack = Ack(contrl="39", mdn=None, http=422)


class ValueTooShortError(RepresentationError):
    """A value is shorter than its minimum length."""

    code = "TOO_SHORT"
    ack = Ack(contrl="40", mdn=None, http=422)


class CodeListError(DocumentError):
    """A code is not in its code list (ISO 4217, ISO 3166, Rec 20, UNCL 5305, 1001 …)."""

    code = "CODE_LIST"
    ack = Ack(contrl="12", mdn=None, http=422)


class FieldError(DocumentError):
    """A canonical field is missing or has the wrong type or value."""

    code = "FIELD"
    ack = Ack(contrl=None, mdn=None, http=422)


class BusinessRuleError(DocumentError):
    """A business rule failed (line amounts, totals, VAT breakdown: EN 16931 BR-CO-xx and the like)."""

    code = "BUSINESS_RULE"
    ack = Ack(contrl=None, mdn=None, http=422)


class MappingError(DocumentError):
    """A mapping could not produce a required value from the document."""

    code = "MAPPING"
    ack = Ack(contrl=None, mdn=None, http=422)


class UnknownDocumentTypeError(DocumentError):
    """The document is readable but of a type the gateway (or this partner) does not exchange."""

    code = "UNKNOWN_DOCUMENT_TYPE"
    ack = Ack(contrl="14", mdn=None, http=422)


class DuplicateDocumentError(DocumentError):
    """The same interchange or document was already received."""

    code = "DUPLICATE"
    ack = Ack(contrl="26", mdn="warning: duplicate-document", http=409)


class UnmatchedAcknowledgmentError(DocumentError):
    """An acknowledgment (CONTRL, APERAK, MDN) refers to something the gateway never sent."""

    code = "UNMATCHED_ACK"
    ack = Ack(contrl=None, mdn=None, http=422)


class PartnerRejectedError(DocumentError):
    """A partner rejected a document the gateway sent: a CONTRL or APERAK reject, a negative MDN, a Peppol
    invoice response saying ``RE``. Recorded on the document that was sent (the partner's reasons in
    ``details``); the acknowledgment itself is processed normally and reaches the ERP as a status document."""

    code = "PARTNER_REJECTED"
    ack = Ack(contrl=None, mdn=None, http=422)


class MimeFormatError(DocumentError):
    """An AS2 message or MDN is not a readable MIME entity (missing AS2 headers, broken multipart, bad base64)."""

    code = "MIME_FORMAT"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=400)


# --- partners -------------------------------------------------------------------------------------


class PartnerError(GatewayError):
    """The sender or recipient cannot be established."""

    code = "PARTNER"
    ack = Ack(contrl="23", mdn="error: unknown-trading-partner", http=403)


class UnknownPartnerError(PartnerError):
    """No partner profile matches the sender's identifiers."""

    code = "UNKNOWN_PARTNER"


class UnknownRecipientError(PartnerError):
    """The interchange is addressed to someone other than this gateway's company."""

    code = "UNKNOWN_RECIPIENT"
    ack = Ack(contrl="7", mdn="error: unknown-trading-partner", http=403)


# --- security -------------------------------------------------------------------------------------


class SecurityError(GatewayError):
    """A signature, certificate, encryption or authentication check failed: the document is quarantined."""

    code = "SECURITY"
    ack = Ack(contrl="27", mdn="error: authentication-failed", http=403)


class SignatureRequiredError(SecurityError):
    """The partner's policy requires a signature and the document has none."""

    code = "SIGNATURE_REQUIRED"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=403)


class EncryptionRequiredError(SecurityError):
    """The partner's policy requires encryption and the document came in clear."""

    code = "ENCRYPTION_REQUIRED"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=403)


class SignatureInvalidError(SecurityError):
    """The signature value does not verify with the signer's key."""

    code = "SIGNATURE_INVALID"


class ContentTamperedError(SecurityError):
    """The content does not match the signed digest (MIC)."""

    code = "CONTENT_TAMPERED"
    ack = Ack(contrl="27", mdn="error: integrity-check-failed", http=403)


class CertificateUntrustedError(SecurityError):
    """The signer's certificate is unknown, or its chain does not end at a trusted root."""

    code = "CERT_UNTRUSTED"


class CertificateExpiredError(SecurityError):
    """The signer's certificate has expired."""

    code = "CERT_EXPIRED"


class CertificateNotYetValidError(SecurityError):
    """The signer's certificate is not valid yet."""

    code = "CERT_NOT_YET_VALID"


class DecryptionError(SecurityError):
    """The content cannot be decrypted with any of the gateway's keys."""

    code = "DECRYPTION_FAILED"
    ack = Ack(contrl="27", mdn="error: decryption-failed", http=400)


class DecompressionError(SecurityError):
    """Compressed content (RFC 5402) cannot be decompressed."""

    code = "DECOMPRESSION_FAILED"
    ack = Ack(contrl="27", mdn="error: decompression-failed", http=400)


class UnsupportedAlgorithmError(SecurityError):
    """An algorithm the policy does not allow (or the gateway does not implement)."""

    code = "UNSUPPORTED_ALGORITHM"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=400)


class AuthenticationError(SecurityError):
    """An API, dashboard or HTTP endpoint caller is not authenticated or not allowed."""

    code = "UNAUTHENTICATED"
    ack = Ack(contrl=None, mdn="error: authentication-failed", http=401)


class PermissionDeniedError(SecurityError):
    """The caller is authenticated but their role does not allow this (or the CSRF token is missing)."""

    code = "FORBIDDEN"
    ack = Ack(contrl=None, mdn="error: authentication-failed", http=403)


# --- routing --------------------------------------------------------------------------------------


class RoutingError(GatewayError):
    """The document is valid but the gateway does not know where it goes."""

    code = "ROUTING"
    ack = Ack(contrl=None, mdn=None, http=422)


class UnroutableError(RoutingError):
    """No routing rule matches: the document is parked with the reason, and can be replayed."""

    code = "UNROUTABLE"


# --- delivery and lookups ---------------------------------------------------------------------------


class DeliveryRefusedError(GatewayError):
    """The destination refused the document for good (an HTTP 4xx, say): it is dead-lettered at once."""

    code = "DELIVERY_REFUSED"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=502)


class AcknowledgmentOverdueError(GatewayError):
    """A document the gateway sent has no acknowledgment from its partner past the profile's
    ``acknowledgments.deadline_minutes``: it is flagged on the message and alerted (it stays delivered)."""

    code = "ACK_OVERDUE"
    ack = Ack(contrl=None, mdn=None, http=504)


class NotFoundError(GatewayError):
    """A message or another record asked for by its id does not exist (or was removed by retention)."""

    code = "NOT_FOUND"
    ack = Ack(contrl=None, mdn=None, http=404)


# --- operations -----------------------------------------------------------------------------------


class OperationError(GatewayError):
    """An operator's request (API, dashboard, command line) cannot be carried out as asked."""

    code = "OPERATION"
    ack = Ack(contrl=None, mdn=None, http=400)


class ActionNotAllowedError(OperationError):
    """The action does not apply to the message in its current state (e.g. releasing one not quarantined)."""

    code = "ACTION_NOT_ALLOWED"
    ack = Ack(contrl=None, mdn=None, http=409)


# --- transient ------------------------------------------------------------------------------------


class TransientError(GatewayError):
    """A condition that passes: the message stays where it is and is tried again."""

    code = "TRANSIENT"
    retryable = True
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=503)


class StoreUnavailableError(TransientError):
    """The store cannot be reached or is locked."""

    code = "STORE_UNAVAILABLE"


class BrokerUnavailableError(TransientError):
    """The message broker cannot be reached or did not confirm a publish."""

    code = "BROKER_UNAVAILABLE"


class DeliveryError(TransientError):
    """Delivering to a destination failed; the outbox relay tries again with backoff."""

    code = "DELIVERY_FAILED"


class EndpointUnavailableError(DeliveryError):
    """The partner endpoint is down, or its circuit breaker is open."""

    code = "ENDPOINT_UNAVAILABLE"
